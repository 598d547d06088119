"""The platform's answers to delivered submissions, kept for the screen that waits on them.

The composition root wraps the outbox's deliver callable::

    answers = SubmissionAnswers(client.post_submission)
    outbox = Outbox(store, cipher, answers.deliver, ...)
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from kiosk.services.errors import BackendRejected

# The screen takes its answer as soon as its submission was delivered or its wait timed out
# (seconds); an answer delivered later — a fault ticket, a booking the outbox sent once the
# platform was back — is never taken, so it is dropped after this long.
MAX_AGE_SECONDS = 120.0


class SubmissionAnswers:
    """Keeps the platform's answer to each delivered submission, by Idempotency-Key.

    Wrap the outbox's deliver callable with :meth:`deliver`: it returns the answer with
    ``reference_no``/``due_date`` lifted to the top (so the outbox records them) and remembers
    it, or remembers the :class:`BackendRejected` it raised. Answers hold reference numbers,
    dates and ids — never personal data. Bounded: at most *capacity* answers, none older than
    *max_age_seconds* (oldest dropped first); thread-safe.
    """

    def __init__(
        self,
        deliver: Callable[[str, dict, str], dict],
        capacity: int = 256,
        *,
        max_age_seconds: float = MAX_AGE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._deliver = deliver
        self._capacity = capacity
        self._max_age = max_age_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        # key → (when remembered, answer), oldest first
        self._answers: OrderedDict[str, tuple[float, dict[str, Any] | BackendRejected]] = (
            OrderedDict()
        )

    def deliver(self, path: str, payload: dict[str, Any], key: str) -> dict[str, Any]:
        try:
            answer = self._deliver(path, payload, key)
        except BackendRejected as exc:
            if not exc.retryable:
                self._remember(key, exc)
            raise
        receipt = answer.get("receipt") if isinstance(answer.get("receipt"), dict) else answer
        lifted = dict(answer)
        for source, target in (("number", "reference_no"), ("due_date", "due_date")):
            if target not in lifted and isinstance(receipt.get(source), str):
                lifted[target] = receipt[source]
        self._remember(key, lifted)
        return lifted

    def _remember(self, key: str, value: dict[str, Any] | BackendRejected) -> None:
        now = self._monotonic()
        with self._lock:
            self._answers[key] = (now, value)
            self._answers.move_to_end(key)
            while self._answers and (
                len(self._answers) > self._capacity
                or now - next(iter(self._answers.values()))[0] > self._max_age
            ):
                self._answers.popitem(last=False)

    def take(self, key: str) -> dict[str, Any] | BackendRejected | None:
        """The answer (or rejection) for *key*, removed from memory; None if not seen (or
        remembered longer than ``max_age_seconds`` ago)."""
        with self._lock:
            remembered = self._answers.pop(key, None)
        if remembered is None or self._monotonic() - remembered[0] > self._max_age:
            return None
        return remembered[1]


__all__ = ["SubmissionAnswers"]
