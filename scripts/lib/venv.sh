# Shared by the scripts that need Python packages from PyPI (sourced, not run).
# python_venv DIR NAME==VERSION...: makes DIR a virtual environment holding exactly those versions, unless it
# already does. Debian's own python3 needs its python3-venv package for `-m venv`; as root it is installed.
python_venv() {
    local venv=$1
    shift
    if "$venv/bin/python" - "$@" 2>/dev/null <<'PY'
import importlib.metadata as metadata, sys
sys.exit(0 if all(metadata.version(name) == version for name, version in (r.split("==") for r in sys.argv[1:])) else 1)
PY
    then
        return 0
    fi
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    if ! python3 -m venv "$venv" 2>/dev/null; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
            rm -rf "$venv" && python3 -m venv "$venv"
        else
            echo "$(basename "$0"): 'python3 -m venv' failed; install python3-venv" >&2
            return 1
        fi
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$@"
}
