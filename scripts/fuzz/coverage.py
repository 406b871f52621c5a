"""Checks that one schemathesis run tested something: a run that generated no case for an operation, or none at all,
passes schemathesis' checks vacuously. Reads the run's standard output (schemathesis 4's summary) and its JUnit
report; prints what is missing and exits 1, or prints nothing and exits 0.

usage: coverage.py OUTPUT JUNIT_XML
"""
import re
import sys
import xml.etree.ElementTree as ElementTree

output_path, junit_path = sys.argv[1], sys.argv[2]
output = open(output_path, encoding="utf-8", errors="replace").read()
problems = []

# API Operations: "Selected: S/T", "Tested: N", and "Skipped: K" / "Errored: E" only when there are any.
selected = re.search(r"^  Selected: (\d+)/(\d+)$", output, re.M)
tested = re.search(r"^  Tested: (\d+)$", output, re.M)
if not selected or not tested:
    problems.append("no 'API Operations' summary (Selected/Tested) in the output")
else:
    chosen, tried = int(selected.group(1)), int(tested.group(1))
    if chosen == 0:
        problems.append("no operation was selected")
    elif tried < chosen:
        problems.append(f"only {tried} of {chosen} selected operations were tested")
for line in re.findall(r"^  (?:Skipped|Errored): \d+$", output, re.M):
    problems.append(f"operations not tested: {line.strip()}")

# Test cases: "N generated, ..." or "No test cases were generated"; cases no check applied to count as untested.
cases = re.search(r"^Test cases:\n  (\d+) generated(.*)$", output, re.M)
if not cases:
    none = "No test cases were generated" in output
    problems.append("no test case was generated" if none else "no 'Test cases' summary")
else:
    generated = int(cases.group(1))
    unchecked = re.search(r"(\d+) skipped", cases.group(2))
    if generated == 0 or (unchecked and int(unchecked.group(1)) >= generated):
        problems.append(f"no checked test case: {cases.group(0).splitlines()[-1].strip()}")

# JUnit: one test case per operation that ran (named "METHOD /path"); a <skipped/> one generated nothing.
try:
    testcases = ElementTree.parse(junit_path).getroot().iter("testcase")
    operations = {}
    for testcase in testcases:
        name = testcase.get("name", "")
        if re.match(r"^[A-Z]+ /", name):
            operations[name] = testcase.find("skipped")
    for name, skipped in sorted(operations.items()):
        if skipped is not None:
            problems.append(f"{name}: skipped ({(skipped.get('message') or skipped.text or '').strip()})")
    if selected and len(operations) < int(selected.group(1)):
        problems.append(f"the JUnit report names {len(operations)} operations of {selected.group(1)} selected")
except (OSError, ElementTree.ParseError) as error:
    problems.append(f"no readable JUnit report: {error}")

for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)
