"""The idle timer state machine, driven by a fake clock (no Kivy)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.idle import (
    MIN_PROMPT_SECONDS,
    IdleSettingsError,
    IdleState,
    IdleStatus,
    IdleTimer,
    validate_idle_settings,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()


def make_timer(clock, idle=60, prompt=20, allow_short=False):
    return IdleTimer(idle_seconds=idle, prompt_seconds=prompt, clock=clock, allow_short=allow_short)


def test_active_counts_down_to_the_prompt(clock):
    timer = make_timer(clock)
    assert timer.poll() == IdleStatus(IdleState.ACTIVE, 60)
    clock.advance(59.5)
    assert timer.poll() == IdleStatus(IdleState.ACTIVE, 1)


def test_prompt_after_idle_period_then_expired_after_countdown(clock):
    """GIVEN no touch WHEN 60 s pass THEN the prompt counts 20 → 1 and then the session expires."""
    timer = make_timer(clock)
    clock.advance(60)
    assert timer.poll() == IdleStatus(IdleState.PROMPT, 20)
    clock.advance(19.01)
    assert timer.poll() == IdleStatus(IdleState.PROMPT, 1)
    clock.advance(0.99)
    assert timer.poll() == IdleStatus(IdleState.EXPIRED, 0)
    assert timer.state is IdleState.EXPIRED


def test_one_touch_in_prompt_returns_to_active_with_a_full_period(clock):
    timer = make_timer(clock)
    clock.advance(65)
    assert timer.poll().state is IdleState.PROMPT
    assert timer.activity() is IdleState.ACTIVE
    assert timer.poll() == IdleStatus(IdleState.ACTIVE, 60)


def test_activity_in_active_restarts_the_period(clock):
    timer = make_timer(clock)
    clock.advance(50)
    timer.activity()
    clock.advance(50)
    assert timer.poll() == IdleStatus(IdleState.ACTIVE, 10)


def test_expired_is_final_until_restart(clock):
    timer = make_timer(clock)
    clock.advance(60)
    timer.poll()
    clock.advance(20)
    assert timer.poll().state is IdleState.EXPIRED
    assert timer.activity() is IdleState.EXPIRED, "a late touch must not revive an ended session"
    timer.restart()
    assert timer.poll() == IdleStatus(IdleState.ACTIVE, 60)


def test_a_late_poll_never_shortens_the_prompt_nor_skips_it(clock):
    """GIVEN the UI thread stalled past both periods WHEN it polls THEN a full prompt starts."""
    timer = make_timer(clock)
    clock.advance(500)
    assert timer.poll() == IdleStatus(IdleState.PROMPT, 20)
    clock.advance(19)
    assert timer.poll().state is IdleState.PROMPT


@pytest.mark.parametrize(
    ("idle", "prompt", "message"),
    [
        (60, 19, "session.prompt_seconds"),
        (60, 2, "below the 20 s minimum"),
        (5, 20, "session.idle_seconds"),
        (0, 20, "must be a positive"),
        (60, -1, "must be a positive"),
        (60, float("nan"), "must be a positive"),
    ],
)
def test_unusable_durations_are_rejected_with_the_setting_named(clock, idle, prompt, message):
    with pytest.raises(IdleSettingsError, match=message):
        make_timer(clock, idle=idle, prompt=prompt)


def test_short_durations_need_the_explicit_test_flag(clock):
    timer = make_timer(clock, idle=2, prompt=2, allow_short=True)
    clock.advance(2)
    assert timer.poll() == IdleStatus(IdleState.PROMPT, 2)
    with pytest.raises(IdleSettingsError):
        validate_idle_settings(0, 2, allow_short=True)


def test_default_configuration_respects_the_prompt_floor():
    from kiosk.config import load_config

    config = load_config(environ={})
    assert config.session.prompt_seconds >= MIN_PROMPT_SECONDS
    validate_idle_settings(config.session.idle_seconds, config.session.prompt_seconds)


@given(
    steps=st.lists(
        st.tuples(st.floats(min_value=0, max_value=200), st.booleans()), min_size=1, max_size=40
    )
)
def test_invariants_under_any_sequence_of_waits_and_touches(steps):
    """Whatever happens: seconds_left stays in range, and EXPIRED needs a full quiet prompt."""
    clock = FakeClock()
    timer = make_timer(clock)
    quiet_since = clock.now
    for wait, touch in steps:
        clock.advance(wait)
        if touch and timer.state is not IdleState.EXPIRED:
            timer.activity()
            quiet_since = clock.now
        status = timer.poll()
        if status.state is IdleState.ACTIVE:
            assert 0 < status.seconds_left <= 60
        elif status.state is IdleState.PROMPT:
            assert 0 < status.seconds_left <= 20
        else:
            assert status.seconds_left == 0
            assert clock.now - quiet_since >= 80
