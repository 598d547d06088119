"""Electronic social security card (电子社保卡) code verification: the one place the platform
turns a scanned or typed e-SSC code into a person or a staff account.

Every caller — the kiosk's operator sign-in and resident identity (``routes/essc.py``) and the
web console's sign-in — goes through these functions, so a stronger verification (signed,
single-use codes) replaces the body here and nowhere else. Today the demo platform matches the
code exactly against the seeded strings (``ESSC-DEMO-…``).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk_backend.models import Operator, Person

MAX_CODE_LENGTH = 200


def _clean(code: str) -> str:
    return code.strip() if 0 < len(code.strip()) <= MAX_CODE_LENGTH else ""


def operator_for_code(session: Session, code: str) -> Operator | None:
    """The staff account an e-SSC code belongs to, or None (unknown, malformed)."""
    code = _clean(code)
    if not code:
        return None
    return session.scalar(select(Operator).where(Operator.essc_qr == code))


def resident_for_code(session: Session, code: str) -> Person | None:
    """The resident an e-SSC code belongs to, or None."""
    code = _clean(code)
    if not code:
        return None
    return session.scalar(select(Person).where(Person.essc_qr == code))
