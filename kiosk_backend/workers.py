"""Serve the platform with N uvicorn worker processes sharing one listening socket.

The parent process prepares the database once (:func:`kiosk_backend.app.prepare_database`:
migrations and the demo seed), then uvicorn binds the socket and spawns the workers. Each
worker builds its own app — its own engine and connection pool — from the settings the
parent put in the environment (:data:`SETTINGS_ENV`), without migrating again.

Everything the workers share lives in the database: spent nonces (primary key kiosk + nonce),
idempotency claims (primary key kiosk + key, committed before the route runs), application
and ticket numbers (from row ids), queue numbers (a counter row updated in the filing
transaction) and housekeeping turns (:mod:`kiosk_backend.housekeeping`). A worker keeps no
state that another worker would need to see.

uvicorn's supervisor restarts a worker that dies. One worker (``workers=1``) runs in the
parent process itself, as the single-process server always did.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

from fastapi import FastAPI

from kiosk_backend.app import create_app, prepare_database
from kiosk_backend.settings import ServerSettings

SETTINGS_ENV = "KIOSK_BACKEND_WORKER_SETTINGS"
FACTORY = "kiosk_backend.workers:app_from_environment"


def settings_to_environment(settings: ServerSettings) -> str:
    """*settings* as the JSON text a worker reads back (plain fields only)."""
    return json.dumps(dataclasses.asdict(settings), default=str)


def app_from_environment() -> FastAPI:
    """uvicorn's app factory in each worker: the parent's settings, no migration, no seed."""
    text = os.environ.get(SETTINGS_ENV)
    if not text:
        raise RuntimeError(f"{SETTINGS_ENV} is not set: start workers with serve(..., workers=N)")
    fields: dict[str, Any] = json.loads(text)
    known = {f.name for f in dataclasses.fields(ServerSettings)}
    settings = ServerSettings(**{k: v for k, v in fields.items() if k in known})
    return create_app(settings, prepare=False)


def serve(
    settings: ServerSettings,
    *,
    host: str,
    port: int,
    workers: int = 1,
    log_level: str = "info",
    log_config: dict[str, Any] | None = None,
) -> None:
    """Prepare the database once, then serve with *workers* processes (blocks until stopped)."""
    import uvicorn

    if workers < 1:
        raise ValueError("workers must be at least 1")
    prepare_database(settings)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "access_log": log_level == "debug",
    }
    if log_config is not None:
        options["log_config"] = log_config
    if workers == 1:
        uvicorn.run(create_app(settings, prepare=False), **options)
        return
    os.environ[SETTINGS_ENV] = settings_to_environment(settings)
    uvicorn.run(FACTORY, factory=True, workers=workers, **options)
