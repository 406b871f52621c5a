"""Replays the helpdesk mix of scripts/incidents/mix.json against `paten serve` and checks surge detection, with the
standard library only. Used by scripts/incidents.sh.

usage: replay.py terms                                  the Jaccard table of the mix, offline (no server)
       replay.py sqlite BASE ADMIN_TOKEN                  part 1: one instance, the whole incident life cycle
       replay.py pg-burst BASE_A BASE_B ADMIN STATE       part 2: the burst over two instances, partly concurrent
       replay.py pg-restart BASE ADMIN STATE              part 2: after a restart, one more rewording joins

Output: one line per check, "check<TAB>name<TAB>expected<TAB>actual" (counted by scripts/check.sh's `check`), and
other lines to print as they are. The exit status is 0 unless the driver itself could not go on.

The grouping report reads the stored signatures (group, terms, band keys) when it can: from the SQLite file named by
INCIDENTS_SQLITE, or from PostgreSQL at PATEN_DB_URL with the psql named by INCIDENTS_PSQL. Else the terms are
computed here again, roughly as Sources/PatenCore/Similarity.swift and KeywordText.swift do (folded
words minus the built-in stop words, read from Similarity.swift), to report which questions are (not) alike.
"""
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from patenapi import call  # noqa: E402

# INCIDENTS_MIX names another mix of the same shape (to try one out); scripts/incidents/mix.json by default.
MIX = json.load(open(os.environ.get("INCIDENTS_MIX") or os.path.join(HERE, "mix.json"), encoding="utf-8"))
# surge.similarity of the policy the server runs with (for the grouping diagnosis printed on a failure)
SIMILARITY = json.load(open(os.environ.get("PATEN_POLICY") or os.path.join(
    os.path.dirname(__file__), "..", "..", "Config", "policy.json"), encoding="utf-8"))["surge"]["similarity"]


def check(name, expected, actual):
    print(f"check\t{name}\t{expected}\t{actual}", flush=True)


def say(text):
    print(text, flush=True)


class Stop(Exception):
    """The driver cannot go on (an answer it needs is missing)."""


def expect(status, wanted, body, what):
    if status != wanted:
        raise Stop(f"{what}: HTTP {status} {json.dumps(body)[:300]}")
    return body


# MARK: Terms, as the server computes them (roughly)

SPELLED = {"ß": "ss", "ł": "l", "ı": "i", "ø": "o", "đ": "d", "æ": "ae", "œ": "oe", "þ": "th", "ħ": "h"}


def fold_words(text):
    """The folded words: lowercase, marks dropped, ß as ss, ae/oe/ue as a/o/u, split at anything else."""
    words, word = [], []

    def add(ch):
        if ch == "e" and word and word[-1] in "aou":
            return
        word.append(ch)

    def end():
        if word:
            words.append("".join(word))
            word.clear()

    for ch in text:
        if ch.isascii():
            if ch.isalnum():
                add(ch.lower())
            else:
                end()
            continue
        if ch in SPELLED:
            for c in SPELLED[ch]:
                add(c)
            continue
        for part in unicodedata.normalize("NFKD", ch.lower()):
            if part.isascii():
                if part.isalnum():
                    add(part.lower())
                else:
                    end()
            elif part in SPELLED:
                for c in SPELLED[part]:
                    add(c)
            elif unicodedata.category(part) in ("Mn", "Mc", "Me", "Cf"):
                continue
            elif unicodedata.category(part)[0] in "LN":
                add(part)
            else:
                end()
    end()
    return words


def stop_words():
    source = open(os.path.join(HERE, "..", "..", "Sources", "PatenCore", "Similarity.swift"), encoding="utf-8").read()
    words = set()
    for block in re.findall(r'"[a-z]{2}": """(.*?)"""', source, re.S):
        for word in block.replace("\\\n", " ").split():
            words.update(fold_words(word))
    return words


STOP = stop_words()


def terms(question):
    seen = []
    for word in fold_words(question["subject"] + "\n" + question["body"]):
        if len(word.encode()) > 1 and word not in STOP and word not in seen:
            seen.append(word)
    return sorted(seen[:100])


def jaccard(left, right):
    a, b = set(left), set(right)
    return len(a & b) / len(a | b) if a | b else 0.0


