"""Request signing of the backend contract: pure functions over bytes (no I/O).

canonical = "\\n".join([METHOD, path[?query as sent], timestamp, nonce, sha256_hex(body)]),
signature = lowercase hex HMAC-SHA256(secret, canonical). The kiosk's client and the server both
use these definitions; see docs in BACKEND_CONTRACT.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import time

NONCE_RE = re.compile(r"^[0-9a-f]{32}$")
SIGNATURE_RE = re.compile(r"^[0-9a-f]{64}$")


def body_sha256_hex(body: bytes) -> str:
    """Hex SHA-256 of the raw request body (``b""`` when there is none)."""
    return hashlib.sha256(body).hexdigest()


def canonical_request(
    method: str, path: str, query: str, timestamp: str, nonce: str, body: bytes
) -> bytes:
    """The exact bytes that get signed. *query* is the raw (percent-encoded) query string or ""."""
    target = path + ("?" + query if query else "")
    parts = [method.upper(), target, timestamp, nonce, body_sha256_hex(body)]
    return "\n".join(parts).encode("utf-8")


def sign(
    secret: bytes, method: str, path: str, query: str, timestamp: str, nonce: str, body: bytes
) -> str:
    """Lowercase hex HMAC-SHA256 signature of a request."""
    message = canonical_request(method, path, query, timestamp, nonce, body)
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def signature_matches(
    secret: bytes,
    signature: str,
    method: str,
    path: str,
    query: str,
    timestamp: str,
    nonce: str,
    body: bytes,
) -> bool:
    """Constant-time check of *signature* against the request."""
    expected = sign(secret, method, path, query, timestamp, nonce, body)
    return hmac.compare_digest(expected, signature)


def signed_headers(
    kiosk_id: str,
    secret: bytes,
    method: str,
    path: str,
    query: str = "",
    body: bytes = b"",
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four X-Kiosk-* headers for one request (fresh nonce, current time by default)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = os.urandom(16).hex() if nonce is None else nonce
    return {
        "X-Kiosk-Id": kiosk_id,
        "X-Kiosk-Timestamp": ts,
        "X-Kiosk-Nonce": nonce,
        "X-Kiosk-Signature": sign(secret, method, path, query, ts, nonce, body),
    }
