"""The platform's answers to delivered submissions, kept for the screen that waits on them.

The composition root wraps the outbox's deliver callable::

    answers = SubmissionAnswers(client.post_submission)
    outbox = Outbox(store, cipher, answers.deliver, ...)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from kiosk.services.errors import BackendRejected


class SubmissionAnswers:
    """Keeps the platform's answer to each delivered submission, by Idempotency-Key.

    Wrap the outbox's deliver callable with :meth:`deliver`: it returns the answer with
    ``reference_no``/``due_date`` lifted to the top (so the outbox records them) and remembers
    it, or remembers the :class:`BackendRejected` it raised. Answers hold reference numbers,
    dates and ids — never personal data. Bounded (oldest dropped); thread-safe.
    """

    def __init__(self, deliver: Callable[[str, dict, str], dict], capacity: int = 256) -> None:
        self._deliver = deliver
        self._capacity = capacity
        self._lock = threading.Lock()
        self._answers: OrderedDict[str, dict[str, Any] | BackendRejected] = OrderedDict()

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
        with self._lock:
            self._answers[key] = value
            self._answers.move_to_end(key)
            while len(self._answers) > self._capacity:
                self._answers.popitem(last=False)

    def take(self, key: str) -> dict[str, Any] | BackendRejected | None:
        """The answer (or rejection) for *key*, removed from memory; None if not seen."""
        with self._lock:
            return self._answers.pop(key, None)


__all__ = ["SubmissionAnswers"]