def table(questions, keys=None):
    """For each question of `keys` (all by default): its terms, and every earlier question at least 0.2 alike."""
    lines = []
    for index, question in enumerate(questions):
        if keys is not None and question["key"] not in keys:
            continue
        mine = terms(question)
        near = sorted(
            ((jaccard(mine, terms(other)), other["key"]) for other in questions[:index]), reverse=True
        )
        shown = ", ".join(f"{key} {value:.2f}" for value, key in near if value >= 0.2) or "-"
        best = near[0] if near else (0, "-")
        lines.append(
            f"  {question['key']:4} {question['kind']:9} best {best[0]:.2f} ({best[1]}); >=0.2: {shown}\n"
            f"       terms: {' '.join(mine)}"
        )
    return lines


# MARK: The API

def ask(base, admin, question, customer):
    body = {
        "subject": question["subject"], "body": question["body"], "language": question["language"],
        "customer": {"id": customer, "name": f"Customer {customer}"},
    }
    status, answer = call(base, "POST", "/v1/questions", admin, body)
    return expect(status, 201, answer, f"ask {question['key']}")["id"]


def incidents(base, token):
    status, body = call(base, "GET", "/v1/incidents", token)
    return expect(status, 200, body, "list incidents")["incidents"]


def incident_detail(base, token, incident_id):
    status, body = call(base, "GET", f"/v1/incidents/{incident_id}?questions_limit=200", token)
    return expect(status, 200, body, "incident detail")


def question_detail(base, token, question_id):
    status, body = call(base, "GET", f"/v1/questions/{question_id}", token)
    return expect(status, 200, body, f"question {question_id}")


def stored_signatures():
    """The server's signatures by question id: (group id, terms, band keys); empty when they cannot be read."""
    rows = []
    try:
        if os.environ.get("INCIDENTS_SQLITE"):
            db = sqlite3.connect(f"file:{os.environ['INCIDENTS_SQLITE']}?mode=ro", uri=True)
            for question_id, group_id, stored, blob in db.execute(
                    "SELECT question_id, group_id, terms, bands FROM question_signatures"):
                bands = {int.from_bytes(blob[i:i + 8], "big", signed=True) for i in range(0, len(blob), 8)}
                rows.append((question_id, group_id, stored, bands))
            db.close()
        elif os.environ.get("INCIDENTS_PSQL") and os.environ.get("PATEN_DB_URL"):
            out = subprocess.run(
                [os.environ["INCIDENTS_PSQL"], os.environ["PATEN_DB_URL"], "-XAt", "-F", "\t", "-c",
                 "SELECT question_id, group_id, terms, array_to_string(bands, ',') FROM question_signatures"],
                capture_output=True, text=True, check=True).stdout
            for line in out.splitlines():
                question_id, group_id, stored, bands = line.split("\t")
                rows.append((question_id, group_id, stored, {int(b) for b in bands.split(",") if b}))
    except (sqlite3.Error, subprocess.CalledProcessError, OSError, ValueError) as error:
        say(f"(stored signatures unreadable: {error}; terms recomputed in Python)")
        return {}
    return {row[0]: (row[1], row[2].split(), row[3]) for row in rows}


def grouping_report(questions, ids, linked):
    """Which outage questions were (not) linked and which unrelated ones were: each one's group as stored at intake,
    and the Jaccard index with each earlier outage question at least as similar as the policy asks (with whether
    the two share a MinHash band, i.e. whether intake could find the pair at all)."""
    stored = stored_signatures()
    key_of = {question_id: key for key, question_id in ids.items()}
    by_key = {q["key"]: q for q in questions}

    def terms_of(key):
        return stored[ids[key]][1] if ids.get(key) in stored else terms(by_key[key])

    def group_of(key):
        if ids.get(key) not in stored:
            return "?"
        group = stored[ids[key]][0]
        return key_of.get(group, group)

    def shares_band(left, right):
        if ids.get(left) not in stored or ids.get(right) not in stored:
            return "?"
        return "band" if stored[ids[left]][2] & stored[ids[right]][2] else "NO shared band"

    outage = [q["key"] for q in questions if q["kind"].startswith("outage") or q["kind"] == "later_de"]
    outage = [k for k in outage if k in ids]
    linked_keys = {key for key, qid in ids.items() if qid in linked}
    source = "stored signatures" if stored else "terms recomputed in Python"
    say(f"grouping ({source}; group = the key of the group's first question; similarity threshold {SIMILARITY}):")
    for position, key in enumerate(outage):
        mine = terms_of(key)
        alike = [(jaccard(mine, terms_of(o)), o) for o in outage[:position]]
        alike.sort(reverse=True)
        shown = ", ".join(f"{o} {v:.2f} ({shares_band(key, o)})" for v, o in alike if v >= SIMILARITY) or "none"
        best = f"{alike[0][0]:.2f} ({alike[0][1]})" if alike else "-"
        state = "linked" if key in linked_keys else "NOT linked"
        say(f"  {key:4} {state:10} group {group_of(key):4} best earlier {best}; earlier >= {SIMILARITY}: {shown}")
        say(f"       [{by_key[key]['subject']}] terms: {' '.join(mine)}")
    for question in questions:
        key = question["key"]
        if question["kind"] != "unrelated" or key not in ids:
            continue
        mine = terms_of(key)
        best = max(((jaccard(mine, terms_of(o)), o) for o in outage), default=(0, "-"))
        if key in linked_keys or best[0] >= 0.25 or group_of(key) in outage:
            state = "LINKED" if key in linked_keys else "not linked"
            say(f"  {key:4} unrelated {state:10} group {group_of(key):4} best with the outage {best[0]:.2f} "
                f"({best[1]})  [{question['subject']}]")


