"""SubmissionAnswers: the platform's answer per Idempotency-Key, lifted for the outbox."""

from __future__ import annotations

import pytest

from kiosk.services.errors import BackendRejected, BackendUnavailable
from kiosk.services.flows import SubmissionAnswers


def test_answers_are_kept_by_key_with_the_reference_lifted_for_the_outbox():
    calls = []

    def deliver(path, payload, key):
        calls.append((path, key))
        return {"seeker_id": 4, "receipt": {"number": "BJ1", "due_date": "2026-12-01"}}

    answers = SubmissionAnswers(deliver)
    lifted = answers.deliver("/api/v1/job-seekers", {"kind": "odd"}, "k1")
    assert lifted["reference_no"] == "BJ1" and lifted["due_date"] == "2026-12-01"
    assert answers.take("k1") == lifted and answers.take("k1") is None
    assert calls == [("/api/v1/job-seekers", "k1")]


def test_a_final_refusal_is_kept_but_offline_and_retryable_ones_are_not():
    def refuse(path, payload, key):
        if key == "offline":
            raise BackendUnavailable()
        if key == "busy":
            raise BackendRejected("稍后再试", status=429)
        raise BackendRejected("不符合办理条件：有求职要求", status=422, code="not_eligible")

    answers = SubmissionAnswers(refuse)
    for key, error in (("no", BackendRejected), ("offline", BackendUnavailable),
                       ("busy", BackendRejected)):  # fmt: skip
        with pytest.raises(error):
            answers.deliver("/p", {}, key)
    kept = answers.take("no")
    assert isinstance(kept, BackendRejected) and kept.message.startswith("不符合")
    assert answers.take("offline") is None and answers.take("busy") is None


def test_memory_is_bounded():
    answers = SubmissionAnswers(lambda p, b, k: {"number": k}, capacity=3)
    for key in "abcde":
        answers.deliver("/p", {}, key)
    assert answers.take("a") is None and answers.take("b") is None
    assert answers.take("e") == {"number": "e", "reference_no": "e"}


def test_an_answer_no_screen_took_in_time_is_dropped():
    """Answers delivered after the screen stopped waiting (fault tickets, late bookings) are
    never taken: they leave memory once older than max_age_seconds, not at the 256th."""
    now = [1000.0]
    answers = SubmissionAnswers(
        lambda p, b, k: {"number": k}, max_age_seconds=120.0, monotonic=lambda: now[0]
    )
    answers.deliver("/p", {}, "late")
    now[0] += 121.0
    assert answers.take("late") is None
    answers.deliver("/p", {}, "old")
    now[0] += 100.0
    answers.deliver("/p", {}, "fresh")
    now[0] += 30.0
    answers.deliver("/p", {}, "newest")  # "old" is 130 s old now: dropped on this delivery
    assert list(answers._answers) == ["fresh", "newest"]
    assert answers.take("fresh") == {"number": "fresh", "reference_no": "fresh"}
