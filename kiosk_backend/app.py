"""The app factory: ``create_app(ServerSettings) -> FastAPI`` (migrates, seeds, wires security)."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from sqlalchemy import func, select

from kiosk_backend import __doc__ as package_doc
from kiosk_backend import console
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
from kiosk_backend.ticket_routing import answer_days_from

log = logging.getLogger(__name__)

API_VERSION = "1.0.0"
API_TITLE = "就近办 platform API (kiosk contract)"


def create_app(settings: ServerSettings) -> FastAPI:
    """Build the server for *settings*: apply migrations, seed demo data if asked, wire routes.

    Blocking (database work) — call it before serving, not from an event loop.
    """
    engine = make_engine(settings.db_url)
    migrate(engine)
    sessions = make_session_factory(engine)
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
    # 附件5 answer deadlines: a local rule (ValueError at start-up when malformed)
    app.state.answer_days = answer_days_from(settings.answer_working_days)
    app.state.engine = engine
    app.state.sessions = sessions
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router, prefix="/api/v1", responses={})
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
