"""`kiosk run` fails with one clear line and a distinct exit code when it cannot start.

These need no display: they prove what happens without one.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from kiosk.screens.bootstrap import display_problem


def run_kiosk(data_dir, *args, **env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("SDL_VIDEODRIVER", None)
    env.update({"KIOSK_DATA_DIR": str(data_dir), "KIVY_HOME": str(data_dir / "kivy")})
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def assert_one_clear_line(done, code, *words):
    assert done.returncode == code, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in lines[0]


def test_no_display_gives_one_line_and_exit_code_3(data_dir):
    done = run_kiosk(data_dir, "run")
    assert_one_clear_line(done, 3, "DISPLAY is not set", "xvfb-run")


def test_default_command_is_run(data_dir):
    done = run_kiosk(data_dir)
    assert_one_clear_line(done, 3, "no display")


def test_unreachable_x_display_gives_one_line_and_exit_code_3(data_dir):
    done = run_kiosk(data_dir, "run", DISPLAY=":4242")
    assert_one_clear_line(done, 3, "cannot open X display ':4242'")


def test_missing_font_is_a_clear_startup_error(data_dir):
    done = run_kiosk(data_dir, "run", KIOSK__DISPLAY__FONT="/nonexistent/font.ttc")
    assert_one_clear_line(done, 4, "font", "/nonexistent/font.ttc")


@pytest.mark.parametrize(("key", "value"), [("PROMPT_SECONDS", "5"), ("IDLE_SECONDS", "3")])
def test_timers_below_the_floor_are_refused_without_the_test_flag(data_dir, key, value):
    done = run_kiosk(data_dir, "run", **{f"KIOSK__SESSION__{key}": value})
    assert_one_clear_line(done, 2, f"session.{key.lower()}", "minimum")


def test_the_test_flag_allows_short_timers_and_then_the_display_is_checked(data_dir):
    done = run_kiosk(
        data_dir, "run", KIOSK__SESSION__PROMPT_SECONDS="2", KIOSK_ALLOW_SHORT_TIMERS="1"
    )
    assert_one_clear_line(done, 3, "no display")


def test_tour_without_display_fails_the_same_way(data_dir, tmp_path):
    done = run_kiosk(data_dir, "tour", "--out", str(tmp_path / "png"))
    assert_one_clear_line(done, 3, "no display")


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "DISPLAY is not set"),
        ({"DISPLAY": ""}, "DISPLAY is not set"),
        ({"DISPLAY": ":4243"}, "cannot open X display"),
        ({"WAYLAND_DISPLAY": "wayland-0"}, None),
        ({"SDL_VIDEODRIVER": "kmsdrm"}, None),
    ],
)
def test_display_problem(environ, expected):
    problem = display_problem(environ)
    if expected is None:
        assert problem is None
    else:
        assert expected in problem


@pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs an X display")
def test_display_problem_accepts_a_working_display():
    assert display_problem({"DISPLAY": os.environ["DISPLAY"]}) is None
