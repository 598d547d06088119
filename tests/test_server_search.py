"""The unigram+bigram index answers exactly what a substring scan answers (hypothesis)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from kiosk_backend.db import make_engine, make_session_factory, migrate
from kiosk_backend.models import JobPosting
from kiosk_backend.search import (
    grams_of_query,
    grams_of_text,
    like_condition,
    normalize,
    reindex_posting,
    text_condition,
)

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
            posting = JobPosting(
                kind="fixed",
                title=title,
                occupation="",
                employer_name="",
                town="",
                village="",
                salary_min=1,
                salary_max=2,
                salary_unit="month",
                description="",
                posted_on=dt.date(2026, 1, 1),
                valid_until=dt.date(2026, 2, 1),
                search_text="",
            )
            session.add(posting)
            session.flush()
            reindex_posting(session, posting)
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
        condition = text_condition(query)
        found = (
            set(session.scalars(select(JobPosting.id).where(condition)))
            if condition is not None
            else set(ids)
        )
        scanned = set(session.scalars(select(JobPosting.id).where(like_condition(query))))
    needle = normalize(query)
    expected = {i for i, t in zip(ids, titles, strict=True) if needle in normalize(t)}
    assert found == expected == scanned
