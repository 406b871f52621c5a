# Shared by the end-to-end scripts (sourced, not run): counts and prints checks.
passed=0
failed=0

check() { # check NAME EXPECTED ACTUAL
    if [ "$2" = "$3" ]; then
        passed=$((passed + 1))
        echo "  ok   $1"
    else
        failed=$((failed + 1))
        echo "  FAIL $1: expected '$2', got '$3'"
    fi
}
