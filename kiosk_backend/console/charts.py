"""A kiosk's heartbeat history as a picture: a server-rendered SVG (no script, no styles —
presentation attributes only, so the console's CSP holds).

Top lane: one mark per heartbeat (green: all well; amber: paper low/out or a device fault),
and every silence longer than :data:`MISSED_BEATS` heartbeat intervals as a red band with its
length. Lower panel: the outbox backlog (submissions waiting to be delivered) over the window.
Pure: takes plain values, returns markup.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

MISSED_BEATS = 3
WIDTH, HEIGHT = 960, 250
LEFT, RIGHT = 56, 16
LANE_TOP, LANE_HEIGHT = 34, 34
PANEL_TOP, PANEL_HEIGHT = 108, 100
GREEN, AMBER, RED, GREY, INK = "#2e7d32", "#c77700", "#c62828", "#9aa3ad", "#1a1a1a"


@dataclass(frozen=True)
class Beat:
    at: dt.datetime
    outbox_depth: int = 0
    paper_level: str = "unknown"
    device_faults: int = 0

    @property
    def healthy(self) -> bool:
        return self.device_faults == 0 and self.paper_level not in ("low", "out")


@dataclass(frozen=True)
class Gap:
    start: dt.datetime
    end: dt.datetime

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


def gaps(beats: list[Beat], start: dt.datetime, end: dt.datetime, interval_s: int) -> list[Gap]:
    """Silences longer than MISSED_BEATS intervals within [start, end] (also before the first
    beat of the window and after the last one, up to *end*); *beats* in any order."""
    limit = dt.timedelta(seconds=interval_s * MISSED_BEATS)
    moments = [start] + sorted(b.at for b in beats if start <= b.at <= end) + [end]
    found = [Gap(a, b) for a, b in zip(moments, moments[1:], strict=False) if b - a > limit]
    return found


def heartbeat_svg(
    beats: list[Beat],
    *,
    now: dt.datetime,
    hours: int = 24,
    interval_s: int = 60,
    tz: str = "Asia/Shanghai",
) -> str:
    """The SVG of the last *hours* hours up to *now* (beats in any order)."""
    start = now - dt.timedelta(hours=hours)
    beats = sorted((b for b in beats if start <= b.at <= now), key=lambda b: b.at)
    span = (now - start).total_seconds()
    plot_width = WIDTH - LEFT - RIGHT

    def x(moment: dt.datetime) -> float:
        return round(LEFT + (moment - start).total_seconds() / span * plot_width, 1)

    silences = gaps(beats, start, now, interval_s)
    longest = max((g.minutes for g in silences), default=0)
    summary = f"最近{hours}小时收到心跳{len(beats)}次，中断{len(silences)}次" + (
        f"，最长{longest}分钟" if silences else ""
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(summary)}">',
        f"<title>{escape(summary)}</title>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="20" font-size="14" fill="{INK}">心跳（每次一条竖线；红色为中断）</text>',
        f'<rect x="{LEFT}" y="{LANE_TOP}" width="{plot_width}" height="{LANE_HEIGHT}" '
        f'fill="#f1f3f5" stroke="{GREY}" stroke-width="0.5"/>',
    ]
    for gap in silences:
        x0, x1 = x(gap.start), x(gap.end)
        parts.append(
            f'<rect class="gap" x="{x0}" y="{LANE_TOP}" width="{max(1.0, round(x1 - x0, 1))}" '
            f'height="{LANE_HEIGHT}" fill="{RED}" fill-opacity="0.35">'
            f"<title>中断 {gap.minutes} 分钟</title></rect>"
        )
        if x1 - x0 > 70:
            parts.append(
                f'<text x="{round((x0 + x1) / 2, 1)}" y="{LANE_TOP + 22}" font-size="12" '
                f'text-anchor="middle" fill="{RED}">中断{gap.minutes}分钟</text>'
            )
    for beat in beats:
        colour = GREEN if beat.healthy else AMBER
        parts.append(
            f'<rect class="beat" x="{x(beat.at)}" y="{LANE_TOP + 4}" width="1.2" '
            f'height="{LANE_HEIGHT - 8}" fill="{colour}"/>'
        )
    parts += _outbox_panel(beats, x, plot_width)
    parts += _time_axis(start, now, hours, x, tz)
    parts.append("</svg>")
    return "".join(parts)


def _outbox_panel(beats: list[Beat], x, plot_width: int) -> list[str]:
    top = max((b.outbox_depth for b in beats), default=0)
    scale_max = max(5, top)
    bottom = PANEL_TOP + PANEL_HEIGHT

    def y(depth: int) -> float:
        return round(bottom - depth / scale_max * PANEL_HEIGHT, 1)

    parts = [
        f'<text x="{LEFT}" y="{PANEL_TOP - 8}" font-size="14" fill="{INK}">'
        f"待上传业务（最多 {top} 笔）</text>",
        f'<rect x="{LEFT}" y="{PANEL_TOP}" width="{plot_width}" height="{PANEL_HEIGHT}" '
        f'fill="none" stroke="{GREY}" stroke-width="0.5"/>',
        f'<text x="{LEFT - 6}" y="{PANEL_TOP + 10}" font-size="11" text-anchor="end" '
        f'fill="{INK}">{scale_max}</text>',
        f'<text x="{LEFT - 6}" y="{bottom}" font-size="11" text-anchor="end" fill="{INK}">0</text>',
    ]
    if beats:
        points = " ".join(f"{x(b.at)},{y(b.outbox_depth)}" for b in beats)
        parts.append(
            f'<polyline class="outbox" points="{points}" fill="none" stroke="#0b4f8a" '
            f'stroke-width="1.5"/>'
        )
    return parts


def _time_axis(start: dt.datetime, end: dt.datetime, hours: int, x, tz: str) -> list[str]:
    zone = ZoneInfo(tz)
    step = dt.timedelta(hours=max(1, hours // 8))
    local_start = start.astimezone(zone)
    tick = local_start.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    parts = []
    base = PANEL_TOP + PANEL_HEIGHT
    while tick <= end:
        px = x(tick.astimezone(dt.UTC))
        parts.append(
            f'<line x1="{px}" y1="{LANE_TOP}" x2="{px}" y2="{base + 4}" stroke="{GREY}" '
            f'stroke-width="0.4" stroke-dasharray="2,3"/>'
            f'<text x="{px}" y="{base + 18}" font-size="11" text-anchor="middle" '
            f'fill="{INK}">{tick:%H:%M}</text>'
        )
        tick += step
    parts.append(
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 4}" font-size="11" text-anchor="end" '
        f'fill="{INK}">现在 {end.astimezone(zone):%m-%d %H:%M}</text>'
    )
    return parts
