"""Drives two Paten instances over HTTP with the standard library only.

usage: race.py setup BASE_A ADMIN_TOKEN HOOK_URL      accounts, 50 questions, the counting integration; prints JSON
       race.py claims BASE_A BASE_B STATE_FILE          200 concurrent claims (4 per question, 2 through each instance)
       race.py replies BASE_A BASE_B STATE_FILE         each winner replies, through the other instance
"""
import json
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from patenapi import call  # noqa: E402

QUESTIONS = 50
CLAIMERS = 200


def expect(status, wanted, body, what):
    if status != wanted:
        sys.exit(f"race.py: {what}: HTTP {status} {body}")


def setup(base, admin, hook_url):
    status, body = call(base, "POST", "/v1/helpers", admin, {"handle": "desk", "role": "staff"})
    expect(status, 201, body, "create staff")
    status, token = call(base, "POST", f"/v1/helpers/{body['id']}/tokens", admin, {"label": "race"})
    expect(status, 201, token, "staff token")
    staff = token["token"]
    volunteers = []
    for index in range(CLAIMERS):
        status, body = call(base, "POST", "/v1/helpers", admin,
                            {"handle": f"vol{index}", "role": "volunteer", "languages": ["en"]})
        expect(status, 201, body, "create volunteer")
        status, token = call(base, "POST", f"/v1/helpers/{body['id']}/tokens", admin, {"label": "race"})
        expect(status, 201, token, "volunteer token")
        volunteers.append(token["token"])
    status, body = call(base, "POST", "/v1/integrations", admin,
                        {"name": "counter", "kind": "standard", "outbound_url": hook_url, "all_channels": True})
    expect(status, 201, body, "create integration")
    questions = []
    for index in range(QUESTIONS):
        status, body = call(base, "POST", "/v1/questions", staff, {
            "subject": f"My phone shows no signal ({index})", "body": "Since this morning.",
            "customer": {"id": f"c-{index}", "name": "Customer"}})
        expect(status, 201, body, "submit question")
        expect(body["tier"], "volunteer", body, "routing")
        questions.append(body["id"])
    print(json.dumps({"volunteers": volunteers, "questions": questions}))


def claims(base_a, base_b, state_file):
    state = json.load(open(state_file))
    results = [None] * CLAIMERS
    barrier = threading.Barrier(CLAIMERS)

    def claim(index):
        question = state["questions"][index % QUESTIONS]
        # A question's four claimers (index, index + 50, ...) alternate between the instances.
        base = base_a if (index // QUESTIONS) % 2 == 0 else base_b
        barrier.wait()
        results[index] = call(base, "POST", f"/v1/questions/{question}/claim", state["volunteers"][index])

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(CLAIMERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = {}
    for index, (status, body) in enumerate(results):
        question = state["questions"][index % QUESTIONS]
        if status == 200:
            winners.setdefault(question, []).append(index)
        elif status != 409 or body.get("error", {}).get("code") != "already_claimed":
            sys.exit(f"race.py: claim {index}: HTTP {status} {body}")
    state["winners"] = {question: indexes[0] for question, indexes in winners.items()}
    json.dump(state, open(state_file, "w"))
    # One line per question: how many claims it granted.
    for question in state["questions"]:
        print(len(winners.get(question, [])))


def replies(base_a, base_b, state_file):
    state = json.load(open(state_file))
    for question, index in state["winners"].items():
        # The claim went to one instance; the reply goes to the other.
        base = base_b if (index // QUESTIONS) % 2 == 0 else base_a
        status, body = call(base, "POST", f"/v1/questions/{question}/replies", state["volunteers"][index],
                            {"body": "Restart the phone with flight mode on and off."})
        expect(status, 201, body, "reply")
    print(len(state["winners"]))


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    {"setup": setup, "claims": claims, "replies": replies}[command](*arguments)
