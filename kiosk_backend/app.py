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
from kiosk_backend.identity_sessions import IdentityPolicy
from kiosk_backend.models import Kiosk, Person
from kiosk_backend.openapi_doc import build_openapi
from kiosk_backend.provision import upsert_kiosk
from kiosk_backend.routes import ROUTERS
from kiosk_backend.security import SignedRequestMiddleware, post_markers
from kiosk_backend.seed.places import REGION_CODE
from kiosk_backend.server_keys import ServerKeys, load_server_keys
from kiosk_backend.settings import DEMO_SERVICE_POINT, ServerSettings
from kiosk_backend.staff.scheduler import Housekeeping
from kiosk_backend.ticket_routing import answer_days_from

log = logging.getLogger(__name__)

API_VERSION = "1.0.0"
API_PREFIX = "/api/v1"
API_TITLE = "就近办 platform API (kiosk contract)"


def prepare_database(settings: ServerSettings) -> None:
    """Apply migrations and seed demo data if asked: once per deployment, before any worker.

    Blocking (database work). ``kiosk backend serve --workers N`` calls it in the parent
    process, so N workers never race each other through Alembic or the seed.
    """
    keys = load_server_keys(settings.db_url, settings.key_file or None)
    engine = make_engine(settings.db_url)
    try:
        migrate(engine, keys)
        _prepare_demo(settings, make_session_factory(engine), keys)
    finally:
        engine.dispose()


def create_app(settings: ServerSettings, *, prepare: bool = True) -> FastAPI:
    """Build the server for *settings*: apply migrations, seed demo data if asked, wire routes.

    *prepare* False skips the migrations and the seed (a worker process of a multi-worker
    server, whose parent ran :func:`prepare_database`). Blocking (database work) — call it
    before serving, not from an event loop. Loads (or creates, beside an SQLite file) the
    server key ring: ServerKeyError when it cannot.
    """
    policy = identity_policy(settings)
    keys = load_server_keys(settings.db_url, settings.key_file or None)
    engine = make_engine(
        settings.db_url,
        pool_size=settings.db_pool_size,
        pool_timeout=settings.db_pool_timeout_seconds or None,
    )
    sessions = make_session_factory(engine)
    if prepare:
        migrate(engine, keys)
        _prepare_demo(settings, sessions, keys)

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
    app.state.identity_policy = policy
    # 附件5 answer deadlines: a local rule (ValueError at start-up when malformed)
    app.state.answer_days = answer_days_from(settings.answer_working_days)
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.server_keys = keys
    app.state.zone = ZoneInfo(settings.timezone)
    with sessions() as session:
        app.state.progress_key = ensure_key(session)
    app.state.progress_limits = progress.PageLimits()
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX, responses={})
    app.include_router(progress.router)  # public, unsigned, outside the kiosk contract
    console.install(app)
    app.add_middleware(
        SignedRequestMiddleware,
        sessions=sessions,
        keys=keys,
        markers=post_markers(ROUTERS, API_PREFIX),
        clock_skew_seconds=settings.clock_skew_seconds,
        nonce_ttl_seconds=settings.nonce_ttl_seconds,
        max_body_bytes=settings.max_body_bytes,
        outbox_answer_ttl_seconds=settings.outbox_answer_ttl_seconds,
        direct_answer_ttl_seconds=settings.direct_answer_ttl_seconds,
    )
    app.openapi = lambda: _cached_openapi(app)  # type: ignore[method-assign]
    return app


def identity_policy(settings: ServerSettings) -> IdentityPolicy:
    """The identity rules of *settings* (ValueError for values out of range)."""
    return IdentityPolicy(
        token_seconds=settings.identity_token_seconds,
        session_max_seconds=settings.identity_session_max_seconds,
        accepted_evidence=frozenset(settings.identity_evidence),
        deferred_hours=settings.identity_deferred_hours,
        person_limit=settings.person_limit,
        person_window_seconds=settings.person_limit_window_seconds,
    )


def _cached_openapi(app: FastAPI):
    if app.openapi_schema is None:
        app.openapi_schema = build_openapi(app)
    return app.openapi_schema


def _prepare_demo(settings: ServerSettings, sessions, keys: ServerKeys) -> None:
    if settings.demo_kiosk_secret_hex:
        with sessions() as session:
            existing = session.get(Kiosk, settings.demo_kiosk_id)
            # The demo kiosk stands in the demo county (as the county would provision it), so
            # its tickets and applications reach the demo desks.
            upsert_kiosk(
                session,
                settings.demo_kiosk_id,
                settings.demo_kiosk_secret_hex,
                DEMO_SERVICE_POINT,
                keys=keys,
                region_code=None if existing is not None and existing.region_code else REGION_CODE,
            )
            session.commit()
    if settings.seed_demo:
        from kiosk_backend.seed.desks import ensure_demo_desks

        with sessions() as session:
            ensure_demo_desks(session, keys)
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
