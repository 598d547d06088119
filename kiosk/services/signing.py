"""HMAC request signing of the backend contract, and the kiosk's secret file.

canonical = "\\n".join([METHOD, path + ("?" + query if any, exactly as sent, percent-encoded),
timestamp (integer unix seconds), nonce (32 lowercase hex), sha256_hex(body)]) in UTF-8;
signature = lowercase hex HMAC-SHA256(secret, canonical). The secret is 32 random bytes kept as
hex in a 0600 file. Pure functions except :func:`load_secret` / :func:`create_secret_file`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import time
from pathlib import Path

HEADER_KIOSK_ID = "X-Kiosk-Id"
HEADER_TIMESTAMP = "X-Kiosk-Timestamp"
HEADER_NONCE = "X-Kiosk-Nonce"
HEADER_SIGNATURE = "X-Kiosk-Signature"
HEADER_IDEMPOTENCY_KEY = "Idempotency-Key"

SECRET_BYTES = 32


class SecretFileError(ValueError):
    """The secret file is missing, unreadable, not hex, too short or readable by others."""


def canonical_request(
    method: str, path_and_query: str, timestamp: int, nonce: str, body: bytes
) -> bytes:
    """The exact bytes that are signed. *path_and_query* is the request target as on the wire."""
    parts = [method.upper(), path_and_query, str(int(timestamp)), nonce, sha256_hex(body)]
    return "\n".join(parts).encode("utf-8")


def sha256_hex(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def signature(secret: bytes, canonical: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of *canonical* under *secret*."""
    return hmac.new(secret, canonical, hashlib.sha256).hexdigest()


def new_nonce() -> str:
    """32 lowercase hex characters from the OS CSPRNG."""
    return secrets.token_hex(16)


def signed_headers(
    kiosk_id: str,
    secret: bytes,
    method: str,
    path_and_query: str,
    body: bytes,
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four X-Kiosk-* headers for one request (fresh nonce and current time by default)."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    nonce = new_nonce() if nonce is None else nonce
    canonical = canonical_request(method, path_and_query, timestamp, nonce, body)
    return {
        HEADER_KIOSK_ID: kiosk_id,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: signature(secret, canonical),
    }


def load_secret(path: Path) -> bytes:
    """Read the hex secret from *path*; refuse a file that group or others can read.

    Raises :class:`SecretFileError` with the path and the reason (never the secret).
    """
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise SecretFileError(f"{path}: secret file not found (provision this kiosk)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretFileError(f"{path}: cannot read secret file ({type(exc).__name__})") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretFileError(f"{path}: secret file must be mode 0600, is {mode & 0o777:04o}")
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        raise SecretFileError(f"{path}: secret file is not hex") from None
    if len(secret) < 16:
        raise SecretFileError(f"{path}: secret is shorter than 16 bytes")
    return secret


def create_secret_file(path: Path) -> bytes:
    """Create *path* (mode 0600, exclusive) holding a new random secret as hex; return it.

    Raises FileExistsError if the file already exists, so a provisioned secret is never replaced.
    """
    secret = secrets.token_bytes(SECRET_BYTES)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secret.hex() + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return secret
