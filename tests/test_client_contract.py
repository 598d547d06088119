"""The client's paths and retry classes agree with the reference server's OpenAPI document."""

from __future__ import annotations

import requests
from test_client_support import reference_server  # noqa: F401  (fixture)

from kiosk.services import api_models as m
from kiosk.services.fault_reporter import PATH_LEDGER_CLOSE, PATH_LEDGER_TICKETS

# (method, path as the client calls it, how the client treats it)
CLIENT_CALLS = [
    ("get", "/api/v1/health", "read"),
    ("post", "/api/v1/kiosks/register", "command"),
    ("post", "/api/v1/kiosks/heartbeat", "command"),
    ("get", "/api/v1/kiosks/audit-heads", "read"),
    ("get", "/api/v1/kiosks/operators", "read"),
    # e-SSC codes verify once: sent once, never retried
    ("post", "/api/v1/operators/essc-signin", "command"),
    ("post", "/api/v1/essc/verify", "command"),
    ("post", "/api/v1/identity/sessions", "command"),
    ("post", "/api/v1/identity/sessions/resume", "command"),
    ("delete", "/api/v1/identity/sessions/current", "command"),
    ("post", "/api/v1/help-requests", "command"),
    ("get", "/api/v1/ledger/tickets", "read"),
    ("get", "/api/v1/catalogue", "read"),
    ("get", "/api/v1/places", "read"),
    ("get", "/api/v1/jobs", "read"),
    ("get", "/api/v1/jobs/{posting_id}", "read"),
    ("post", "/api/v1/odd-job-seekers/search", "query"),
    ("post", "/api/v1/odd-job-demands/mine", "query"),
    ("post", "/api/v1/odd-job-demands/matches", "query"),
    ("get", "/api/v1/policies", "read"),
    ("get", "/api/v1/policies/{policy_id}", "read"),
    ("get", "/api/v1/job-fairs", "read"),
    ("get", "/api/v1/archive-agencies", "read"),
    ("post", "/api/v1/job-seekers/matches", "query"),
    ("post", "/api/v1/eligibility", "query"),
    ("post", "/api/v1/applications/mine", "query"),
    ("post", "/api/v1/persons/enterprise-pension/status", "query"),
    ("post", "/api/v1/persons/enterprise-pension/payments", "query"),
    ("post", "/api/v1/persons/unemployment-insurance/payments", "query"),
    ("post", "/api/v1/persons/resident-pension/contributions", "query"),
    ("post", "/api/v1/persons/resident-pension/payments", "query"),
    ("post", "/api/v1/persons/employment-certificate", "query"),
    ("post", "/api/v1/persons/archive", "query"),
] + [
    ("post", path, "submission")
    for name, path in vars(m).items()
    if name.startswith("PATH_") and isinstance(path, str)
]
# fault tickets and 问题反映 go through the outbox too (kiosk.services.fault_reporter)
CLIENT_CALLS += [
    ("post", PATH_LEDGER_TICKETS, "submission"),
    ("post", PATH_LEDGER_CLOSE, "submission"),
]

# Non-idempotent POSTs the kiosk never sends: a responder's desk actions on the ticket ledger.
NOT_KIOSK_POSTS = {
    "/api/v1/desk/applications/{number}/status",
    "/api/v1/ledger/desk/tickets/{ticket_id}/answer",
    "/api/v1/ledger/desk/tickets/{ticket_id}/escalate",
    "/api/v1/ledger/desk/tickets/{ticket_id}/close",
}


def test_every_path_the_client_uses_is_in_the_servers_openapi_with_the_right_retry_class(
    reference_server,  # noqa: F811
):
    doc = requests.get(reference_server.url + "/openapi.json", timeout=30).json()
    paths = doc["paths"]
    for method, path, treatment in CLIENT_CALLS:
        assert path in paths, f"{path} is not in the server's OpenAPI"
        operation = paths[path].get(method)
        assert operation is not None, f"{method.upper()} {path} is not in the server's OpenAPI"
        idempotent = bool(operation.get("x-idempotent"))
        if treatment == "query":
            assert idempotent, f"{path}: the client retries it, the server does not mark it"
            # every query the client makes is a person lookup: it carries the identity token
            token = [p for p in operation["parameters"] if p["name"] == "X-Identity-Token"]
            assert token and token[0]["required"], f"{path}: no X-Identity-Token required"
        if treatment == "submission":
            assert not idempotent, f"{path}: a submission marked x-idempotent"


def test_the_submission_paths_cover_every_non_idempotent_resident_post(
    reference_server,  # noqa: F811
):
    """Any POST that creates something for a resident must go through the outbox."""
    doc = requests.get(reference_server.url + "/openapi.json", timeout=30).json()
    known = {path for _method, path, _t in CLIENT_CALLS} | NOT_KIOSK_POSTS
    unknown = [
        path
        for path, operations in doc["paths"].items()
        if "post" in operations and not operations["post"].get("x-idempotent") and path not in known
    ]
    assert unknown == []
