"""The platform's own keys: they seal kiosk secrets and stored answers and key request hashes.

A key ring is one or more random 32-byte keys, newest first. The newest seals; every key in the
ring opens what it sealed (a sealed value names its key), so a ring can be rotated without
re-sealing everything at once. Each use gets its own subkey (HKDF-SHA256 with the purpose as
``info``), so a value sealed for one purpose never opens as another.

Where the ring comes from (:func:`load_server_keys`): an explicit key file, else the file named
by ``KIOSK_BACKEND_KEY_FILE``, else — for an SQLite database file — ``<database file>.key``
beside it, created on first use. A PostgreSQL deployment must name its key file (several
workers or hosts share one database, so they must share the key too). The file holds one key
a line as 64 hex digits, newest first; ``#`` starts a comment. It is created 0600 in one step
(written under a temporary name, then hard-linked into place, so two workers starting together
agree on one key and neither can read a half-written file).

Rotation (``kiosk backend rotate-key``): a new key goes first in the file and every kiosk secret
and stored answer is re-sealed under it; older keys stay in the file until the idempotency
retention has passed (request hashes made under them must still compare), then the operator
deletes their lines.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import secrets
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

KEY_BYTES = 32
KEY_FILE_ENV = "KIOSK_BACKEND_KEY_FILE"
KEY_FILE_SUFFIX = ".key"
SEAL_VERSION = b"\x01"
KEY_ID_BYTES = 8
NONCE_BYTES = 12

# Purposes: one subkey each.
KIOSK_SECRET = "kiosk-secret"
STORED_ANSWER = "idempotency-answer"
REQUEST_HASH = "idempotency-request-hash"
ESSC_ISSUER_KEY = "essc-issuer-key"  # sealing the e-SSC signing key the platform keeps
PERSON_DIGEST = "person-digest"  # keyed digests of ID numbers (never a bare hash)
PURPOSES = (KIOSK_SECRET, STORED_ANSWER, REQUEST_HASH, ESSC_ISSUER_KEY, PERSON_DIGEST)


class ServerKeyError(RuntimeError):
    """No usable key ring (missing for PostgreSQL, malformed file); the message says which."""


class SealedDataError(ValueError):
    """A sealed value is damaged, was sealed for something else, or under a key not in the ring."""


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"kiosk-backend key id\0" + key).digest()[:KEY_ID_BYTES]


class ServerKeys:
    """A key ring (newest first); thread-safe (immutable after construction)."""

    def __init__(self, keys: list[bytes] | tuple[bytes, ...]):
        if not keys:
            raise ServerKeyError("the key ring is empty")
        if any(len(k) != KEY_BYTES for k in keys):
            raise ServerKeyError(f"every server key must be {KEY_BYTES} bytes")
        self.keys = tuple(keys)
        self._by_id = {_key_id(k): k for k in self.keys}
        self._subkeys: dict[tuple[bytes, str], bytes] = {}
        for key in self.keys:
            for purpose in PURPOSES:
                self._subkeys[(key, purpose)] = _derive(key, purpose)

    @classmethod
    def generate(cls) -> ServerKeys:
        """A ring of one fresh random key (tests, in-memory databases)."""
        return cls([secrets.token_bytes(KEY_BYTES)])

    def _subkey(self, key: bytes, purpose: str) -> bytes:
        try:
            return self._subkeys[(key, purpose)]
        except KeyError:
            raise ValueError(f"unknown key purpose {purpose!r}") from None

    def seal(self, purpose: str, plaintext: bytes, context: bytes) -> bytes:
        """AES-256-GCM under the newest key's *purpose* subkey; *context* is authenticated
        (e.g. the kiosk id), so a sealed value copied to another row does not open there."""
        key = self.keys[0]
        nonce = os.urandom(NONCE_BYTES)
        aad = purpose.encode("ascii") + b"\0" + context
        sealed = AESGCM(self._subkey(key, purpose)).encrypt(nonce, plaintext, aad)
        return SEAL_VERSION + _key_id(key) + nonce + sealed

    def open(self, purpose: str, blob: bytes, context: bytes) -> bytes:
        """The plaintext of :meth:`seal`; raises :class:`SealedDataError`."""
        head = len(SEAL_VERSION) + KEY_ID_BYTES + NONCE_BYTES
        if len(blob) < head + 16 or blob[:1] != SEAL_VERSION:
            raise SealedDataError("not a sealed value")
        key = self._by_id.get(bytes(blob[1 : 1 + KEY_ID_BYTES]))
        if key is None:
            raise SealedDataError("sealed under a key that is not in the ring")
        nonce = bytes(blob[1 + KEY_ID_BYTES : head])
        aad = purpose.encode("ascii") + b"\0" + context
        try:
            return AESGCM(self._subkey(key, purpose)).decrypt(nonce, bytes(blob[head:]), aad)
        except InvalidTag:
            raise SealedDataError("sealed value does not open (damaged or moved)") from None

    def digest(self, purpose: str, message: bytes) -> str:
        """Hex HMAC-SHA256 of *message* under the newest key's *purpose* subkey."""
        return self.digests(purpose, message)[0]

    def digests(self, purpose: str, message: bytes) -> list[str]:
        """:meth:`digest` under every key of the ring, newest first (to compare old values)."""
        return [
            hmac.new(self._subkey(k, purpose), message, hashlib.sha256).hexdigest()
            for k in self.keys
        ]

    def rotated(self) -> ServerKeys:
        """A new ring: a fresh key first, then these keys."""
        return ServerKeys([secrets.token_bytes(KEY_BYTES), *self.keys])

    def file_text(self) -> str:
        lines = [
            "# jinjinban platform server keys, newest first (see kiosk_backend/server_keys.py)"
        ]
        return "\n".join([*lines, *(k.hex() for k in self.keys)]) + "\n"


