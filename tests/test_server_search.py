"""The unigram+bigram index answers exactly what a substring scan answers (hypothesis, and the
seeded data with every filter and page on SQLite and PostgreSQL), and stays in step with the
postings as they are inserted, changed (through the ORM or plain SQL) and deleted."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, text, update

from kiosk_backend.db import make_engine, make_session_factory, migrate
from kiosk_backend.models import JobPosting, PostingGram
from kiosk_backend.search import (
    grams_of_query,
    grams_of_text,
    like_condition,
    normalize,
    search_page,
)
from kiosk_backend.seed.demo import seed_demo_data
from kiosk_backend.testing import scratch_postgres_database

PG_URL = os.environ.get("KIOSK_TEST_PG_URL")
SEED_DAY = dt.date(2026, 12, 15)

# A small alphabet makes collisions (shared characters, repeated pairs) likely.
ALPHABET = "司机电工焊厨师镇村沁源郭道货车%_\\ａA "
TEXTS = st.text(alphabet=ALPHABET, min_size=0, max_size=12)


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('search') / 'search.sqlite3'}")
    migrate(engine)
    yield make_session_factory(engine)
    engine.dispose()


def _store(sessions, titles: list[str]) -> list[int]:
    with sessions() as session:
        session.query(JobPosting).delete()
        ids = []
        for title in titles:
            posting = _posting(
                title=title,
                occupation="",
                employer_name="",
                town="",
                description="",
                posted_on=dt.date(2026, 1, 1),
                valid_until=dt.date(2026, 2, 1),
            )
            session.add(posting)
            session.flush()  # the ORM hooks write search_text and the grams
            ids.append(posting.id)
        session.commit()
        return ids


def test_grams_cover_unigrams_and_bigrams_within_fields():
    assert grams_of_text("电工|司机") == {"电", "工", "电工", "司", "机", "司机"}
    assert grams_of_query("电") == ["电"]
    assert grams_of_query("货车司机") == ["司机", "货车", "车司"]
    assert grams_of_query("  ") == []


def test_normalize_folds_width_case_and_spaces():
    assert normalize("ＡＢ　c d") == "abcd"


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(titles=st.lists(TEXTS, min_size=1, max_size=8), query=TEXTS)
def test_index_matches_substring_scan(sessions, titles, query):
    ids = _store(sessions, titles)
    with sessions() as session:
        total, rows = search_page(session, query, limit=len(ids))
        scanned = session.scalars(
            select(JobPosting.id).where(like_condition(query)).order_by(JobPosting.id.desc())
        ).all()
    needle = normalize(query)
    expected = sorted((i for i, t in zip(ids, titles, strict=True) if needle in normalize(t)))
    # one posted_on for all: newest first is highest id first
    assert [r.id for r in rows] == expected[::-1] == scanned
    assert total == len(expected)


@pytest.fixture(
    scope="module",
    params=[
        "sqlite",
        pytest.param(
            "postgres",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(not PG_URL, reason="KIOSK_TEST_PG_URL not set"),
            ],
        ),
    ],
)
def seeded(request, tmp_path_factory):
    """The demo seed (1,500 postings) on each database, migrated from scratch."""
    with contextlib.ExitStack() as stack:
        if request.param == "postgres":
            url = stack.enter_context(scratch_postgres_database(PG_URL))
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp('seeded') / 'seeded.sqlite3'}"
        engine = make_engine(url)
        stack.callback(engine.dispose)
        migrate(engine)
        sessions = make_session_factory(engine)
        seed_demo_data(sessions, postings=1500, persons=20, today=SEED_DAY)
        yield sessions


def _scanned_page(session, query, *, kind, valid_on, posted_since, where, offset, limit):
    """The reference: a plain LIKE scan of job_postings with the same filters and order."""
    conditions = [like_condition(query), *where]
    if kind is not None:
        conditions.append(JobPosting.kind == kind)
    if valid_on is not None:
        conditions.append(JobPosting.valid_until >= valid_on)
    if posted_since is not None:
        conditions.append(JobPosting.posted_on >= posted_since)
    total = session.scalar(select(func.count()).select_from(JobPosting).where(*conditions))
    ids = session.scalars(
        select(JobPosting.id)
        .where(*conditions)
        .order_by(JobPosting.posted_on.desc(), JobPosting.id.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return total, list(ids)


def _queries_from(session, rng: random.Random) -> list[str]:
    """Substrings of 1 to 4 characters cut from the seeded postings, and a few that match none."""
    texts = session.scalars(select(JobPosting.search_text).order_by(JobPosting.id)).all()
    queries = {
        "司机",
        "电工",
        "保安",
        "厨师",
        "焊工",
        "收银员",
        "货车司机",
        "郭道镇",
        "司 机",
        "ａ",
    }
    for _ in range(60):
        field = rng.choice(rng.choice(texts).split("|"))
        length = rng.randint(1, 4)
        start = rng.randrange(max(1, len(field) - length + 1))
        queries.add(field[start : start + length])
    return sorted(queries | {"机司", "没有这个岗位", "%", "_"})


def test_search_pages_equal_a_like_scan_of_the_seeded_postings(seeded):
    rng = random.Random(14)
    filters = [
        {},
        {"valid_on": SEED_DAY},
        {"kind": "fixed", "valid_on": SEED_DAY},
        {"kind": "odd", "valid_on": SEED_DAY},
        {"kind": "odd"},
        {"posted_since": SEED_DAY - dt.timedelta(days=30), "valid_on": SEED_DAY},
        {"valid_on": SEED_DAY, "where": (JobPosting.town == "郭道镇",)},
        {"kind": "fixed", "where": (JobPosting.salary_max >= 4000, JobPosting.salary_min <= 6000)},
    ]
    compared = matched = 0
    with seeded() as session:
        for query in _queries_from(session, rng):
            for chosen in filters:
                options = {"kind": None, "valid_on": None, "posted_since": None, "where": ()}
                options.update(chosen)
                for offset, limit in ((0, 20), (20, 20), (0, 7), (rng.randrange(400), 13)):
                    expected = _scanned_page(session, query, **options, offset=offset, limit=limit)
                    total, rows = search_page(session, query, **options, offset=offset, limit=limit)
                    assert (total, [r.id for r in rows]) == expected, (query, chosen, offset)
                    compared += 1
                    matched += bool(expected[1])
    assert compared > 500 and matched > compared // 3  # most pages compared were not empty


def _posting(**changes) -> JobPosting:
    values = dict(
        kind="fixed",
        title="货车司机",
        occupation="司机",
        employer_name="沁源县示例运输有限公司",
        town="郭道镇",
        village="",
        salary_min=4000,
        salary_max=6000,
        salary_unit="month",
        description="招货车司机2名",
        posted_on=SEED_DAY,
        valid_until=SEED_DAY + dt.timedelta(days=90),
        search_text="",
    )
    values.update(changes)
    return JobPosting(**values)


def _grams_of(session, posting_id: int) -> set[tuple]:
    rows = session.execute(
        select(
            PostingGram.gram, PostingGram.kind, PostingGram.posted_on, PostingGram.valid_until
        ).where(PostingGram.posting_id == posting_id)
    )
    return {tuple(row) for row in rows}


def _expected_grams(text_: str, kind: str, posted_on: dt.date, valid_until: dt.date) -> set:
    return {(g, kind, posted_on, valid_until) for g in grams_of_text(text_)}


def _found(session, query: str, **filters) -> list[int]:
    return [p.id for p in search_page(session, query, **filters, limit=100)[1]]


def test_the_index_follows_inserts_updates_and_deletes(seeded):
    later = SEED_DAY + dt.timedelta(days=200)
    with seeded() as session:
        grams_before = session.scalar(text("SELECT count(*) FROM posting_grams"))
        posting = _posting()
        session.add(posting)
        session.commit()
        pid = posting.id
        assert posting.search_text == "货车司机|司机|沁源县示例运输有限公司|郭道镇|招货车司机2名"
        assert _grams_of(session, pid) == _expected_grams(
            posting.search_text, "fixed", SEED_DAY, SEED_DAY + dt.timedelta(days=90)
        )
        assert pid in _found(session, "货车司", kind="fixed", valid_on=SEED_DAY)

        # new text through the ORM: new grams, the old words no longer find it
        posting.title = "挖掘机手"
        posting.description = "招挖掘机手1名"
        session.commit()
        assert posting.search_text == "挖掘机手|司机|沁源县示例运输有限公司|郭道镇|招挖掘机手1名"
        assert _grams_of(session, pid) == _expected_grams(
            posting.search_text, "fixed", SEED_DAY, SEED_DAY + dt.timedelta(days=90)
        )
        assert pid in _found(session, "挖掘")
        assert pid not in _found(session, "货车")

        # kind and dates changed by plain SQL (no ORM): the trigger copies them to the grams
        session.execute(
            update(JobPosting)
            .where(JobPosting.id == pid)
            .values(kind="odd", posted_on=later, valid_until=later)
        )
        session.commit()
        session.expire_all()
        assert _grams_of(session, pid) == _expected_grams(posting.search_text, "odd", later, later)
        assert _found(session, "挖掘", kind="odd", valid_on=later)[0] == pid  # newest first
        assert pid not in _found(session, "挖掘", kind="fixed")
        assert pid in _found(session, "挖", kind="odd", posted_since=later)

        # … and through the ORM, where the same trigger fires
        posting.valid_until = SEED_DAY
        session.commit()
        assert _grams_of(session, pid) == _expected_grams(
            posting.search_text, "odd", later, SEED_DAY
        )
        assert pid not in _found(session, "挖掘", valid_on=SEED_DAY + dt.timedelta(days=1))

        # deleted by plain SQL and through the ORM: its grams go with it
        session.execute(delete(JobPosting).where(JobPosting.id == pid))
        session.commit()
        assert _grams_of(session, pid) == set()
        second = _posting(title="挖掘机手")
        session.add(second)
        session.commit()
        assert _grams_of(session, second.id) != set()
        session.delete(second)
        session.commit()
        assert _grams_of(session, second.id) == set()
        assert session.scalar(text("SELECT count(*) FROM posting_grams")) == grams_before
