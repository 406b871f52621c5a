"""schemathesis hooks for scripts/fuzz.sh (loaded through SCHEMATHESIS_HOOKS=paten_hooks).

A run may do anything an account of its role may do, except lock out the accounts the runs use: deactivating,
demoting or renaming one of them, or revoking one of their tokens, would turn the rest of the run into 401s and test
nothing. Such a request is sent with an id that names nothing instead, so it still goes out and must be answered
as the document says (404).
"""

import os

import schemathesis

PROTECTED = {value for value in os.environ.get("FUZZ_PROTECTED", "").split(",") if value}
GUARDED = {("PATCH", "/v1/helpers/{id}"), ("DELETE", "/v1/tokens/{id}")}


@schemathesis.hook
def before_call(context, case, kwargs):
    if (case.method.upper(), case.path) in GUARDED and str((case.path_parameters or {}).get("id", "")).lower() in PROTECTED:
        case.path_parameters["id"] = "h_kept_by_fuzz_sh"
