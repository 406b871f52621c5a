"""Sends inbound webhooks to a running `paten serve`, signed only with the `standardwebhooks` package, and checks
the answers: a good request is accepted; a repeat is a duplicate; tampered, stale and wrong-secret requests get
401. Prints one line per check and exits non-zero on any failure.

usage: sender.py BASE_URL INTEGRATION_ID SECRET
"""
import base64
import json
import os
import sys
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

from standardwebhooks.webhooks import Webhook

base, integration, secret = sys.argv[1:4]
failures = 0


def post(body, headers):
    request = urllib.request.Request(
        f"{base}/hooks/{integration}", data=body.encode(), method="POST",
        headers={"content-type": "application/json", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def signed(msg_id, body, key=secret, when=None):
    when = when or datetime.now(tz=timezone.utc)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(key).sign(msg_id, when, body),
    }


def check(name, expected, actual):
    global failures
    if expected == actual:
        print(f"  ok   {name}")
    else:
        failures += 1
        print(f"  FAIL {name}: expected {expected!r}, got {actual!r}")


def message(conversation, text):
    return json.dumps({
        "type": "message.created",
        "timestamp": datetime.now(tz=timezone.utc).isoformat(),
        "data": {
            "conversation_id": conversation,
            "customer": {"id": "py-customer", "name": "Pia Python", "language": "en"},
            "message": {"id": "py-1", "text": text, "sent_at": datetime.now(tz=timezone.utc).isoformat()},
        },
    })


body = message("py-conv-1", "My eSIM will not activate after the update")
status, answer = post(body, signed("msg_py_1", body))
check("signed by standardwebhooks: accepted", (200, "question_created"), (status, answer.get("result")))
question_id = answer.get("question_id", "")

status, answer = post(body, signed("msg_py_1", body))
check("the same webhook-id again: duplicate", (200, "duplicate"), (status, answer.get("result")))

tampered = body.replace("eSIM", "SIM!")
status, _ = post(tampered, signed("msg_py_2", body))
check("tampered body: 401", 401, status)

stale = datetime.now(tz=timezone.utc) - timedelta(minutes=6)
status, _ = post(body, signed("msg_py_3", body, when=stale))
check("timestamp six minutes old: 401", 401, status)

other = "whsec_" + base64.b64encode(os.urandom(32)).decode()
status, _ = post(body, signed("msg_py_4", body, key=other))
check("wrong secret: 401", 401, status)

follow = message("py-conv-1", "It still shows error 0x45")
status, answer = post(follow, signed("msg_py_5", follow))
check("follow-up in the same conversation", (200, "message_added", question_id),
      (status, answer.get("result"), answer.get("question_id")))

print(question_id)
sys.exit(1 if failures else 0)