# MARK: Part 1, SQLite

def part_sqlite(base, admin):
    questions = MIX["questions"]
    ids = {}
    for number, question in enumerate(questions, 1):
        ids[question["key"]] = ask(base, admin, question, f"cust-{number:03}")
    by_kind = lambda kind: [q["key"] for q in questions if q["kind"] == kind]  # noqa: E731
    german, english, unrelated = by_kind("outage_de"), by_kind("outage_en"), by_kind("unrelated")
    say(f"replayed {len(questions)} questions: {len(unrelated)} unrelated, {len(german)} German and "
        f"{len(english)} English rewordings of the outage")

    listed = incidents(base, admin)
    check("exactly one incident opened by the burst", 1, len(listed))
    later = list(MIX["later_de"])
    posted = list(questions)
    while not listed and later:
        # No incident: the outage goes on, as outages do; see whether later rewordings open one.
        extra = later.pop(0)
        ids[extra["key"]] = ask(base, admin, extra, f"cust-{extra['key']}")
        posted.append(extra)
        listed = incidents(base, admin)
        say(f"no incident after the burst; one more rewording {extra['key']} {extra['subject']!r}: "
            f"{len(listed)} incident(s) now")
    if not listed:
        grouping_report(posted, ids, set())
        raise Stop("no incident to go on with")
    incident_id = listed[0]["id"]
    detail = incident_detail(base, admin, incident_id)
    linked = {q["id"] for q in detail["questions"]}
    check("every German rewording is linked to it", "", " ".join(k for k in german if ids[k] not in linked))
    check("no unrelated question is linked to it", "", " ".join(k for k in unrelated if ids[k] in linked))
    auto_en = [k for k in english if ids[k] in linked]
    say(f"English rewordings linked at intake: {' '.join(auto_en) or 'none'} (matching is by words; "
        f"the rest are linked by hand)")
    check("the incident's question_count is the linked questions", len(linked), detail["incident"]["question_count"])
    grouping_report(posted, ids, linked)

    for key in english:
        if ids[key] in linked:
            continue
        status, body = call(base, "POST", f"/v1/incidents/{incident_id}/questions", admin, {"question_id": ids[key]})
        check(f"staff link the English rewording {key} by hand", 200, status)
    detail = incident_detail(base, admin, incident_id)
    linked = {q["id"] for q in detail["questions"]}
    check("the English rewordings are linked now", "", " ".join(k for k in english if ids[k] not in linked))
    check("hand links say so", sorted(set(english) - set(auto_en)),
          sorted(k for k in english if any(q["id"] == ids[k] and q["link"] == "manual" for q in detail["questions"])))

    update = ("Wir haben eine Störung der mobilen Daten im Raum Berlin/München. Techniker arbeiten daran; wir melden uns "
              "bis 12 Uhr wieder. / Mobile data is down in the Berlin and Munich area; engineers are on it, next "
              "update by noon.")
    status, body = call(base, "POST", f"/v1/incidents/{incident_id}/updates", admin, {"body": update})
    check("staff post an update", 201, status)
    open_ids = [q["id"] for q in detail["questions"] if q["state"] != "resolved"]
    missing_reply, wrong_brief = [], []
    for question_id in open_ids:
        q = question_detail(base, admin, question_id)
        if not any(m["author_kind"] == "helper" and m["body"] == update for m in q["messages"]):
            missing_reply.append(question_id)
        brief = q["question"].get("incident") or {}
        if brief.get("id") != incident_id or (brief.get("latest_update") or {}).get("body") != update:
            wrong_brief.append(question_id)
    check(f"each of the {len(open_ids)} linked open questions has the update as a helper message", "",
          " ".join(missing_reply))
    check("and question.incident.latest_update.body is the update", "", " ".join(wrong_brief))

    if not later:
        raise Stop("no later rewording left to ask after the update")
    late = later.pop(0)
    ids[late["key"]] = ask(base, admin, late, f"cust-{late['key']}")
    q = question_detail(base, admin, ids[late["key"]])
    check(f"one more German rewording ({late['key']}) joins the incident at intake", incident_id,
          (q["question"].get("incident") or {}).get("id"))
    check("and has the update as a reply at once", True,
          any(m["author_kind"] == "helper" and m["body"] == update for m in q["messages"]))
    detail = incident_detail(base, admin, incident_id)
    check("it is listed with the incident's questions as joined", "joined",
          next((x["link"] for x in detail["questions"] if x["id"] == ids[late["key"]]), "absent"))
    if ids[late["key"]] not in {y["id"] for y in detail["questions"]}:
        grouping_report(posted + [late], ids, {y["id"] for y in detail["questions"]})

    summary = detail["incident"]
    check("top_terms is not empty", True, len(summary["top_terms"]) > 0)
    check("expected is 0 on a fresh database", 0, summary["expected"])
    check("observed is at least surge.min_questions (5)", True, summary["observed"] >= 5)
    say(f"incident {incident_id}: title {summary['title']!r}; top terms {summary['top_terms']}; observed "
        f"{summary['observed']}, expected {summary['expected']}, {summary['question_count']} questions, languages "
        f"{summary['languages']}, topics {summary['topics']}")
    check("incidents are listed for staff only, not to a volunteer", 403, volunteer_list(base, admin))

    final = "Die Störung ist behoben, mobile Daten funktionieren wieder. Bitte starten Sie Ihr Handy einmal neu. / " \
            "Fixed: mobile data works again; please restart your phone once."
    status, body = call(base, "POST", f"/v1/incidents/{incident_id}/resolve", admin,
                        {"body": final, "resolve_questions": True})
    check("staff resolve the incident with its questions", "200 resolved", f"{status} {body.get('state')}")
    detail = incident_detail(base, admin, incident_id)
    check("every linked question is resolved", "", " ".join(x["id"] for x in detail["questions"]
                                                           if x["state"] != "resolved"))
    check("the incident has no open questions left", 0, detail["incident"]["open_questions"])

    probe = MIX["probe_de"]
    probe_id = ask(base, admin, probe, "cust-probe")
    status, body = call(base, "GET", f"/v1/questions/{probe_id}/similar", admin)
    check("a new similar question: GET /similar answers", 200, status)
    resolved_ids = {x["id"] for x in detail["questions"]}
    offered = [s for s in body.get("similar", []) if s["question"]["id"] in resolved_ids and s.get("answer")]
    check("it offers at least one solved question of the incident, with an answer", True, len(offered) >= 1)
    if offered:
        say(f"similar: {len(body['similar'])} offered, best {offered[0]['similarity']} "
            f"{offered[0]['question']['subject']!r} answered {offered[0]['answer']['body'][:60]!r}...")
    after = incidents(base, admin)
    say(f"incidents after the probe: {len(after)} ({', '.join(i['state'] for i in after)})")


