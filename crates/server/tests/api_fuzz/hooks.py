"""The GraphQL run's check of crates/server/tests/api_fuzz.rs (loaded with SCHEMATHESIS_HOOKS).

schemathesis's own `not_a_server_error` counts every GraphQL error that comes from a resolver as
a server failure. This API answers refusals of a request (a malformed id, a project the caller
may not read) as such errors, worded as the app reads them, with no code. A failure of the
server's own is answered with the REST API's code for it in `extensions.code`: that, or an HTTP
5xx, or an answer that is not a JSON object, is what this check fails on.
"""

import schemathesis

SERVER_FAILURES = ("INTERNAL", "UNAVAILABLE")


@schemathesis.check
def no_server_failure(ctx, response, case):
    """No 5xx, and no GraphQL error that reports a failure of the server's own."""
    if response.status_code >= 500:
        raise AssertionError(f"the server failed with HTTP {response.status_code}")
    try:
        payload = response.json()
    except ValueError:
        raise AssertionError("the answer is not JSON") from None
    if not isinstance(payload, dict):
        raise AssertionError("the answer is not a JSON object")
    for error in payload.get("errors") or []:
        extensions = error.get("extensions") or {}
        if extensions.get("code") in SERVER_FAILURES:
            raise AssertionError(f"a failure of the server's own: {error.get('message')}")
