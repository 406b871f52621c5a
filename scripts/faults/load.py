"""Load generator for the crash test: submits questions and follow-up messages as an integration account and
logs every write the server acknowledged, one line each, as soon as the acknowledgement arrives:
    q QUESTION_ID            201 to POST /v1/questions
    m QUESTION_ID MESSAGE_ID 201 to POST /v1/questions/{id}/messages
Connection failures (the server being killed and restarted) are retried after a short pause; any other answer
than 201 stops the generator with an error.

usage: load.py BASE_URL TOKEN ACK_LOG STOP_FILE [THREADS]
"""
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request

base, token, ack_log, stop_file = sys.argv[1:5]
threads = int(sys.argv[5]) if len(sys.argv) > 5 else 8
lock = threading.Lock()
failure = []


def post(path, body):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST")
    request.add_header("Authorization", "Bearer " + token)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def acknowledge(line):
    with lock, open(ack_log, "a") as log:
        log.write(line + "\n")


def worker(number):
    sequence = 0
    while not os.path.exists(stop_file) and not failure:
        sequence += 1
        try:
            status, body = post("/v1/questions", {
                "subject": f"My SIM does not work ({number}.{sequence})", "body": "It says no service.",
                "customer": {"id": f"c-{number}-{sequence}", "name": "Crash Test"}})
            acknowledge(f"q {body['id']}")
            status, posted = post(f"/v1/questions/{body['id']}/messages", {"body": "Any news?"})
            acknowledge(f"m {body['id']} {posted['message']['id']}")
        except urllib.error.HTTPError as error:
            failure.append(f"HTTP {error.code}: {error.read()[:300]!r}")
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            time.sleep(0.05)  # the server is down; an unacknowledged write may or may not have happened


workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
for thread in workers:
    thread.start()
for thread in workers:
    thread.join()
if failure:
    sys.exit("load.py: " + failure[0])