def _derive(key: bytes, purpose: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode("ascii"))
    return hkdf.derive(key)


# --- where the ring lives -------------------------------------------------------------------


def default_key_file(db_url: str) -> Path | None:
    """``<database file>.key`` for an SQLite file database, else None."""
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database + KEY_FILE_SUFFIX)


def key_file_for(db_url: str, key_file: str | os.PathLike[str] | None = None) -> Path | None:
    """The key file a server on *db_url* uses: *key_file*, ``$KIOSK_BACKEND_KEY_FILE``, or the
    file beside an SQLite database; None for an in-memory SQLite database."""
    if key_file:
        return Path(key_file)
    if os.environ.get(KEY_FILE_ENV):
        return Path(os.environ[KEY_FILE_ENV])
    return default_key_file(db_url)


def load_server_keys(db_url: str, key_file: str | os.PathLike[str] | None = None) -> ServerKeys:
    """The ring for a server on *db_url* (see the module docstring); created if missing.

    Raises :class:`ServerKeyError` for a database that is neither an SQLite file nor given a
    key file, and for a malformed file; OSError if the file cannot be read or created.
    """
    path = key_file_for(db_url, key_file)
    if path is None:
        url = make_url(db_url)
        if url.get_backend_name() == "sqlite":
            return ServerKeys.generate()  # an in-memory database dies with its key
        raise ServerKeyError(
            f"the server key file is not set: give --key-file or set {KEY_FILE_ENV} "
            "(the key seals kiosk secrets; every worker on this database needs the same file)"
        )
    if not path.exists():
        database = default_key_file(db_url)
        if database is not None and Path(str(database)[: -len(KEY_FILE_SUFFIX)]).exists():
            log.warning(
                "made a new server key file beside an existing database: if its secrets were "
                "sealed before (a key file lost or moved), they will not open; restore that file"
            )
        _create_key_file(path, ServerKeys.generate())
    return read_key_file(path)


def read_key_file(path: Path) -> ServerKeys:
    """Parse a key file (one 64-hex-digit key a line, newest first, ``#`` comments)."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("server key file is readable by others; it should be 0600")
    keys = []
    for number, raw in enumerate(path.read_text(encoding="ascii").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            key = bytes.fromhex(line)
        except ValueError:
            key = b""
        if len(key) != KEY_BYTES:
            raise ServerKeyError(f"{path}:{number}: a key is {KEY_BYTES * 2} hex digits")
        keys.append(key)
    if not keys:
        raise ServerKeyError(f"{path}: no key in the file")
    return ServerKeys(keys)


def _create_key_file(path: Path, keys: ServerKeys) -> None:
    """Create *path* 0600 holding *keys*, unless another process created it first."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = _private_temp_file(path, keys.file_text())
    try:
        with contextlib.suppress(FileExistsError):  # another worker won: use its key
            os.link(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def replace_key_file(path: Path, keys: ServerKeys) -> None:
    """Write *keys* over *path* atomically (a new 0600 file renamed into place)."""
    tmp = _private_temp_file(path, keys.file_text())
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _private_temp_file(path: Path, text: str) -> Path:
    """A new file beside *path*, created 0600 (never wider, whatever the umask), synced."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp
