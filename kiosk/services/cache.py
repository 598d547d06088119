"""Offline cache of public platform data (catalogue, policies, job fairs, recent postings).

Every successful fetch is stored (raw JSON, with the time it was fetched) in the kiosk store; when
the platform cannot be reached, the last copy is served instead, marked ``from_cache`` with its
``data_as_of`` so the screen can say 数据更新于 …. Only public, non-personal data goes here —
personal records are never cached (the client raises BackendUnavailable for those and the UI
shows :data:`kiosk.services.errors.OFFLINE_RECORDS_MESSAGE`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from kiosk.domain.clock import ServiceClock
from kiosk.services import api_models as m
from kiosk.services.backend_client import (
    PATH_ARCHIVE_AGENCIES,
    PATH_CATALOGUE,
    PATH_JOB_FAIRS,
    PATH_JOBS,
    PATH_PLACES,
    PATH_POLICIES,
)
from kiosk.services.errors import BackendAuthError, BackendServerError, BackendUnavailable
from kiosk.services.store import KioskStore, cache_entries

log = logging.getLogger(__name__)

T = TypeVar("T")
U = TypeVar("U")

# Failures after which cached data is better than an error screen. A 401 is included: a kiosk
# whose signature is refused still shows the job board while the administrator fixes it.
SERVE_CACHE_ON = (BackendUnavailable, BackendServerError, BackendAuthError)


@dataclass(frozen=True)
class Cached(Generic[T]):
    """A value plus when the platform gave it to us (unix seconds) and whether it is a cached
    copy served because the platform is unreachable right now."""

    value: T
    data_as_of: float
    from_cache: bool

    def data_as_of_text(self, clock: ServiceClock) -> str:
        """``数据更新于 2026-11-29 08:30`` on the service point's *clock*, for the screen."""
        return f"数据更新于 {clock.from_timestamp(self.data_as_of):%Y-%m-%d %H:%M}"

    def map(self, convert: Callable[[T], U]) -> Cached[U]:
        return Cached(convert(self.value), self.data_as_of, self.from_cache)


class OfflineCache:
    """Read-through cache over the store's ``cache_entries`` table. Thread-safe."""

    def __init__(self, store: KioskStore, clock: Callable[[], float] = time.time) -> None:
        self._engine = store.engine
        self._clock = clock

    def fetch(self, key: str, fetch: Callable[[], Any]) -> Cached[Any]:
        """Call *fetch*; store and return its JSON value, or the cached copy if it failed.

        Raises the fetch's error when it failed and nothing is cached under *key*, or when the
        platform rejected the request (4xx other than 401: a cached answer would be wrong too).
        """
        try:
            value = fetch()
        except SERVE_CACHE_ON as exc:
            hit = self.get(key)
            if hit is None:
                raise
            log.info("serving cached data", extra={"event": "cache_hit", "code": exc.code})
            return hit
        now = self._clock()
        try:
            self.put(key, value, now)
        except sa.exc.SQLAlchemyError as exc:
            # A full disk must not cost the resident the answer the platform just gave;
            # only the offline copy is not refreshed.
            log.warning("cache not written: %s", type(exc).__name__, extra={"event": "cache_write"})
        return Cached(value, now, False)

    def put(self, key: str, value: Any, fetched_at: float | None = None) -> None:
        body = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        fetched_at = self._clock() if fetched_at is None else fetched_at
        with self._engine.begin() as conn:
            conn.execute(cache_entries.delete().where(cache_entries.c.key == key))
            conn.execute(cache_entries.insert().values(key=key, body=body, fetched_at=fetched_at))

    def get(self, key: str) -> Cached[Any] | None:
        """The cached copy under *key* (``from_cache=True``), or None."""
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(cache_entries.c.body, cache_entries.c.fetched_at).where(
                    cache_entries.c.key == key
                )
            ).first()
        if row is None:
            return None
        try:
            value = json.loads(row.body)
        except ValueError:
            return None
        return Cached(value, row.fetched_at, True)

    def keys(self) -> list[str]:
        with self._engine.connect() as conn:
            return list(conn.execute(sa.select(cache_entries.c.key)).scalars())


class PublicInfo:
    """Public information for the screens, served from the cache when the platform is away.

    Each method returns :class:`Cached` of the typed value; ``from_cache`` and
    ``data_as_of_text()`` tell the screen to show 数据更新于 …. Raises BackendUnavailable only when
    the platform is unreachable *and* nothing was cached yet. Blocks: call off the UI thread.
    """

    RECENT_POSTINGS_SIZE = 100

    def __init__(self, client, cache: OfflineCache) -> None:
        self._client = client
        self._cache = cache

    def catalogue(self) -> Cached[m.Catalogue]:
        return self._typed("catalogue", m.Catalogue, lambda: self._client.get(PATH_CATALOGUE))

    def places(self) -> Cached[m.Places]:
        return self._typed("places", m.Places, lambda: self._client.get(PATH_PLACES))

    def policies(self, page: int = 1, page_size: int = 20) -> Cached[m.PolicyPage]:
        params = {"page": page, "page_size": page_size}
        return self._typed(
            f"policies:{page}:{page_size}",
            m.PolicyPage,
            lambda: self._client.get(PATH_POLICIES, params=params),
        )

    def job_fairs(self) -> Cached[m.JobFairs]:
        return self._typed("job_fairs", m.JobFairs, lambda: self._client.get(PATH_JOB_FAIRS))

    def archive_agencies(self) -> Cached[m.ArchiveAgencies]:
        return self._typed(
            "archive_agencies", m.ArchiveAgencies, lambda: self._client.get(PATH_ARCHIVE_AGENCIES)
        )

    def recent_postings(self, kind: str | None = None) -> Cached[m.PostingPage]:
        """The newest postings (of *kind*: fixed / odd / None for both)."""
        params = {"page": 1, "page_size": self.RECENT_POSTINGS_SIZE}
        if kind:
            params["kind"] = kind
        return self._typed(
            f"recent_postings:{kind or 'all'}",
            m.PostingPage,
            lambda: self._client.get(PATH_JOBS, params=params),
        )

    def search_jobs(self, q: str, kind: str | None = None) -> Cached[m.PostingPage]:
        """Search the platform; offline, search the cached recent postings for *q* instead
        (title, occupation, employer, town, village) and say so via ``from_cache``."""
        try:
            return Cached(self._client.search_jobs(q, kind=kind), time.time(), False)
        except SERVE_CACHE_ON:
            cached = self._cache.get(f"recent_postings:{kind or 'all'}")
            if cached is None and kind:
                cached = self._cache.get("recent_postings:all")
            if cached is None:
                raise
        page = m.parse(m.PostingPage, cached.value)
        hits = [p for p in page.items if _matches(p, q) and (kind is None or p.kind == kind)]
        return Cached(
            m.PostingPage(page=1, page_size=len(hits), total=len(hits), items=hits),
            cached.data_as_of,
            True,
        )

    def _typed(self, key: str, cls, fetch) -> Cached:
        return self._cache.fetch(key, fetch).map(lambda value: m.parse(cls, value))


def _matches(posting, q: str) -> bool:
    fields = (
        posting.title,
        posting.occupation,
        posting.employer_name,
        posting.town,
        posting.village,
    )
    return all(any(word in text for text in fields) for word in q.split())
