"""Checks a data directory against the crash test's acknowledgement log: the database passes
`PRAGMA integrity_check`, and every acknowledged question is present with its first message and its created and
routed events, every acknowledged follow-up message is present with its event. Prints one line per check as
`name=value`.

usage: verify.py DATABASE ACK_LOG
"""
import sqlite3
import sys

database, ack_log = sys.argv[1:3]
questions, messages = set(), set()
for line in open(ack_log):
    parts = line.split()
    if parts and parts[0] == "q":
        questions.add(parts[1])
    elif parts and parts[0] == "m":
        messages.add((parts[1], parts[2]))

db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
print("integrity=" + db.execute("PRAGMA integrity_check").fetchone()[0])
stored = {row[0] for row in db.execute("SELECT id FROM questions")}
first = {row[0] for row in db.execute("SELECT question_id FROM messages WHERE author_kind = 'customer'")}
events = {}
for question, kind in db.execute("SELECT question_id, type FROM question_events"):
    events.setdefault(question, set()).add(kind)
stored_messages = {(q, m) for q, m in db.execute("SELECT question_id, id FROM messages")}
missing = [q for q in questions if q not in stored or q not in first
           or not {"question.created", "question.routed"} <= events.get(q, set())]
lost_messages = [m for m in messages if m not in stored_messages
                 or "question.customer_replied" not in events.get(m[0], set())]
print(f"acknowledged_questions={len(questions)}")
print(f"acknowledged_messages={len(messages)}")
print(f"missing_questions={len(missing)}")
print(f"missing_messages={len(lost_messages)}")
