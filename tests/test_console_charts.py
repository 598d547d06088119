"""The heartbeat chart is a picture with the facts in it: one mark per beat, a red band per
silence longer than three intervals, the backlog as a line; valid SVG with nothing executable."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from kiosk_backend.console.charts import Beat, gaps, heartbeat_svg

NOW = dt.datetime(2027, 3, 5, 8, 0, tzinfo=dt.UTC)
SVG = "{http://www.w3.org/2000/svg}"


def _beats(minutes_ago: list[int]) -> list[Beat]:
    return [Beat(NOW - dt.timedelta(minutes=m), outbox_depth=m % 4) for m in minutes_ago]


def test_silences_longer_than_three_intervals_are_gaps():
    beats = _beats([1, 2, 3, 30, 31])  # 27 minutes of silence between 30 and 3 minutes ago
    found = gaps(beats, NOW - dt.timedelta(minutes=32), NOW, interval_s=60)
    assert [(g.start, g.end, g.minutes) for g in found] == [
        (NOW - dt.timedelta(minutes=30), NOW - dt.timedelta(minutes=3), 27)
    ]


def test_a_kiosk_silent_since_its_last_beat_ends_in_a_gap():
    found = gaps(_beats([20]), NOW - dt.timedelta(minutes=21), NOW, interval_s=60)
    assert [g.minutes for g in found] == [20]


def test_the_svg_draws_each_beat_each_gap_and_the_backlog():
    svg = heartbeat_svg(_beats([1, 2, 3, 30, 31]), now=NOW, hours=1, interval_s=60)
    root = ET.fromstring(svg)
    rects = root.findall(f"{SVG}rect")
    assert len([r for r in rects if r.get("class") == "beat"]) == 5
    assert len([r for r in rects if r.get("class") == "gap"]) == 2  # before 31 min ago, and 30→3
    assert root.get("aria-label") == "最近1小时收到心跳5次，中断2次，最长29分钟"
    assert len(root.find(f"{SVG}polyline").get("points").split()) == 5
    assert "script" not in svg and "style=" not in svg and "on" + "load" not in svg


def test_texts_are_escaped():
    svg = heartbeat_svg([], now=NOW, hours=24, tz="Asia/Shanghai")
    ET.fromstring(svg)  # well-formed even with no beats at all
    assert "收到心跳0次，中断1次" in svg
