"""The county's web console ``/console/`` for the people behind the kiosks: 附件3 accounts,
the counter's queues, the 问题台账, help requests and the fleet.

Server-rendered (FastAPI + Jinja2), Chinese, sized for a 1366×768 office PC. It uses the
platform's models and rules and :mod:`kiosk.domain`; it never imports the kiosk's screens,
devices or services. Authentication is its own (:mod:`.auth`: cookie sessions, CSRF, idle
sign-out, throttled sign-in); the HMAC signing middleware leaves ``/console`` alone and kiosk
credentials open nothing here. :func:`install` mounts it on the app.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from kiosk_backend.console import (
    accounts,
    applications,
    audit,
    auth,
    fleet,
    help_requests,
    home,
    reviews,
    signin,
    tickets,
)
from kiosk_backend.console.web import HEADERS, STATIC_DIR, render
from kiosk_backend.errors import ApiError
from kiosk_backend.staff.rules import AccountRuleError

PREFIX = "/console"
ROUTERS: tuple[APIRouter, ...] = (
    signin.router,
    home.router,
    accounts.router,
    reviews.router,
    audit.router,
    applications.router,
    tickets.router,
    help_requests.router,
    fleet.router,
)


def is_console_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def install(app: FastAPI) -> None:
    """Mount the console's pages, static files and error pages on *app*."""
    for router in ROUTERS:
        app.include_router(router, prefix=PREFIX, include_in_schema=False)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC_DIR), name="console-static")

    @app.get(PREFIX, include_in_schema=False)
    def _bare():
        return RedirectResponse(f"{PREFIX}/", status_code=307)

    api_error_handler = app.exception_handlers.get(ApiError)

    @app.exception_handler(auth.SignInRequired)
    async def _signin(request: Request, exc: auth.SignInRequired):
        target = f"{PREFIX}/signin" + (f"?reason={exc.reason}" if exc.reason else "")
        if request.headers.get("hx-request"):
            response = RedirectResponse(target, status_code=401)
            response.headers["HX-Redirect"] = target
            return response
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(auth.PasswordChangeRequired)
    async def _password(_request: Request, _exc):
        return RedirectResponse(f"{PREFIX}/password", status_code=303)

    @app.exception_handler(auth.Forbidden)
    async def _forbidden(request: Request, exc: auth.Forbidden):
        return render(
            request, "error.html", None, heading="无权访问", message=str(exc), status_code=403
        )

    @app.exception_handler(auth.CsrfRejected)
    async def _csrf(request: Request, _exc):
        return render(
            request,
            "error.html",
            None,
            heading="请求已失效",
            message="页面已过期或来源不明，请返回后刷新页面再操作。",
            status_code=403,
        )

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        if is_console_path(request.url.path):
            return render(
                request,
                "error.html",
                None,
                heading="无法办理",
                message=exc.message,
                status_code=exc.status,
            )
        return await api_error_handler(request, exc)

    @app.exception_handler(AccountRuleError)
    async def _rule(request: Request, exc: AccountRuleError):
        return render(
            request, "error.html", None, heading="无法办理", message=str(exc), status_code=422
        )

    @app.middleware("http")
    async def _console_headers(request: Request, call_next):
        response = await call_next(request)
        if is_console_path(request.url.path):
            for name, value in HEADERS.items():
                response.headers.setdefault(name, value)
        return response