def volunteer_list(base, admin):
    status, helper = call(base, "POST", "/v1/helpers", admin,
                          {"handle": "vol-incidents", "role": "volunteer", "skills": ["mobile_data"],
                           "languages": ["de"]})
    expect(status, 201, helper, "create a volunteer")
    status, token = call(base, "POST", f"/v1/helpers/{helper['id']}/tokens", admin, {"label": "incidents"})
    expect(status, 201, token, "volunteer token")
    return call(base, "GET", "/v1/incidents", token["token"])[0]


# MARK: Part 2, two instances on PostgreSQL

def part_pg_burst(base_a, base_b, admin, state_file):
    questions = MIX["questions"]
    german = [q for q in questions if q["kind"] == "outage_de"]
    unrelated = [q for q in questions if q["kind"] == "unrelated"][:24]
    ids, errors, posted = {}, [], []
    bases = [base_a, base_b]

    def post(question, base):
        ids[question["key"]] = ask(base, admin, question, f"pg-{question['key']}")
        posted.append(question)

    # Unrelated background, then the first four rewordings one after another, alternating instances, each after
    # three unrelated questions through the other instance.
    for index, question in enumerate(unrelated[:8]):
        post(question, bases[index % 2])
    rest = unrelated[8:]
    for index, question in enumerate(german[:4]):
        for other in rest[index * 3:index * 3 + 3]:
            post(other, bases[(index + 1) % 2])
        post(question, bases[index % 2])
    # Then the last four at the same moment, two through each instance, with four unrelated ones alongside.
    concurrent = [(q, bases[i % 2]) for i, q in enumerate(german[4:])] + \
                 [(q, bases[(i + 1) % 2]) for i, q in enumerate(rest[12:16])]
    barrier = threading.Barrier(len(concurrent))
    lock = threading.Lock()

    def racer(question, base):
        try:
            barrier.wait(timeout=30)
            question_id = ask(base, admin, question, f"pg-{question['key']}")
            with lock:
                ids[question["key"]] = question_id
                posted.append(question)
        except Exception as error:  # noqa: BLE001 - reported as a check
            errors.append(f"{question['key']}: {error}")

    threads = [threading.Thread(target=racer, args=pair) for pair in concurrent]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    check("the 4 concurrent rewordings and 4 unrelated questions were taken in", "", "; ".join(errors))
    for question in rest[16:]:
        post(question, base_b)
    say(f"posted {len(ids)} questions over both instances: {len(german)} German rewordings (4 sequential, "
        f"4 concurrent), {len(ids) - len(german)} unrelated")

    listed_a = incidents(base_a, admin)
    check("exactly one incident in the database after the burst (instance A)", 1, len(listed_a))
    later = list(MIX["later_de"])
    turn = 0
    while not listed_a and later:
        extra = later.pop(0)
        post(extra, bases[turn % 2])
        turn += 1
        listed_a = incidents(base_a, admin)
        say(f"no incident after the burst; one more rewording {extra['key']} {extra['subject']!r}: "
            f"{len(listed_a)} incident(s) now")
    listed_b = incidents(base_b, admin)
    check("instance B lists the same incidents", [i["id"] for i in listed_a], [i["id"] for i in listed_b])
    linked = set()
    if listed_a:
        detail = incident_detail(base_b, admin, listed_a[0]["id"])
        linked = {q["id"] for q in detail["questions"]}
        say(f"incident {listed_a[0]['id']}: {detail['incident']['title']!r}, top terms {detail['incident']['top_terms']}, "
            f"observed {detail['incident']['observed']}, {detail['incident']['question_count']} questions")
    check("it holds all German rewordings of the burst", "",
          " ".join(q["key"] for q in german if ids.get(q["key"]) not in linked))
    check("and no unrelated question", "", " ".join(q["key"] for q in unrelated if ids.get(q["key"]) in linked))
    if len(listed_a) != 1 or any(ids.get(q["key"]) not in linked for q in german):
        for incident in listed_a:
            members = {q["id"] for q in incident_detail(base_a, admin, incident["id"])["questions"]}
            say(f"  incident {incident['id']}: {' '.join(k for k, v in ids.items() if v in members)}")
        grouping_report(posted, ids, linked)
    json.dump({"incident": listed_a[0]["id"] if listed_a else None, "ids": ids, "later": [q["key"] for q in later]},
              open(state_file, "w"))


