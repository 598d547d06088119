"""The app factory: ``create_app(ServerSettings) -> FastAPI`` (migrates, seeds, wires security)."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from sqlalchemy import func, select

from kiosk_backend import __doc__ as package_doc
from kiosk_backend import console, progress
from kiosk_backend.check_codes import ensure_key
from kiosk_backend.db import make_engine, make_session_factory, migrate
from kiosk_backend.errors import install_error_handlers
from kiosk_backend.models import Person
from kiosk_backend.openapi_doc import build_openapi
from kiosk_backend.provision import upsert_kiosk
from kiosk_backend.routes import ROUTERS
from kiosk_backend.security import SignedRequestMiddleware
from kiosk_backend.seed.places import REGION_CODE
from kiosk_backend.settings import DEMO_SERVICE_POINT, ServerSettings
from kiosk_backend.staff.scheduler import Housekeeping

log = logging.getLogger(__name__)

API_VERSION = "1.0.0"
API_TITLE = "就近办 platform API (kiosk contract)"


def prepare_database(settings: ServerSettings) -> None:
    """Apply migrations and seed demo data if asked: once per deployment, before any worker.

    Blocking (database work). ``kiosk backend serve --workers N`` calls it in the parent
    process, so N workers never race each other through Alembic or the seed.
    """
    engine = make_engine(settings.db_url)
    try:
        migrate(engine)
        _prepare_demo(settings, make_session_factory(engine))
    finally:
        engine.dispose()


def create_app(settings: ServerSettings, *, prepare: bool = True) -> FastAPI:
    """Build the server for *settings*: apply migrations, seed demo data if asked, wire routes.

    *prepare* False skips the migrations and the seed (a worker process of a multi-worker
    server, whose parent ran :func:`prepare_database`). Blocking (database work) — call it
    before serving, not from an event loop.
    """
    engine = make_engine(settings.db_url)
    sessions = make_session_factory(engine)
    if prepare:
        migrate(engine)
        _prepare_demo(settings, sessions)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        housekeeping = Housekeeping(
            sessions, every_seconds=settings.staff_lock_check_seconds, tz=settings.timezone
        ).start()
        yield
        housekeeping.stop()
        engine.dispose()

    app = FastAPI(
        title=API_TITLE,
        version=API_VERSION,
        description=(package_doc or "").strip(),
        lifespan=lifespan,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.zone = ZoneInfo(settings.timezone)
    with sessions() as session:
        app.state.progress_key = ensure_key(session)
    app.state.progress_limits = progress.PageLimits()
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router, prefix="/api/v1", responses={})
    app.include_router(progress.router)  # public, unsigned, outside the kiosk contract
    console.install(app)
    app.add_middleware(
        SignedRequestMiddleware,
        sessions=sessions,
        clock_skew_seconds=settings.clock_skew_seconds,
        nonce_ttl_seconds=settings.nonce_ttl_seconds,
        max_body_bytes=settings.max_body_bytes,
    )
    app.openapi = lambda: _cached_openapi(app)  # type: ignore[method-assign]
    return app


def _cached_openapi(app: FastAPI):
    if app.openapi_schema is None:
        app.openapi_schema = build_openapi(app)
    return app.openapi_schema


def _prepare_demo(settings: ServerSettings, sessions) -> None:
    if settings.demo_kiosk_secret_hex:
        with sessions() as session:
            kiosk = upsert_kiosk(
                session, settings.demo_kiosk_id, settings.demo_kiosk_secret_hex, DEMO_SERVICE_POINT
            )
            # Until it announces itself the demo kiosk sits in the demo county, so its tickets
            # and applications reach the demo desks.
            kiosk.region_code = kiosk.region_code or REGION_CODE
            session.commit()
    if settings.seed_demo:
        from kiosk_backend.seed.desks import ensure_demo_desks

        with sessions() as session:
            ensure_demo_desks(session)
            session.commit()
    if settings.seed_demo:
        with sessions() as session:
            empty = session.scalar(select(func.count()).select_from(Person)) == 0
        if empty:
            from kiosk_backend.seed.demo import seed_demo_data

            log.info("seeding demo data")
            today = dt.datetime.now(ZoneInfo(settings.timezone)).date()
            seed_demo_data(
                sessions,
                postings=settings.seed_postings,
                persons=settings.seed_persons,
                today=today,
            )
