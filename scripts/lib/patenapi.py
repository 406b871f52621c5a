"""What the Python test drivers share: one call to Paten's API with the standard library only."""
import json
import urllib.error
import urllib.request


def call(base, method, path, token, body=None, timeout=30):
    """Sends one request with a bearer token (and a JSON body when given); returns (status, parsed JSON body)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Authorization", "Bearer " + token)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