def part_pg_restart(base, admin, state_file):
    state = json.load(open(state_file))
    if not state["incident"]:
        raise Stop("no incident from the burst to join")
    if not state["later"]:
        raise Stop("no later rewording left to ask after the restart")
    question = next(q for q in MIX["later_de"] if q["key"] == state["later"][0])
    question_id = ask(base, admin, question, f"pg-{question['key']}")
    q = question_detail(base, admin, question_id)
    check(f"after the restart, one more rewording ({question['key']}) joins the same incident", state["incident"],
          (q["question"].get("incident") or {}).get("id"))
    check("still exactly one incident", 1, len(incidents(base, admin)))


def main(argv):
    try:
        if argv[:1] == ["terms"]:
            for line in table(MIX["questions"] + MIX["later_de"] + [MIX["probe_de"]]):
                say(line)
        elif argv[:1] == ["sqlite"] and len(argv) == 3:
            part_sqlite(argv[1], argv[2])
        elif argv[:1] == ["pg-burst"] and len(argv) == 5:
            part_pg_burst(*argv[1:])
        elif argv[:1] == ["pg-restart"] and len(argv) == 4:
            part_pg_restart(*argv[1:])
        else:
            sys.exit(__doc__)
    except Stop as stop:
        say(f"replay.py: stopped: {stop}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
