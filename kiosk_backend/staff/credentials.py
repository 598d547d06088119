"""Console credentials: argon2 password hashes, TOTP (RFC 6238 via pyotp) for administrators,
and the one-time values handed to a new or reset account.

Pure apart from the random source; never logs a secret. Verification runs in constant time
where the libraries do (argon2's verify, pyotp's compare_digest).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

ISSUER = "就近办平台"
MIN_PASSWORD_LENGTH = 10
# Letters and digits that cannot be mistaken for each other when read off a printed notice.
_READABLE = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

_hasher = PasswordHasher()
# Hashed once so that a sign-in for an unknown account costs as much as one for a known one.
_DUMMY_HASH = _hasher.hash("not-a-password-" + secrets.token_hex(8))


@dataclass(frozen=True)
class OneTimeCredentials:
    """What the 系统管理员 hands the account holder once: the initial password (to be changed at
    first sign-in), and for administrators the TOTP secret (as an otpauth:// URI for an app)."""

    password: str
    totp_secret: str = ""
    totp_uri: str = ""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """True iff *password* matches *stored_hash*; an empty or corrupt hash never matches (the
    work is still done, so timing does not tell whether an account has a password)."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and bool(stored_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str:
    """Why *password* is too weak ("" when it is fine)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"密码至少{MIN_PASSWORD_LENGTH}位"
    kinds = sum(
        (
            any(c.isdigit() for c in password),
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if kinds < 3:
        return "密码须包含大写字母、小写字母、数字、符号中的至少三种"
    return ""


def new_password() -> str:
    """A random initial password of 12 readable characters with all three kinds."""
    while True:
        candidate = "".join(secrets.choice(_READABLE) for _ in range(12))
        if not password_problem(candidate):
            return candidate


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, account: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)


def totp_matches(secret: str, code: str, at: dt.datetime) -> bool:
    """True iff *code* is the TOTP of *secret* at *at* or one 30-s step either side."""
    code = code.strip().replace(" ", "")
    if not secret or not code.isdigit() or len(code) != 6:
        return False
    return pyotp.TOTP(secret).verify(code, for_time=at, valid_window=1)


def issue(account: str, *, with_totp: bool) -> tuple[OneTimeCredentials, str, str]:
    """Fresh credentials for *account*: (what to hand over, password hash, TOTP secret)."""
    password = new_password()
    secret = new_totp_secret() if with_totp else ""
    handed = OneTimeCredentials(
        password=password,
        totp_secret=secret,
        totp_uri=totp_uri(secret, account) if secret else "",
    )
    return handed, hash_password(password), secret
