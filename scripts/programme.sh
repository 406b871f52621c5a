#!/usr/bin/env bash
# End-to-end walk through the volunteer programme (docs/programme.md) on the real binary: `paten serve` on SQLite
# with a policy copy whose programme has small thresholds, then answers, credit, ratings, a level-up that unlocks a
# topic, an auto-pause and its resumption, a payout and the reports, over HTTP (curl) and the CLI.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/check.sh
bin=${PATEN_BIN:-$(paten_bin)}
work="$(mktemp -d)"
export XDG_CONFIG_HOME="$work/config"
unset PATEN_URL PATEN_TOKEN
server_pid=""

cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

json() { # json FIELD.PATH < body (lists, objects and booleans as JSON; overrides check.sh's)
    python3 -c 'import json,sys
value = json.load(sys.stdin)
for part in sys.argv[1].split("."):
    value = value[int(part)] if isinstance(value, list) else value.get(part)
print("" if value is None else (json.dumps(value) if isinstance(value, (list, dict, bool)) else value))' "$1"
}

code() { json error.code <"$work/body"; } # the error code of the last answer

rate() { # rate QUESTION SCORE SOLVED: the customer rates through the link staff see on the question
    local url
    url=$(status GET "/v1/questions/$1" "$staff" >/dev/null; json rating_url <"$work/body")
    curl -s -o "$work/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        --data-binary "{\"score\":$2,\"solved\":$3}" "$url"
}

ask() { # ask SUBJECT TOPIC CUSTOMER -> the new question's id (staff submit it)
    status POST /v1/questions "$staff" \
        "{\"subject\":\"$1\",\"body\":\"Please help.\",\"topic\":\"$2\",\"customer\":{\"id\":\"$3\",\"name\":\"Customer $3\"}}" \
        >/dev/null
    json id <"$work/body"
}

payout_line() { # payout_line HANDLE < payout CSV: the helper's line as "id handle points amount currency"
    python3 -c 'import csv,sys
for row in csv.DictReader(sys.stdin):
    if row["handle"] == sys.argv[1]:
        print(row["helper_id"], row["handle"], row["points"], float(row["amount"]), row["currency"])' "$1"
}

port=$(free_port)
base="http://127.0.0.1:$port"
# Small thresholds: level helper at 20 points and one accepted answer, roaming unlocked by it, a payout from 10
# points, a pause after two ratings of 2 or less, review of each volunteer's first accepted answer.
python3 - "$work/policy.json" <<'PY'
import json, sys
policy = json.load(open("Config/policy.json"))
policy["programme"] = {
    "points": {"accepted_answer": 15, "good_rating": 5, "confirmed_solved": 5, "fast_first_reply": 2},
    "daily_cap": 1000, "per_question_cap": 100,
    "levels": [{"id": "newcomer", "points": 0, "accepted": 0}, {"id": "helper", "points": 20, "accepted": 1},
               {"id": "expert", "points": 1000, "accepted": 50}],
    "badges": [{"id": "first_answer", "name": "First accepted answer", "accepted": 1, "points": 10},
               {"id": "topic_expert", "name": "Topic expert", "accepted": 1, "in_topic": True,
                "min_average_rating": 4.0}],
    "pause": {"after": 2, "window": "14d", "max_score": 2},
    "probation_answers": 1,
    "payout": {"min_points": 10, "value_per_point": 0.01, "currency": "GBP"},
    "staff_cost_per_question": 6.0,
}
for topic in policy["topics"]:
    if topic["name"] == "roaming":
        topic["unlock"] = {"level": "helper"}
json.dump(policy, open(sys.argv[1], "w"))
PY
"$bin" serve --port "$port" --data-dir "$work/data" --policy "$work/policy.json" --log-level warning \
    2>"$work/serve.log" &
server_pid=$!
started() { grep -q "paten listening" "$work/serve.log" 2>/dev/null || ! kill -0 "$server_pid" 2>/dev/null; }
wait_until 20 started || true
kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log"; echo "programme: server died at start"; exit 1; }
grep -q "paten listening" "$work/serve.log" || { cat "$work/serve.log"; echo "programme: server did not start"; exit 1; }
admin=$(sed -n 's/^admin token: //p' "$work/serve.log")
echo "server on $base (pid $server_pid)"

echo "accounts"
account() { # account HANDLE ROLE -> "id token"
    status POST /v1/helpers "$admin" "{\"handle\":\"$1\",\"role\":\"$2\",\"skills\":[\"roaming\",\"mobile_data\"],\"languages\":[\"en\"]}" >/dev/null
    local id
    id=$(json id <"$work/body")
    status POST "/v1/helpers/$id/tokens" "$admin" >/dev/null
    echo "$id $(json token <"$work/body")"
}
read -r vera_id vera <<<"$(account vera volunteer)"
read -r otto_id otto <<<"$(account otto volunteer)"
read -r sam_id staff <<<"$(account sam staff)"
check "two volunteers and a staff account" 3 "$(for t in "$vera" "$otto" "$staff"; do status GET /v1/me "$t"; echo; done | grep -c 200)"
check "a new volunteer starts as newcomer" newcomer "$(status GET /v1/me/programme "$vera" >/dev/null; json level <"$work/body")"
check "roaming is locked for her" '["roaming"]' "$(json locked_topics <"$work/body")"
check "a volunteer cannot read another's programme" 403 "$(status GET "/v1/helpers/$otto_id/programme" "$vera")"
check "staff can" 200 "$(status GET "/v1/helpers/$vera_id/programme" "$staff")"

echo "credit and points"
q1=$(ask "Mobile data stopped" mobile_data c-1)
q2=$(ask "Roaming in Spain" roaming c-2)
check "the roaming question is in the volunteer tier" volunteer "$(status GET "/v1/questions/$q2" "$staff" >/dev/null; json question.tier <"$work/body")"
check "a claim on a locked topic is 403" 403 "$(status POST "/v1/questions/$q2/claim" "$vera")"
check "topic_locked" topic_locked "$(code)"
check "her queue leaves the locked topic out" "$q1" "$(status GET /v1/queue "$vera" >/dev/null; python3 -c 'import json,sys; print(" ".join(q["id"] for q in json.load(sys.stdin)["questions"]))' <"$work/body")"
check "vera claims the mobile data question" 200 "$(status POST "/v1/questions/$q1/claim" "$vera")"
check "replies" 201 "$(status POST "/v1/questions/$q1/replies" "$vera" '{"body":"Restart the phone and check the APN."}')"
answer=$(json message.id <"$work/body")
check "and replies again" 201 "$(status POST "/v1/questions/$q1/replies" "$vera" '{"body":"Any luck?"}')"
customer_message=$(status GET "/v1/questions/$q1" "$staff" >/dev/null; python3 -c 'import json,sys; print([m["id"] for m in json.load(sys.stdin)["messages"] if m["author_kind"] == "customer"][0])' <"$work/body")
check "answer_id naming the customer's message is 422" 422 "$(status POST "/v1/questions/$q1/resolve" "$vera" "{\"answer_id\":\"$customer_message\"}")"
check "invalid_answer" invalid_answer "$(code)"
check "resolve naming her first reply" resolved "$(status POST "/v1/questions/$q1/resolve" "$vera" "{\"answer_id\":\"$answer\"}" >/dev/null; json state <"$work/body")"
timeline=$(status GET "/v1/questions/$q1" "$staff" >/dev/null; cat "$work/body")
check "the credit is the named reply" "$answer" "$(python3 -c 'import json,sys; print([e["data"].get("answer_id") for e in json.load(sys.stdin)["timeline"] if e["type"] == "question.resolved"][0])' <<<"$timeline")"
check "the timeline records the badge and the level-up" "helper.badge_awarded helper.level_changed" "$(python3 -c 'import json,sys; print(" ".join(e["type"] for e in json.load(sys.stdin)["timeline"] if e["type"].startswith("helper.")))' <<<"$timeline")"
status GET /v1/me/programme "$vera" >/dev/null
check "first reply 2 + accepted answer 15 + first_answer badge 10" 27 "$(json points.total <"$work/body")"
check "level helper" helper "$(json level <"$work/body")"
check "roaming unlocked" '[]' "$(json locked_topics <"$work/body")"
check "her first accepted answer goes to staff for review" 1 "$(status GET "/v1/escalations?reason=probation_review&question_id=$q1" "$staff" >/dev/null; python3 -c 'import json,sys; print(len(json.load(sys.stdin)["escalations"]))' <"$work/body")"
check "the roaming claim works after the level-up" 200 "$(status POST "/v1/questions/$q2/claim" "$vera")"
check "reply" 201 "$(status POST "/v1/questions/$q2/replies" "$vera" '{"body":"Switch on data roaming."}')"
check "resolve without answer_id credits the latest reply" 200 "$(status POST "/v1/questions/$q2/resolve" "$vera")"
check "the customer rates 5 and says solved" 201 "$(rate "$q2" 5 true)"
check "the rating keeps solved" true "$(json solved <"$work/body")"
check "staff reopen the first question" 200 "$(status POST "/v1/questions/$q1/reopen" "$staff")"
check "which reverses its accepted answer" -15 "$(status GET "/v1/programme/ledger?helper=$vera_id" "$staff" >/dev/null; python3 -c 'import json,sys; print(sum(e["amount"] for e in json.load(sys.stdin)["entries"] if e["reason"] == "accepted_answer_reversed"))' <"$work/body")"
check "staff resolve it crediting vera's answer" 200 "$(status POST "/v1/questions/$q1/resolve" "$staff" "{\"answer_id\":\"$answer\"}")"
status GET /v1/me/programme "$vera" >/dev/null
check "27 + roaming 2 + 15 + good rating 5 + solved 5 - 15 + 15" 54 "$(json points.total <"$work/body")"
check "two accepted answers" 2 "$(json accepted_answers <"$work/body")"
check "badges" '["first_answer", "topic_expert:roaming"]' "$(json badges <"$work/body")"
check "the leaderboard lists her first" "vera 54" "$(status GET '/v1/programme/leaderboard?period=all' "$vera" >/dev/null; python3 -c 'import json,sys; e=json.load(sys.stdin)["entries"][0]; print(e["handle"], e["points"])' <"$work/body")"
check "the week's leaderboard answers" 200 "$(status GET '/v1/programme/leaderboard?topic=roaming' "$otto")"
check "an unknown leaderboard topic is 422" 422 "$(status GET '/v1/programme/leaderboard?topic=astrology' "$vera")"

echo "the volunteer's terminal"
check "paten login" "logged in as vera" "$("$bin" login --url "$base" --token "$vera" | cut -d' ' -f1-4)"
check "paten me --json" helper "$("$bin" me --json | json level)"
check "paten me names the level" 1 "$("$bin" me | grep -c helper)"
check "paten leaderboard --period all --json" vera "$("$bin" leaderboard --period all --json | json entries.0.handle)"
check "paten leaderboard lists her" 1 "$("$bin" leaderboard --period all | grep -c vera)"

echo "topic grants"
check "staff grant otto roaming" '[]' "$(status POST "/v1/helpers/$otto_id/topics" "$staff" '{"topic":"roaming","access":"grant"}' >/dev/null; json locked_topics <"$work/body")"
check "an unknown topic is 422" 422 "$(status POST "/v1/helpers/$otto_id/topics" "$staff" '{"topic":"astrology","access":"grant"}')"
check "unknown_topic" unknown_topic "$(code)"
check "an unknown access is 422 invalid_access" invalid_access "$(status POST "/v1/helpers/$otto_id/topics" "$staff" '{"topic":"roaming","access":"maybe"}' >/dev/null; code)"
check "a volunteer cannot grant" 403 "$(status POST "/v1/helpers/$otto_id/topics" "$vera" '{"topic":"roaming","access":"grant"}')"

echo "auto-pause and resume"
q3=$(ask "Hotspot drops" mobile_data c-3)
q4=$(ask "No 5G" mobile_data c-4)
q5=$(ask "APN settings" mobile_data c-5)
for q in "$q3" "$q4"; do
    status POST "/v1/questions/$q/claim" "$otto" >/dev/null
    status POST "/v1/questions/$q/replies" "$otto" '{"body":"Try turning it off and on."}' >/dev/null
    check "otto resolves $q" 200 "$(status POST "/v1/questions/$q/resolve" "$otto")"
done
check "otto holds another question" 200 "$(status POST "/v1/questions/$q5/claim" "$otto")"
check "a first low rating" 201 "$(rate "$q3" 1 false)"
check "does not pause him" false "$(status GET /v1/me/programme "$otto" >/dev/null; json paused <"$work/body")"
check "a second low rating" 201 "$(rate "$q4" 2 false)"
check "pauses him" true "$(status GET /v1/me/programme "$otto" >/dev/null; json paused <"$work/body")"
check "his presence reads paused" paused "$(status GET /v1/me "$otto" >/dev/null; json presence <"$work/body")"
check "he cannot set paused himself" invalid_presence "$(status PUT /v1/me/presence "$otto" '{"presence":"paused"}' >/dev/null; code)"
check "the question he held is back in the pool" open "$(status GET "/v1/questions/$q5" "$staff" >/dev/null; json question.state <"$work/body")"
check "his queue is empty" 0 "$(status GET /v1/queue "$otto" >/dev/null; python3 -c 'import json,sys; print(len(json.load(sys.stdin)["questions"]))' <"$work/body")"
check "a claim is 403" 403 "$(status POST "/v1/questions/$q5/claim" "$otto")"
check "helper_paused" helper_paused "$(code)"
check "a volunteer_paused escalation tells staff" 1 "$(status GET '/v1/escalations?reason=volunteer_paused' "$staff" >/dev/null; python3 -c 'import json,sys; print(len(json.load(sys.stdin)["escalations"]))' <"$work/body")"
check "resuming without a note is 422" note_required "$(status POST "/v1/helpers/$otto_id/resume" "$staff" '{"note":"  "}' >/dev/null; code)"
check "staff resume him with a note" false "$(status POST "/v1/helpers/$otto_id/resume" "$staff" '{"note":"Reviewed both answers; coached on hotspot settings."}' >/dev/null; json paused <"$work/body")"
check "resuming again is 409 not_paused" not_paused "$(status POST "/v1/helpers/$otto_id/resume" "$staff" '{"note":"again"}' >/dev/null; code)"
check "his claim works again" 200 "$(status POST "/v1/questions/$q5/claim" "$otto")"
check "and he earned nothing for the low ratings" 44 "$(status GET /v1/me/programme "$otto" >/dev/null; json points.total <"$work/body")"

echo "payouts"
sleep 1.1 # the period must end after the last points were booked; period_end has whole seconds
period_end=$(date -u +%Y-%m-%dT%H:%M:%SZ)
check "staff cannot book a payout" 403 "$(status POST /v1/programme/payouts "$staff" "{\"period_end\":\"$period_end\"}")"
check "admin books the payout" 201 "$(status POST /v1/programme/payouts "$admin" "{\"period_end\":\"$period_end\"}")"
payout=$(json id <"$work/body")
check "it pays both volunteers' balances" "otto 44 0.44, vera 54 0.54" "$(python3 -c 'import json,sys; print(", ".join("%s %s %s" % (l["handle"], l["points"], l["amount"]) for l in json.load(sys.stdin)["lines"]))' <"$work/body")"
check "the same period again is 200" 200 "$(status POST /v1/programme/payouts "$admin" "{\"period_end\":\"$period_end\"}")"
check "with the same batch" "$payout" "$(json id <"$work/body")"
check "an earlier period_end is 409" 409 "$(status POST /v1/programme/payouts "$admin" "{\"period_end\":\"$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)\"}")"
check "payout_period_overlaps" payout_period_overlaps "$(code)"
check "a future period_end is 422" 422 "$(status POST /v1/programme/payouts "$admin" "{\"period_end\":\"$(date -u -d '+1 day' +%Y-%m-%d)\"}")"
check "period_in_future" period_in_future "$(code)"
check "the payout file has vera's line" "$vera_id vera 54 0.54 GBP" "$(status GET "/v1/programme/payouts/$payout?format=csv" "$staff" >/dev/null; payout_line vera <"$work/body")"
status GET /v1/me/programme "$vera" >/dev/null
check "her balance is paid out" 0 "$(json points.balance <"$work/body")"
check "her total stays" 54 "$(json points.total <"$work/body")"

echo "reports"
check "the value report answers" 200 "$(status GET /v1/programme/value "$staff")"
check "four questions resolved without staff, 98 points paid" "4 98" "$(python3 -c 'import json,sys; m=json.load(sys.stdin)["months"]; print(sum(x["resolved_without_staff"] for x in m), sum(x["points_paid"] for x in m))' <"$work/body")"
check "a volunteer cannot read it" 403 "$(status GET /v1/programme/value "$vera")"
check "the ledger as CSV" 200 "$(status GET '/v1/programme/ledger?format=csv' "$staff")"
check "has a header and 16 rows" 17 "$(python3 -c 'import csv,sys; print(len(list(csv.reader(open(sys.argv[1], newline="")))))' "$work/body")"
check "two of them payouts" 2 "$(grep -c ',payout,' "$work/body")"
check "a volunteer reads her own ledger" 200 "$(status GET "/v1/programme/ledger?helper=$vera_id" "$vera")"
check "but not everyone's" 403 "$(status GET /v1/programme/ledger "$vera")"
"$bin" login --url "$base" --token "$admin" >/dev/null
check "paten payouts show --csv prints the file" "$vera_id vera 54 0.54 GBP" "$("$bin" payouts show "$payout" --csv | payout_line vera)"
check "paten payouts create for the same period is the same batch" "$payout" "$("$bin" payouts create --period-end "$period_end" --json | json id)"
check "Prometheus counts volunteers by level" 1 "$(curl -s "$base/metrics" | grep -c '^paten_volunteers{level="helper"} 2')"

kill -TERM "$server_pid"
gone() { ! kill -0 "$1" 2>/dev/null; }
wait_until 10 gone "$server_pid" || true
server_pid=""

echo "programme: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
