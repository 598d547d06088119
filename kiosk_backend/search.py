"""Chinese substring search over job postings with a unigram+bigram index (SQLite and PostgreSQL).

Why not FTS5 trigram: it cannot match one- or two-character queries (司机, 电工), the most common
ones at a kiosk. Instead every posting's ``search_text`` is cut into its distinct characters and
character pairs (``posting_grams``). A query of one character looks up that unigram; a longer
query needs every one of its bigrams present, and a final LIKE on the (few) candidates removes
postings where the pairs occur but not next to each other. Plain SQL, so both databases work.

Why not pg_trgm either: a trigram index cannot serve ``LIKE '%司机%'`` (two characters give no
trigram to look up), and SQLite would still need its own answer.

Speed (migration 0011): each gram row carries its posting's kind, posted_on and valid_until, and
``ix_posting_grams_listing`` orders a gram's rows by (posted_on, posting_id). A search page is
read from the posting list of the query's rarest gram alone: the total is a range count over that
index and the page is the range read backwards (newest first), joined to job_postings only for
the page's rows, for a filter on another column (town, salary …), or for the final LIKE. A
one- or two-character query (one gram) never reads job_postings to count.

Keeping the index in step: ORM hooks below recompute search_text and the grams when a posting
is inserted or its text changes; a trigger (0011) copies changed kind/dates to the grams, also
for plain SQL updates; deleting a posting deletes its grams (ON DELETE CASCADE). Bulk inserts
that bypass the ORM (the demo seed) write the grams themselves with :func:`index_rows`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence

from sqlalchemy import ColumnElement, delete, event, exists, func, insert, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper, Session, aliased

from kiosk_backend.models import JobPosting, PostingGram

MAX_QUERY_CHARS = 20
LIST_PROBE = 2000
_DROP = re.compile(r"[\s\u3000|]+")
FIELD_SEPARATOR = "|"


def normalize(text: str) -> str:
    """NFKC (full-width → half-width), lower-case, whitespace removed."""
    return _DROP.sub("", unicodedata.normalize("NFKC", text).lower())


def grams_of_text(text: str) -> set[str]:
    """Every distinct unigram and bigram of *text*; pairs never span a field separator."""
    grams: set[str] = set()
    for part in text.split(FIELD_SEPARATOR):
        norm = normalize(part)
        grams.update(norm)
        grams.update(norm[i : i + 2] for i in range(len(norm) - 1))
    return grams


def grams_of_query(query: str) -> list[str]:
    """The grams a posting must contain to possibly match *query* (sorted, distinct)."""
    norm = normalize(query)
    if len(norm) <= 1:
        return [norm] if norm else []
    return sorted({norm[i : i + 2] for i in range(len(norm) - 1)})


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_page(
    session: Session,
    query: str,
    *,
    kind: str | None = None,
    valid_on: dt.date | None = None,
    posted_since: dt.date | None = None,
    where: Sequence[ColumnElement[bool]] = (),
    offset: int = 0,
    limit: int = 20,
) -> tuple[int, list[JobPosting]]:
    """One page of postings containing *query*, newest first (posted_on, then id, descending),
    and how many there are in all.

    *kind*, *valid_on* (only postings still valid that day; None: expired ones too) and
    *posted_since* are filters the gram index carries; *where* holds any other conditions on
    JobPosting. A query is read from its rarest gram's rows of ``ix_posting_grams_listing``; an
    empty one (no text filter) from job_postings.
    """
    norm = normalize(query)[:MAX_QUERY_CHARS]
    grams = grams_of_query(norm)
    if grams:
        return _gram_page(session, norm, grams, kind, valid_on, posted_since, where, offset, limit)
    conditions = [*where, *_listing_conditions(JobPosting, kind, valid_on, posted_since)]
    total = session.scalar(select(func.count()).select_from(JobPosting).where(*conditions))
    rows = session.scalars(
        select(JobPosting)
        .where(*conditions)
        .order_by(JobPosting.posted_on.desc(), JobPosting.id.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return total or 0, list(rows)


def _listing_conditions(
    table: type[JobPosting] | type[PostingGram],
    kind: str | None,
    valid_on: dt.date | None,
    posted_since: dt.date | None,
) -> list[ColumnElement[bool]]:
    conditions = []
    if kind is not None:
        conditions.append(table.kind == kind)
    if valid_on is not None:
        conditions.append(table.valid_until >= valid_on)
    if posted_since is not None:
        conditions.append(table.posted_on >= posted_since)
    return conditions


def _gram_page(
    session: Session,
    norm: str,
    grams: list[str],
    kind: str | None,
    valid_on: dt.date | None,
    posted_since: dt.date | None,
    where: Sequence[ColumnElement[bool]],
    offset: int,
    limit: int,
) -> tuple[int, list[JobPosting]]:
    """The page read from the posting list of the query's rarest gram, ordered by the copies of
    posted_on/id it carries; the query's other grams must be present too (primary-key probes),
    and a query longer than two characters is confirmed by LIKE on the postings that remain."""
    driver = grams[0] if len(grams) == 1 else min(grams, key=lambda g: _list_size(session, g))
    conditions = [
        PostingGram.gram == driver,
        *_listing_conditions(PostingGram, kind, valid_on, posted_since),
    ]
    for other in grams:
        if other != driver:
            also = aliased(PostingGram)
            conditions.append(
                exists().where(also.gram == other, also.posting_id == PostingGram.posting_id)
            )
    where = list(where)
    if len(norm) > 2:  # pairs present but maybe not adjacent
        where.append(JobPosting.search_text.like(f"%{escape_like(norm)}%", escape="\\"))
    counted = select(func.count()).select_from(PostingGram)
    if where:  # a condition on another column of the posting: count through the join
        counted = counted.join(JobPosting, JobPosting.id == PostingGram.posting_id).where(*where)
    total = session.scalar(counted.where(*conditions))
    rows = session.scalars(
        select(JobPosting)
        .join(PostingGram, PostingGram.posting_id == JobPosting.id)
        .where(*conditions, *where)
        .order_by(PostingGram.posted_on.desc(), PostingGram.posting_id.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return total or 0, list(rows)


def _list_size(session: Session, gram: str) -> int:
    """How many postings hold *gram*, counted up to LIST_PROBE (enough to pick the rarest)."""
    probe = select(PostingGram.posting_id).where(PostingGram.gram == gram).limit(LIST_PROBE)
    return session.scalar(select(func.count()).select_from(probe.subquery())) or 0


def like_condition(query: str) -> ColumnElement[bool]:
    """The plain LIKE scan the index is compared with (benchmarks only)."""
    norm = normalize(query)[:MAX_QUERY_CHARS]
    return JobPosting.search_text.like(f"%{escape_like(norm)}%", escape="\\")


SEARCHED_FIELDS = ("title", "occupation", "employer_name", "town", "village", "description")


def posting_search_text(posting: JobPosting) -> str:
    parts = (getattr(posting, field) for field in SEARCHED_FIELDS)
    return FIELD_SEPARATOR.join(normalize(p) for p in parts if p)


def index_rows(
    posting_id: int, search_text: str, kind: str, posted_on: dt.date, valid_until: dt.date
) -> list[dict[str, object]]:
    """Rows of posting_grams for one posting (for bulk inserts)."""
    listing = {"kind": kind, "posted_on": posted_on, "valid_until": valid_until}
    return [{"gram": g, "posting_id": posting_id, **listing} for g in grams_of_text(search_text)]


def _rows_of(posting: JobPosting) -> list[dict[str, object]]:
    return index_rows(
        posting.id, posting.search_text, posting.kind, posting.posted_on, posting.valid_until
    )


def _write_grams(connection: Connection, posting: JobPosting) -> None:
    connection.execute(delete(PostingGram).where(PostingGram.posting_id == posting.id))
    rows = _rows_of(posting)
    if rows:
        connection.execute(insert(PostingGram), rows)


@event.listens_for(JobPosting, "before_insert")
def _text_before_insert(_mapper: Mapper, _connection: Connection, posting: JobPosting) -> None:
    posting.search_text = posting_search_text(posting)


@event.listens_for(JobPosting, "before_update")
def _text_before_update(_mapper: Mapper, _connection: Connection, posting: JobPosting) -> None:
    if _changed(posting, SEARCHED_FIELDS):
        posting.search_text = posting_search_text(posting)


@event.listens_for(JobPosting, "after_insert")
def _grams_after_insert(_mapper: Mapper, connection: Connection, posting: JobPosting) -> None:
    rows = _rows_of(posting)
    if rows:
        connection.execute(insert(PostingGram), rows)


@event.listens_for(JobPosting, "after_update")
def _grams_after_update(_mapper: Mapper, connection: Connection, posting: JobPosting) -> None:
    # kind/dates alone are copied by the 0011 trigger; new text needs new grams
    if _changed(posting, (*SEARCHED_FIELDS, "search_text")):
        _write_grams(connection, posting)


def _changed(posting: JobPosting, fields: Sequence[str]) -> bool:
    attributes = inspect(posting).attrs
    return any(attributes[field].history.has_changes() for field in fields)
