"""The start-up after the first frame (kiosk.startup_steps): order, completion on demand, and
failures that stop the app instead of leaving it half built. No window: finish_now() runs the
steps synchronously, as a touch before the end of the start-up does."""

from __future__ import annotations

import threading

from kiosk.startup_steps import DeferredStartup


def make(background, names=("services", "screens", "components"), fail_at=None):
    seen: list = []
    failures: list[BaseException] = []

    def step(name):
        def run(result):
            if name == fail_at:
                raise ValueError(f"{name} broke")
            seen.append((name, result, threading.current_thread().name))

        return name, run

    startup = DeferredStartup(
        background, [step(name) for name in names], on_failure=failures.append
    )
    return startup, seen, failures


def test_finish_now_runs_the_background_part_on_its_thread_then_every_step_in_order():
    threads: list[str] = []

    def background():
        threads.append(threading.current_thread().name)
        return "built"

    startup, seen, failures = make(background)
    startup.finish_now()
    here = threading.current_thread().name
    assert threads == ["startup"]
    assert seen == [
        ("services", "built", here),
        ("screens", "built", here),
        ("components", "built", here),
    ]
    assert failures == []
    assert startup.done is True
    assert set(startup.timings_ms) == {"background", "services", "screens", "components", "total"}


def test_finish_now_twice_runs_nothing_again():
    startup, seen, _failures = make(lambda: 1)
    startup.finish_now()
    startup.finish_now()
    assert [name for name, _result, _thread in seen] == ["services", "screens", "components"]


def test_a_failing_background_part_stops_before_any_step():
    def background():
        raise OSError("outbox store cannot open")

    startup, seen, failures = make(background)
    startup.finish_now()
    assert seen == []
    assert [str(exc) for exc in failures] == ["outbox store cannot open"]
    assert startup.done is True


def test_a_failing_step_stops_the_later_steps():
    startup, seen, failures = make(lambda: 1, fail_at="screens")
    startup.finish_now()
    assert [name for name, _result, _thread in seen] == ["services"]
    assert [str(exc) for exc in failures] == ["screens broke"]
    assert startup.done is True


def test_join_background_returns_its_result_or_none_when_it_failed():
    startup, _seen, _failures = make(lambda: ("runtime", "voice"))
    assert startup.join_background(1.0) is None  # not begun
    startup.finish_now()
    assert startup.join_background(1.0) == ("runtime", "voice")

    def background():
        raise OSError("no")

    failed, _seen, _failures = make(background)
    failed.finish_now()
    assert failed.join_background(1.0) is None
