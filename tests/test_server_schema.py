"""The database schema from the migrations equals the models; the committed OpenAPI document
equals the generated one and follows the contract's conventions; the demo seed is sound."""

from __future__ import annotations

import datetime as dt
import json
import os
import re

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from kiosk.domain.identity import validate_id_number
from kiosk_backend.db import make_engine, make_session_factory, migrate
from kiosk_backend.export_openapi import OPENAPI_PATH, generate
from kiosk_backend.models import Base, JobPosting, Person, PostingGram
from kiosk_backend.search import grams_of_text
from kiosk_backend.seed.demo import seed_demo_data
from kiosk_backend.seed.places import TOWNS
from kiosk_backend.testing import scratch_postgres_database


def _migration_diff(url: str) -> list:
    engine = make_engine(url)
    try:
        migrate(engine)
        migrate(engine)  # applying twice is a no-op
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_migrations_equal_models_on_sqlite(tmp_path):
    assert _migration_diff(f"sqlite:///{tmp_path / 'm.sqlite3'}") == []


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("KIOSK_TEST_PG_URL"), reason="KIOSK_TEST_PG_URL not set")
def test_migrations_equal_models_on_postgres():
    with scratch_postgres_database(os.environ["KIOSK_TEST_PG_URL"]) as url:
        assert _migration_diff(url) == []


def test_committed_openapi_equals_generated():
    committed = OPENAPI_PATH.read_text(encoding="utf-8")
    assert committed == generate(), "run: python -m kiosk_backend.export_openapi"


def test_openapi_follows_the_contract():
    doc = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    unsigned = {"/api/v1/health"}
    for path, operations in doc["paths"].items():
        assert path.startswith("/api/v1/")
        assert "id_number" not in path, "ID numbers never go into URLs"
        for method, operation in operations.items():
            params = operation.get("parameters", [])
            assert all(p["name"] != "id_number" for p in params), f"{method} {path}"
            error_schemas = {
                status: r["content"]["application/json"]["schema"]
                for status, r in operation["responses"].items()
                if status[0] in "45"
            }
            assert all(
                s == {"$ref": "#/components/schemas/ErrorBody"} for s in error_schemas.values()
            ), f"{method} {path}"
            if path in unsigned:
                assert operation["security"] == []
                continue
            assert "401" in operation["responses"]
            if method == "post":
                names = [p["name"] for p in params if p["in"] == "header"]
                assert "Idempotency-Key" in names, f"{method} {path}"
    read_only = [
        path for path, ops in doc["paths"].items() if ops.get("post", {}).get("x-idempotent")
    ]
    assert "/api/v1/persons/resident-pension/payments" in read_only
    assert "/api/v1/eligibility" in read_only
    assert "/api/v1/work-orders" not in read_only
    assert "HTTPValidationError" not in doc["components"]["schemas"]


def _dump(url: str, today: dt.date) -> list[tuple]:
    engine = make_engine(url)
    try:
        migrate(engine)
        sessions = make_session_factory(engine)
        seed_demo_data(sessions, postings=200, persons=80, today=today)
        with sessions() as session:
            people = session.execute(select(Person.id_number, Person.name, Person.town)).all()
            jobs = session.execute(select(JobPosting.title, JobPosting.salary_min)).all()
        return [tuple(r) for r in people + jobs]
    finally:
        engine.dispose()


def test_seed_is_deterministic(tmp_path):
    today = dt.date(2026, 12, 15)
    assert _dump(f"sqlite:///{tmp_path / 'a.sqlite3'}", today) == _dump(
        f"sqlite:///{tmp_path / 'b.sqlite3'}", today
    )


def test_seed_data_is_valid(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 's.sqlite3'}")
    migrate(engine)
    sessions = make_session_factory(engine)
    seed_demo_data(sessions, postings=300, persons=150, today=dt.date(2026, 12, 15))
    with sessions() as session:
        for person in session.scalars(select(Person)):
            parsed = validate_id_number(person.id_number, today=dt.date(2026, 12, 15))
            assert parsed.region_code == "140431"
            assert parsed.birth_date == person.birth_date
            assert (parsed.sex == "男") == (person.gender == "male")
            assert person.town in TOWNS and person.village in TOWNS[person.town]
        for posting in session.scalars(select(JobPosting).limit(50)):
            assert posting.salary_min <= posting.salary_max
            assert posting.town in TOWNS
            stored = set(
                session.scalars(
                    select(PostingGram.gram).where(PostingGram.posting_id == posting.id)
                )
            )
            assert stored == grams_of_text(posting.search_text)
        assert session.scalar(select(func.count()).select_from(JobPosting)) == 300
        names = session.scalars(select(Person.name)).all()
        assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,4}", n) for n in names)
    engine.dispose()
