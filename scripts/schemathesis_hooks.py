"""Schemathesis hooks for scripts/schemathesis.sh: the run must not lock itself out.

Every other case is generated and checked. Left out are only the cases that would end the
run's own access, which Wharf does on purpose and other tests check: resetting the password
of, demoting or disabling the account the run signs in as (a reset revokes its tokens), and
revoking the very token the run uses.
"""

import os

import schemathesis

SELF = os.environ["WHARF_ST_USER_ID"]
TOKEN = os.environ["WHARF_ST_TOKEN_ID"]


@schemathesis.hook
def filter_case(ctx, case):
    path = case.operation.path
    method = case.method.upper()
    target = str((case.path_parameters or {}).get("id", ""))
    if path.endswith("/users/{id}") or path.endswith("/users/{id}/password"):
        return target != SELF
    if path.endswith("/tokens/{id}") and method == "DELETE":
        return target != TOKEN
    return True
