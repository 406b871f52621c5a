"""Replays every question's event timeline and checks it against the stored state, and that no question ever had
two holders. Prints `name=value` lines.

usage: timeline.py DATABASE
"""
import json
import sqlite3
import sys

db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
stored = {row[0]: (row[1], row[2], row[3]) for row in db.execute("SELECT id, state, holder_id, tier FROM questions")}
replayed = {}
double_claims = 0
for question, kind, actor, data in db.execute(
        "SELECT question_id, type, actor_id, data FROM question_events ORDER BY seq"):
    state, holder, tier = replayed.get(question, ("open", None, None))
    details = json.loads(data)
    if kind == "question.created":
        state, holder = "open", None
    elif kind == "question.routed":
        tier = details.get("tier", tier)
        if details.get("reason") in ("moved", "handoff"):
            state = "open" if state == "claimed" else state
            holder = None
    elif kind == "question.claimed":
        if state == "claimed":
            double_claims += 1
        state, holder = "claimed", actor
    elif kind in ("question.released", "question.claim_expired"):
        state, holder = "open", None
    elif kind == "question.resolved":
        state, holder = "resolved", None
    elif kind == "question.reopened":
        state = "open"
    replayed[question] = (state, holder, tier)

disagree = [q for q, (state, holder, tier) in stored.items() if replayed.get(q, (None, None, None)) != (state, holder, tier)]
overlaps = db.execute("""
    SELECT COUNT(*) FROM claims a JOIN claims b ON a.question_id = b.question_id AND a.id < b.id
    WHERE a.claimed_at < COALESCE(b.ended_at, 9223372036854775807)
    AND b.claimed_at < COALESCE(a.ended_at, 9223372036854775807)""").fetchone()[0]
print(f"questions={len(stored)}")
print(f"events={db.execute('SELECT COUNT(*) FROM question_events').fetchone()[0]}")
print(f"claims={db.execute('SELECT COUNT(*) FROM claims').fetchone()[0]}")
print(f"disagreeing={len(disagree)}")
print(f"claimed_while_held={double_claims}")
print(f"overlapping_claims={overlaps}")
print(f"integrity={db.execute('PRAGMA integrity_check').fetchone()[0]}")
