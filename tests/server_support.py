"""What the server test modules share: the databases to run on and a seeded server on each.

``DB_PARAMS`` parametrizes a module-scoped fixture over SQLite and PostgreSQL (skipped without
KIOSK_TEST_PG_URL); :func:`backend_on` starts the seeded reference server on the one asked.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import pytest

from kiosk_backend.testing import RunningBackend, running_backend, scratch_postgres_database


def _db_params() -> list:
    marks = [pytest.mark.postgres]
    if not os.environ.get("KIOSK_TEST_PG_URL"):
        marks.append(pytest.mark.skip(reason="KIOSK_TEST_PG_URL not set"))
    return [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="pg", marks=marks)]


DB_PARAMS = _db_params()


@contextlib.contextmanager
def backend_on(kind: str, tmp_path_factory, **settings: Any) -> Iterator[RunningBackend]:
    """A seeded server on *kind* ("sqlite": a file under a fresh temporary directory;
    "postgres": a scratch database); *settings* go to ``running_backend``."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('server') / 'backend.sqlite3'}"
        with running_backend(url, **settings) as running:
            yield running
    else:
        with (
            scratch_postgres_database(os.environ["KIOSK_TEST_PG_URL"]) as url,
            running_backend(url, **settings) as running,
        ):
            yield running
