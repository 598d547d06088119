"""The hidden maintenance gesture: long press top-left, then four corner taps clockwise."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.domain.gesture import (
    DOWN,
    MOVE,
    UP,
    Corner,
    GestureInputError,
    GestureRecognizer,
)

PORTRAIT = (1080, 1920)
LANDSCAPE = (1920, 1080)


def corner_point(size, corner, y_up=True):
    w, h = size
    top = h - 20 if y_up else 20
    bottom = 20 if y_up else h - 20
    return {
        Corner.TOP_LEFT: (20, top),
        Corner.TOP_RIGHT: (w - 20, top),
        Corner.BOTTOM_RIGHT: (w - 20, bottom),
        Corner.BOTTOM_LEFT: (20, bottom),
    }[corner]


def long_press(size, t0=0.0, hold=3.2, y_up=True):
    x, y = corner_point(size, Corner.TOP_LEFT, y_up)
    return [(t0, x, y, DOWN), (t0 + hold / 2, x + 3, y - 3, MOVE), (t0 + hold, x, y, UP)]


def tap(size, corner, t, y_up=True, hold=0.1):
    x, y = corner_point(size, corner, y_up)
    return [(t, x, y, DOWN), (t + hold, x, y, UP)]


def clockwise_taps(size, t0, gap=0.5, y_up=True):
    events = []
    order = [Corner.TOP_LEFT, Corner.TOP_RIGHT, Corner.BOTTOM_RIGHT, Corner.BOTTOM_LEFT]
    for i, corner in enumerate(order):
        events += tap(size, corner, t0 + gap * (i + 1), y_up)
    return events


def feed_all(recognizer, events):
    return [recognizer.feed(*event) for event in events]


@pytest.mark.parametrize("size", [PORTRAIT, LANDSCAPE], ids=["portrait", "landscape"])
@pytest.mark.parametrize("y_up", [True, False], ids=["kivy-coords", "top-left-origin"])
def test_gesture_succeeds_once_on_the_last_tap(size, y_up):
    recognizer = GestureRecognizer(*size, y_up=y_up)
    events = long_press(size, y_up=y_up) + clockwise_taps(size, 3.2, y_up=y_up)
    results = feed_all(recognizer, events)
    assert results[-1] is True
    assert results.count(True) == 1


@pytest.mark.parametrize("size", [PORTRAIT, LANDSCAPE], ids=["portrait", "landscape"])
def test_counter_clockwise_order_fails(size):
    recognizer = GestureRecognizer(*size)
    events = long_press(size)
    t = 3.5
    for corner in (Corner.TOP_LEFT, Corner.BOTTOM_LEFT, Corner.BOTTOM_RIGHT, Corner.TOP_RIGHT):
        events += tap(size, corner, t)
        t += 0.5
    assert not any(feed_all(recognizer, events))


def test_press_shorter_than_three_seconds_fails():
    recognizer = GestureRecognizer(*PORTRAIT)
    events = long_press(PORTRAIT, hold=2.9) + clockwise_taps(PORTRAIT, 2.9)
    assert not any(feed_all(recognizer, events))


def test_taps_after_the_six_second_window_fail():
    recognizer = GestureRecognizer(*PORTRAIT)
    # four taps spaced 1.6 s apart: the last one ends 6.5 s after the press was released
    events = long_press(PORTRAIT) + clockwise_taps(PORTRAIT, 3.2, gap=1.6)
    assert not any(feed_all(recognizer, events))


def test_taps_just_inside_the_window_succeed():
    recognizer = GestureRecognizer(*PORTRAIT)
    events = long_press(PORTRAIT) + clockwise_taps(PORTRAIT, 3.2, gap=1.4)
    assert feed_all(recognizer, events)[-1] is True


def test_long_press_outside_the_corner_fails():
    recognizer = GestureRecognizer(*PORTRAIT)
    events = [(0.0, 540, 960, DOWN), (3.5, 540, 960, UP)] + clockwise_taps(PORTRAIT, 3.5)
    assert not any(feed_all(recognizer, events))


def test_sliding_out_of_the_corner_cancels_the_press():
    recognizer = GestureRecognizer(*PORTRAIT)
    x, y = corner_point(PORTRAIT, Corner.TOP_LEFT)
    events = [(0.0, x, y, DOWN), (1.0, 540, 960, MOVE), (3.5, x, y, UP)]
    events += clockwise_taps(PORTRAIT, 3.5)
    assert not any(feed_all(recognizer, events))


def test_a_stray_touch_in_the_middle_resets():
    recognizer = GestureRecognizer(*PORTRAIT)
    events = long_press(PORTRAIT) + tap(PORTRAIT, Corner.TOP_LEFT, 3.5)
    events += [(4.0, 540, 960, DOWN), (4.1, 540, 960, UP)]
    events += tap(PORTRAIT, Corner.TOP_RIGHT, 4.5) + tap(PORTRAIT, Corner.BOTTOM_RIGHT, 5.0)
    events += tap(PORTRAIT, Corner.BOTTOM_LEFT, 5.5)
    assert not any(feed_all(recognizer, events))


def test_a_second_finger_during_the_press_cancels_it():
    recognizer = GestureRecognizer(*PORTRAIT)
    x, y = corner_point(PORTRAIT, Corner.TOP_LEFT)
    events = [(0.0, x, y, DOWN), (1.0, x + 5, y - 5, DOWN), (3.2, x, y, UP), (3.3, x, y, UP)]
    events += clockwise_taps(PORTRAIT, 3.3)
    assert not any(feed_all(recognizer, events))


def test_a_held_tap_fails():
    recognizer = GestureRecognizer(*PORTRAIT)
    events = long_press(PORTRAIT) + tap(PORTRAIT, Corner.TOP_LEFT, 3.5, hold=1.5)
    events += tap(PORTRAIT, Corner.TOP_RIGHT, 5.2) + tap(PORTRAIT, Corner.BOTTOM_RIGHT, 5.5)
    events += tap(PORTRAIT, Corner.BOTTOM_LEFT, 6.0)
    assert not any(feed_all(recognizer, events))


def test_can_retry_after_a_failure_and_after_success():
    recognizer = GestureRecognizer(*LANDSCAPE)
    failed = long_press(LANDSCAPE, hold=1.0)
    good = long_press(LANDSCAPE, t0=10.0) + clockwise_taps(LANDSCAPE, 13.2)
    again = long_press(LANDSCAPE, t0=30.0) + clockwise_taps(LANDSCAPE, 33.2)
    results = feed_all(recognizer, failed + good + again)
    assert results.count(True) == 2


def test_resize_to_the_other_orientation_still_recognises():
    recognizer = GestureRecognizer(*PORTRAIT)
    recognizer.resize(*LANDSCAPE)
    events = long_press(LANDSCAPE) + clockwise_taps(LANDSCAPE, 3.2)
    assert feed_all(recognizer, events)[-1] is True


def test_portrait_corner_geometry_is_square():
    recognizer = GestureRecognizer(*PORTRAIT)
    # corner side is 15 % of the shorter side (162 px) in both orientations
    assert recognizer.corner_of(160, 1920 - 160) is Corner.TOP_LEFT
    assert recognizer.corner_of(170, 1920 - 10) is None
    assert recognizer.corner_of(1079, 0) is Corner.BOTTOM_RIGHT


@pytest.mark.parametrize("kind", ["press", "", "DOWN"])
def test_unknown_touch_kind_is_a_typed_error(kind):
    with pytest.raises(GestureInputError):
        GestureRecognizer(*PORTRAIT).feed(0.0, 1, 1, kind)


@pytest.mark.parametrize("size", [(0, 100), (100, -1)])
def test_bad_window_size_is_a_typed_error(size):
    with pytest.raises(GestureInputError):
        GestureRecognizer(*size)


touches = st.tuples(
    st.floats(0, 100, allow_nan=False),
    st.floats(-50, 2000, allow_nan=False),
    st.floats(-50, 2000, allow_nan=False),
    st.sampled_from([DOWN, MOVE, UP]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(touches, max_size=40))
def test_random_touches_never_crash_and_rarely_unlock(events):
    recognizer = GestureRecognizer(*PORTRAIT)
    events.sort(key=lambda e: e[0])
    results = [recognizer.feed(*event) for event in events]
    # unlocking needs at least a press and four taps: ten touches
    if len(events) < 10:
        assert not any(results)
