"""Chinese substring search over job postings with a unigram+bigram index (SQLite and PostgreSQL).

Why not FTS5 trigram: it cannot match one- or two-character queries (司机, 电工), the most common
ones at a kiosk. Instead every posting's ``search_text`` is cut into its distinct characters and
character pairs (``posting_grams``). A query of one character looks up that unigram; a longer
query needs every one of its bigrams present, and a final LIKE on the (few) candidates removes
postings where the pairs occur but not next to each other. Plain SQL, so both databases work.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import ColumnElement, and_, func, literal, select
from sqlalchemy.orm import Session

from kiosk_backend.models import JobPosting, PostingGram

MAX_QUERY_CHARS = 20
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


def text_condition(query: str) -> ColumnElement[bool] | None:
    """WHERE condition selecting postings whose search_text contains *query* (None: no filter)."""
    norm = normalize(query)[:MAX_QUERY_CHARS]
    grams = grams_of_query(norm)
    if not grams:
        return None
    if len(grams) == 1:  # one- and two-character queries: the posting list of one gram
        candidates = select(PostingGram.posting_id).where(PostingGram.gram == grams[0])
    else:  # every bigram of the query present
        candidates = (
            select(PostingGram.posting_id)
            .where(PostingGram.gram.in_(grams))
            .group_by(PostingGram.posting_id)
            .having(func.count() == literal(len(grams)))
        )
    condition = JobPosting.id.in_(candidates)
    if len(norm) > 2:  # pairs present but maybe not adjacent: confirm on the candidates
        condition = and_(
            condition, JobPosting.search_text.like(f"%{escape_like(norm)}%", escape="\\")
        )
    return condition


def like_condition(query: str) -> ColumnElement[bool]:
    """The plain LIKE scan the index is compared with (benchmarks only)."""
    norm = normalize(query)[:MAX_QUERY_CHARS]
    return JobPosting.search_text.like(f"%{escape_like(norm)}%", escape="\\")


def posting_search_text(posting: JobPosting) -> str:
    parts = [
        posting.title,
        posting.occupation,
        posting.employer_name,
        posting.town,
        posting.village,
        posting.description,
    ]
    return FIELD_SEPARATOR.join(normalize(p) for p in parts if p)


def index_rows(posting_id: int, search_text: str) -> list[dict[str, object]]:
    """Rows of posting_grams for one posting (for bulk inserts)."""
    return [{"gram": g, "posting_id": posting_id} for g in grams_of_text(search_text)]


def reindex_posting(session: Session, posting: JobPosting) -> None:
    """Recompute search_text and the grams of one posting (caller commits)."""
    posting.search_text = posting_search_text(posting)
    session.flush()
    session.query(PostingGram).filter(PostingGram.posting_id == posting.id).delete()
    rows = index_rows(posting.id, posting.search_text)
    if rows:
        session.execute(PostingGram.__table__.insert(), rows)
