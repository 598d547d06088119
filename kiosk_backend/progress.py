"""The public progress page a receipt's QR code opens (check codes: :mod:`check_codes`).

The page ``GET /progress/{number}?c={code}`` is public: no signature, no identity token, and no
personal data — the item, its status, the 办结时限 and when it last changed, in Chinese, sized
for a phone. A wrong, missing or malformed code and an unknown number all get the same plain
404 page, byte for byte, and the same work (the tag is computed and compared in constant time
before any lookup), so the answer never tells whether a number exists. Each client address
may ask ``PAGE_LIMIT`` times a minute and miss ``MISS_LIMIT`` times in ten minutes; past that it
gets 429 until the window passes (in-process counters: one limiter per server process).
"""

from __future__ import annotations

import collections
import html
import logging
import threading
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from kiosk.domain.clock import minute_text
from kiosk_backend import catalogue
from kiosk_backend.check_codes import code_matches
from kiosk_backend.filing import STATUS_LABELS, deadline_label
from kiosk_backend.models import Application

log = logging.getLogger(__name__)

PAGE_PATH_PREFIX = "/progress/"
PAGE_LIMIT = (30, 60.0)  # requests per window (seconds) per client address
MISS_LIMIT = (10, 600.0)  # answers that found nothing per window per client address
TRACKED_CLIENTS = 10_000  # addresses remembered per limiter (oldest forgotten first)
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the URL holds the check code: never pass it on
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
}


# -- rate limiting -------------------------------------------------------------------------------


class RateLimiter:
    """At most *limit* events per *window* seconds per key (sliding window). Thread-safe;
    remembers at most ``TRACKED_CLIENTS`` keys (the least recently seen are forgotten)."""

    def __init__(
        self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.window, self._clock = limit, window, clock
        self._events: collections.OrderedDict[str, collections.deque[float]] = (
            collections.OrderedDict()
        )
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> collections.deque[float]:
        events = self._events.setdefault(key, collections.deque())
        self._events.move_to_end(key)
        while events and events[0] <= now - self.window:
            events.popleft()
        while len(self._events) > TRACKED_CLIENTS:
            self._events.popitem(last=False)
        return events

    def exhausted(self, key: str) -> bool:
        """Whether *key* has used up its window (without counting this question)."""
        with self._lock:
            return len(self._recent(key, self._clock())) >= self.limit

    def hit(self, key: str) -> bool:
        """Count one event for *key*; False when it was over the limit (not counted then)."""
        with self._lock:
            now = self._clock()
            events = self._recent(key, now)
            if len(events) >= self.limit:
                return False
            events.append(now)
            return True


class PageLimits:
    """The page's two limiters (requests, misses), kept on ``app.state``."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.requests = RateLimiter(*PAGE_LIMIT, clock=clock)
        self.misses = RateLimiter(*MISS_LIMIT, clock=clock)


# -- the page ------------------------------------------------------------------------------------

router = APIRouter(include_in_schema=False)

_STYLE = (
    "body{margin:0;font-family:'Noto Sans CJK SC','WenQuanYi Micro Hei','Microsoft YaHei',"
    "sans-serif;background:#eef3f9;color:#12243a;font-size:20px;line-height:1.6}"
    "header{background:#0b3d78;color:#fff;padding:16px 20px;font-size:22px;font-weight:bold}"
    "main{padding:16px 20px;max-width:640px;margin:0 auto}"
    ".card{background:#fff;border-radius:12px;padding:16px 20px;margin:12px 0}"
    "dt{color:#4a5d75;font-size:17px;margin-top:10px}dd{margin:0;font-size:22px;"
    "font-weight:bold}p.note{color:#4a5d75;font-size:17px}"
)


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><header>人社“就近办” 办件进度查询</header><main>{body}</main></body></html>"
    )


NOT_FOUND_PAGE = _page(
    "未找到办件",
    '<div class="card"><p>未找到该办件。</p><p class="note">请核对凭证上的二维码后重新扫码；'
    "也可携带凭证到服务点，在自助机“我的办件”中查询。</p></div>",
)
TOO_MANY_PAGE = _page(
    "查询过于频繁",
    '<div class="card"><p>查询过于频繁，请稍后再试。</p></div>',
)


def _answer(content: str, status: int = 200, extra: dict[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(content, status_code=status, headers={**PAGE_HEADERS, **(extra or {})})


def _client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def progress_body(application: Application, zone: ZoneInfo) -> str:
    """The page body for *application*: item, status, 办结时限, last change. Nothing personal
    (no name, ID number, phone, answers or the desk's free-text reason)."""
    item = catalogue.item(application.item_no)
    status = STATUS_LABELS.get(application.status, application.status)
    changed = application.updated_at or application.submitted_at
    rows = [
        ("办理事项", f"{item.no} {item.name}"),
        ("受理编号", application.number),
        ("办理状态", status),
        ("办结时限", deadline_label(application) or "—"),
        ("提交时间", minute_text(application.submitted_at.astimezone(zone))),
        ("最近更新", minute_text(changed.astimezone(zone))),
    ]
    if application.queue_no and application.status == "waiting_counter":
        rows.append(("排队号", application.queue_no))
    items = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in rows)
    note = "如对办理结果有疑问，请携带凭证到服务点咨询，或在自助机“我的办件”查看详情。"
    if application.status == "rejected":
        note = "本办件不予受理。原因请本人在自助机“我的办件”查看，或携带身份证到服务点咨询。"
    return f'<div class="card"><dl>{items}</dl></div><p class="note">{html.escape(note)}</p>'


@router.get(PAGE_PATH_PREFIX + "{number}", response_class=HTMLResponse)
def progress_page(request: Request, number: str, c: str = "") -> HTMLResponse:
    state = request.app.state
    client = _client_key(request)
    if state.progress_limits.misses.exhausted(client) or not state.progress_limits.requests.hit(
        client
    ):
        return _answer(TOO_MANY_PAGE, 429, {"Retry-After": "60"})
    matches = code_matches(state.progress_key, number, c)  # before, and whatever, the lookup
    application = None
    if matches:
        with state.sessions() as session:
            application = session.scalar(select(Application).where(Application.number == number))
            body = progress_body(application, state.zone) if application is not None else ""
    if application is None:
        state.progress_limits.misses.hit(client)
        log.info("progress page: nothing found", extra={"event": "progress_miss"})
        return _answer(NOT_FOUND_PAGE, 404)
    return _answer(_page("办件进度", body))
