"""Property-based contract test: schemathesis drives every operation of the committed OpenAPI
document against the real server over HTTP (signed), and finds no 5xx and no response that
violates the document."""

from __future__ import annotations

import json
import os
import uuid

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks

from kiosk_backend.export_openapi import OPENAPI_PATH
from kiosk_backend.security import is_desk_path
from kiosk_backend.signing import signed_headers
from kiosk_backend.testing import running_backend, scratch_postgres_database

pytestmark = pytest.mark.slow


class KioskSigning(requests.auth.AuthBase):
    """Sign the prepared request exactly as it goes on the wire; fresh Idempotency-Key on POST."""

    def __init__(self, kiosk_id: str, secret_hex: str):
        self.kiosk_id = kiosk_id
        self.secret = bytes.fromhex(secret_hex)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        path, _, query = request.path_url.partition("?")
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        if request.method == "POST":
            request.headers["Idempotency-Key"] = str(uuid.uuid4())
        request.headers.update(
            signed_headers(self.kiosk_id, self.secret, request.method, path, query, body)
        )
        return request


def _db_params():
    marks = [pytest.mark.postgres]
    if not os.environ.get("KIOSK_TEST_PG_URL"):
        marks.append(pytest.mark.skip(reason="KIOSK_TEST_PG_URL not set"))
    return [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="pg", marks=marks)]


@pytest.fixture(scope="module", params=_db_params())
def live(request, tmp_path_factory):
    seed = {"seed_postings": 300, "seed_persons": 60}
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('st') / 'backend.sqlite3'}"
        with running_backend(url, **seed) as backend:
            yield backend
    else:
        pg_url = os.environ["KIOSK_TEST_PG_URL"]
        with scratch_postgres_database(pg_url) as url, running_backend(url, **seed) as backend:
            yield backend


@pytest.fixture(scope="module")
def api_schema(live):
    return schemathesis.openapi.from_url(live.url + "/openapi.json")


@pytest.fixture(scope="module")
def signed_session(live):
    session = requests.Session()
    session.auth = KioskSigning(live.kiosk_id, live.secret_hex)
    return session


@pytest.fixture(scope="module")
def desk_session(live):
    """Signed as the demo county desk (re-keyed here): desk endpoints refuse kiosks, so they are
    driven as the desk that really calls them."""
    from kiosk_backend.ledger import add_responder
    from kiosk_backend.provision import new_secret_hex
    from kiosk_backend.seed.desks import DEMO_DESKS

    desk = DEMO_DESKS[0]
    secret = new_secret_hex()
    add_responder(
        live.db_url,
        desk.account,
        name=desk.name,
        role=desk.role,
        level=desk.level,
        region_prefix=desk.region_prefix,
        secret_hex=secret,
        key_file=live.key_file,
    )
    session = requests.Session()
    session.auth = KioskSigning(desk.account, secret)
    return session


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every operation in the committed contract."""
    doc = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    return [(method, path) for path, ops in sorted(doc["paths"].items()) for method in sorted(ops)]


# schemathesis' own pytest fixture integration (from_fixture) does not work with pytest 9, so
# each operation is its own test that runs a hypothesis strategy built by schemathesis.
@pytest.mark.parametrize(
    "mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"]
)
@pytest.mark.parametrize(("method", "path"), _operations(), ids=lambda v: str(v))
def test_no_server_error_and_no_schema_violation(
    method, path, mode, api_schema, signed_session, desk_session
):
    """Valid and deliberately invalid inputs: never a 5xx, every answer as documented."""
    operation = api_schema[path][method]
    session = desk_session if is_desk_path(path) else signed_session

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=20,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case):
        response = case.call(session=session, timeout=60)
        case.validate_response(
            response,
            checks=[
                checks.not_a_server_error,
                checks.status_code_conformance,
                checks.content_type_conformance,
                checks.response_schema_conformance,
            ],
        )

    try:
        run()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        pytest.skip("the operation has no input that could be made invalid")
