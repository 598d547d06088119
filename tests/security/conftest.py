"""Fixtures of the security tests (helpers in :mod:`security.support`)."""

from __future__ import annotations

import pytest

from security.support import database, db_params, serve


@pytest.fixture(scope="module", params=db_params())
def platform_server(request, tmp_path_factory):
    """The reference platform on 127.0.0.1 (SQLite, and PostgreSQL when configured) with the
    demo seed; the person limit is out of the way (its own tests set it)."""
    with (
        database(request.param, tmp_path_factory.mktemp("platform")) as url,
        serve(url, person_limit=10_000) as running,
    ):
        yield running
