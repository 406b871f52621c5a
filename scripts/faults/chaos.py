"""Concurrency fault test driver: VOLUNTEERS volunteers and one staff member claim, reply, release, resolve and
reopen QUESTIONS questions at random for SECONDS seconds, one thread each. Every answer must be 2xx or a rule's
4xx (403, 404, 409, 422); a 5xx, or a thread ending in an exception (a lost connection, a timeout, a bad body),
stops the run and fails it. Prints the counts of answers by status, then every failure.

usage: chaos.py BASE ADMIN_TOKEN SECONDS [VOLUNTEERS] [QUESTIONS]
"""
import collections
import os
import random
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from patenapi import call as api_call  # noqa: E402

base, admin, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
volunteers = int(sys.argv[4]) if len(sys.argv) > 4 else 63
questions_wanted = int(sys.argv[5]) if len(sys.argv) > 5 else 40
counts = collections.Counter()
failures = []
crashes = []  # every client thread that ended in an exception, with its traceback
lock = threading.Lock()


def call(method, path, token, body=None):
    return api_call(base, method, path, token, body)


def account(handle, role):
    status, helper = call("POST", "/v1/helpers", admin, {"handle": handle, "role": role, "languages": ["en"]})
    assert status == 201, (status, helper)
    status, token = call("POST", f"/v1/helpers/{helper['id']}/tokens", admin, {"label": "chaos"})
    assert status == 201, (status, token)
    return token["token"]


staff = account("chaos-staff", "staff")
tokens = [account(f"chaos{n}", "volunteer") for n in range(volunteers)]
questions = []
for n in range(questions_wanted):
    status, body = call("POST", "/v1/questions", staff, {
        "subject": f"Roaming abroad does not work ({n})", "body": "No network in Spain.",
        "customer": {"id": f"c-{n}", "name": "Customer"}})
    assert status == 201 and body["tier"] == "volunteer", (status, body)
    questions.append(body["id"])

deadline = time.monotonic() + seconds


def volunteer(token):
    held = set()  # questions this volunteer believes it holds; mostly acted on, sometimes others' are poked
    while time.monotonic() < deadline and not failures and not crashes:
        if held and random.random() < 0.7:
            question = random.choice(sorted(held))
            action = random.choices(["reply", "release", "resolve", "claim"], weights=[4, 2, 2, 1])[0]
        else:
            question = random.choice(questions)
            action = random.choices(["claim", "reply", "release", "resolve"], weights=[6, 1, 1, 1])[0]
        if action == "reply":
            status, body = call("POST", f"/v1/questions/{question}/replies", token, {"body": "Try flight mode."})
        else:
            status, body = call("POST", f"/v1/questions/{question}/{action}", token)
        if action == "claim" and status == 200:
            held.add(question)
        elif action in ("release", "resolve") and status == 200 or status in (403, 409) and question in held:
            held.discard(question)
        with lock:
            counts[f"{action} {status}"] += 1
            if status >= 500 or status not in (200, 201, 403, 404, 409, 422):
                failures.append(f"{action} {question}: HTTP {status} {body}")


def reopener():
    while time.monotonic() < deadline and not failures and not crashes:
        question = random.choice(questions)
        status, body = call("POST", f"/v1/questions/{question}/reopen", staff)
        with lock:
            counts[f"reopen {status}"] += 1
            if status not in (200, 409):
                failures.append(f"reopen {question}: HTTP {status} {body}")
        time.sleep(0.01)


def guarded(target, *args):
    """Runs one client; an exception ends only its own thread, so it is kept here for the run to fail on."""
    try:
        target(*args)
    except BaseException:  # noqa: BLE001 - any death of a client thread must fail the run
        with lock:
            crashes.append(f"{threading.current_thread().name}: {traceback.format_exc()}")


threads = [threading.Thread(target=guarded, args=(volunteer, t), name=f"volunteer {n}") for n, t in enumerate(tokens)]
threads.append(threading.Thread(target=guarded, args=(reopener,), name="reopener"))
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
for key, value in sorted(counts.items()):
    print(f"{key}: {value}")
for failure in failures:
    print(f"chaos.py: {failure}", file=sys.stderr)
for crash in crashes:
    print(f"chaos.py: client thread died: {crash}", file=sys.stderr)
if failures or crashes:
    sys.exit(f"chaos.py: {len(failures)} bad answers, {len(crashes)} client threads died")
