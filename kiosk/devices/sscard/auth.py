"""Card authentication, run after the SSSE application is selected and before personal data is read.

:class:`PsamAuthenticator` does what 人社 terminals do with a PSAM in a second reader slot
(docs/sscard-psam.md has the APDUs and the sources): it reads the algorithm flag (tag 9F0C) of
the SSSE SELECT answer, sends the card a fresh random challenge in INTERNAL AUTHENTICATE, has
the PSAM compute the same cryptogram under the card's key (the PSAM's key diversified by the
card's 卡识别码) and compares the two; on a 3.0 card it then gets a challenge from the card, has
the PSAM encrypt it under the card's read key RKSSSE, and answers with EXTERNAL AUTHENTICATE.
A card that cannot prove its key — a copy of another person's data on a blank or emulated card —
raises :class:`~kiosk.devices.sscard.errors.CardNotGenuine`.

:class:`NoAuthentication` reads without any of this (``authenticator = "none"``): the result
says so, and no identity evidence comes from such a read.

Threads: one PsamAuthenticator serves the driver's read threads; a lock serialises the PSAM.
Each authentication connects to the PSAM inside one PC/SC transaction and disconnects after it
(holding the PSAM between cards would lock every other program out of that reader), and tries
twice more, 0.25 s and 0.5 s later, when the link breaks (pcscd restarted, PSAM re-inserted). Errors of the *card*
(pulled, mute) propagate unchanged; errors of the PSAM become
:class:`~kiosk.devices.sscard.errors.PsamUnavailable`.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from kiosk.devices.sscard import apdu, psam
from kiosk.devices.sscard.card import (
    NOT_AUTHENTICATED,
    CardAuthentication,
    CardGeneration,
)
from kiosk.devices.sscard.cardcrypto import Algorithm, card_factors, pad_to_block
from kiosk.devices.sscard.errors import (
    AuthenticatorNotConfigured,
    CardNotGenuine,
    MalformedResponse,
    PsamAlgorithmUnsupported,
    PsamKeyMissing,
    PsamUnavailable,
    ReadKeyRefused,
    SsCardError,
)
from kiosk.devices.sscard.ports import CardLink, ReaderPort

log = logging.getLogger(__name__)

SW_KEY_NOT_FOUND = 0x6A88
SW_FILE_NOT_FOUND = 0x6A82
PSAM_BUSY_SECONDS = 3.0  # another read holds the PSAM longer than this: it is stuck
# Pauses before the retries of a broken PSAM link: a PSAM just (re)inserted, or a pcscd just
# restarted, shows up at the reader's next poll (pcscd polls vpcd every 0.4 s).
PSAM_RETRY_PAUSES = (0.25, 0.5)


@dataclass(frozen=True)
class AuthContext:
    """What an authenticator gets: the card's transmit hook, the SSSE SELECT answer (FCI), the
    card's 16-byte 卡识别码 and its generation (both read from EF05 before any personal data)."""

    transmit: apdu.Transmit
    fci: bytes
    card_id: bytes = b""
    generation: CardGeneration = CardGeneration.SECOND


class Authenticator(Protocol):
    name: str

    def authenticate(self, context: AuthContext) -> CardAuthentication:
        """Authenticate the card (the result says how) or raise AuthenticationError."""

    def terminal_number(self) -> str:
        """终端机编号 for iReadCardBas ("" when there is no PSAM)."""

    def describe(self) -> str:
        """One line for the device status page (Chinese, no personal data)."""


class NoAuthentication:
    """Read without authentication (what most desktop readers do); proves nothing."""

    name = "none"

    def authenticate(self, context: AuthContext) -> CardAuthentication:
        return NOT_AUTHENTICATED

    def terminal_number(self) -> str:
        return ""

    def describe(self) -> str:
        return "卡片认证：未启用"


class PsamAuthenticator:
    """Card authentication with the PSAM in the reader whose name contains *psam_reader*.

    *port* connects to that reader (a :class:`~kiosk.devices.sscard.ports.PcscPort`, or the
    in-process port of the demo's virtual PSAM); *keys* says where the keys sit; *random*
    makes the terminal's challenges (tests pass a fixed one).
    """

    name = "psam"

    def __init__(
        self,
        port: ReaderPort | None,
        psam_reader: str,
        *,
        keys: psam.PsamKeyMap = psam.DEFAULT_KEY_MAP,
        random: Callable[[int], bytes] = secrets.token_bytes,
    ) -> None:
        self.psam_reader = psam_reader
        self._port = port
        self._keys = keys
        self._random = random
        self._lock = threading.Lock()
        self._link: CardLink | None = None  # open during one authentication only
        self._terminal_number = ""
        self._last_error = ""
        self._used = False

    # -- Authenticator ---------------------------------------------------------------------------

    def authenticate(self, context: AuthContext) -> CardAuthentication:
        if not self.psam_reader or self._port is None:
            raise AuthenticatorNotConfigured(
                "authenticator = 'psam' but devices.sscard.psam_reader is empty"
            )
        try:
            algorithm = psam.algorithm_of(context.fci)
        except psam.UnknownAlgorithmFlag as exc:
            raise PsamAlgorithmUnsupported(str(exc)) from None
        if not self._lock.acquire(timeout=PSAM_BUSY_SECONDS):
            raise PsamUnavailable(f"the PSAM is busy for more than {PSAM_BUSY_SECONDS:g} s")
        try:
            for pause in (*PSAM_RETRY_PAUSES, None):
                try:
                    result = self._authenticate(context, algorithm)
                    self._last_error = ""
                    return result
                except _PsamLinkBroken as exc:
                    self._last_error = str(exc)
                    self._terminal_number = ""  # read again from whichever PSAM answers next
                    if pause is None:
                        raise PsamUnavailable(str(exc)) from None
                    log.info("PSAM link broken, reconnecting", extra={"event": "psam_reconnect"})
                finally:
                    self._close_link()
                time.sleep(pause)
            raise AssertionError("unreachable")
        finally:
            self._used = True
            self._lock.release()

    def terminal_number(self) -> str:
        return self._terminal_number

    def describe(self) -> str:
        if not self.psam_reader or self._port is None:
            return "卡片认证：PSAM 未配置"
        if self._last_error:
            return "卡片认证：PSAM 未连接"
        if self._used:
            return f"卡片认证：PSAM 已就绪（终端机编号 {self._terminal_number or '未知'}）"
        return "卡片认证：PSAM 待首次使用"

    # -- the flow ----------------------------------------------------------------------------------

    def _authenticate(self, context: AuthContext, algorithm: Algorithm) -> CardAuthentication:
        if len(context.card_id) != 16:
            raise MalformedResponse(f"卡识别码 of {len(context.card_id)} bytes, 16 due")
        factors = card_factors(context.card_id)
        self._open_link()
        self._select_key_directory(algorithm)
        keys = self._keys
        # INTERNAL AUTHENTICATE: a fresh challenge the card must encrypt under its own key.
        challenge = self._random(algorithm.block_size)
        answer = apdu.exchange(
            context.transmit,
            psam.internal_authenticate(keys.internal.card_key_id, challenge),
            expected_max=algorithm.block_size,
        )
        if answer.sw != apdu.SW_OK or len(answer.data) != algorithm.block_size:
            raise CardNotGenuine(
                f"INTERNAL AUTHENTICATE answered SW={answer.sw:04X}, {len(answer.data)} bytes"
            )
        expected = self._psam_encrypt(keys.internal, factors, challenge, "internal")
        if not hmac.compare_digest(expected, answer.data):
            raise CardNotGenuine("INTERNAL AUTHENTICATE cryptogram does not match the PSAM's")
        external = False
        if context.generation >= CardGeneration.THIRD:
            # EXTERNAL AUTHENTICATE with RKSSSE: 3.0 cards release personal data only after it.
            response = apdu.exchange(context.transmit, psam.get_challenge(), expected_max=8)
            card_challenge = apdu.check(response, "GET CHALLENGE")
            if len(card_challenge) != psam.CHALLENGE_LENGTH:
                raise MalformedResponse(f"GET CHALLENGE gave {len(card_challenge)} bytes, 8 due")
            block = pad_to_block(algorithm, card_challenge)
            cryptogram = self._psam_encrypt(keys.read_key, factors, block, "RKSSSE")
            response = apdu.exchange(
                context.transmit,
                psam.external_authenticate(keys.read_key.card_key_id, cryptogram),
                expected_max=0,
            )
            if response.sw != apdu.SW_OK:
                tries = f" ({response.sw & 0x0F} tries left)" if response.sw >> 4 == 0x63C else ""
                raise ReadKeyRefused(response.sw, tries)
            external = True
        return CardAuthentication(
            method=self.name,
            algorithm=algorithm.value,
            internal=True,
            external=external,
            terminal_number=self._terminal_number,
            card_id=context.card_id.hex().upper(),
        )

    def _select_key_directory(self, algorithm: Algorithm) -> None:
        fid = self._keys.directories.get(algorithm)
        if fid is None:
            raise PsamAlgorithmUnsupported(f"no PSAM directory for {algorithm.label}")
        response = self._psam(psam.select_directory(fid))
        if response.sw == SW_FILE_NOT_FOUND:
            raise PsamAlgorithmUnsupported(f"the PSAM has no {algorithm.label} directory")
        _check_psam(response, f"SELECT {fid:04X}")

    def _psam_encrypt(
        self, key: psam.KeyReference, factors: bytes, block: bytes, which: str
    ) -> bytes:
        response = self._psam(psam.deliver_key(key, factors))
        if response.sw == SW_KEY_NOT_FOUND:
            raise PsamKeyMissing(f"the PSAM has no {which} key (usage {key.psam_usage:02X})")
        _check_psam(response, f"DELIVER KEY {which}")
        response = self._psam(psam.cipher_data(block), expected_max=len(block))
        cryptogram = _check_psam(response, f"CIPHER DATA {which}")
        if len(cryptogram) != len(block):
            raise _PsamLinkBroken(f"CIPHER DATA gave {len(cryptogram)} bytes, {len(block)} due")
        return cryptogram

    # -- the PSAM link -------------------------------------------------------------------------------

    def _psam(self, command: bytes, *, expected_max: int = 256) -> apdu.Response:
        link = self._link
        assert link is not None, "the PSAM link is opened first"
        try:
            return apdu.exchange(link.transmit, command, expected_max=expected_max)
        except SsCardError as exc:  # removed, mute, reader gone, malformed: the PSAM is not usable
            raise _PsamLinkBroken(f"PSAM {exc.code}: {exc}") from None

    def _open_link(self) -> None:
        """Connect to the PSAM (one PC/SC transaction); read its 终端机编号 the first time."""
        port = self._port
        assert port is not None
        try:
            names = [name for name in port.readers() if self.psam_reader in name]
            if not names:
                raise _PsamLinkBroken(f"no PC/SC reader containing {self.psam_reader!r}")
            self._link = port.connect(names[0])
        except SsCardError as exc:
            raise _PsamLinkBroken(f"PSAM reader {exc.code}: {exc}") from None
        if not self._terminal_number:
            self._terminal_number = self._read_terminal_number()

    def _read_terminal_number(self) -> str:
        """The PSAM's 终端机编号 (hex of its 6 BCD bytes), "" when the PSAM has none."""
        try:
            _check_psam(self._psam(psam.select_directory(psam.FID_MF)), "SELECT MF")
            number = _check_psam(self._psam(psam.read_terminal_number()), "READ BINARY 16")
        except PsamUnavailable:
            return ""
        return number.hex().upper()

    def _close_link(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            try:
                link.close()
            except Exception:  # the reader or pcscd is already gone; nothing left to release
                log.debug("closing the PSAM link failed", extra={"event": "psam_close"})


class _PsamLinkBroken(Exception):
    """The PSAM link failed mid-flow (internal: retried, then PsamUnavailable)."""


def _check_psam(response: apdu.Response, context: str) -> bytes:
    """Data of a 9000 PSAM answer; any other status is a PSAM failure, never the card's fault."""
    if response.sw != apdu.SW_OK:
        raise PsamUnavailable(f"PSAM {context}: SW={response.sw:04X}")
    return response.data


def make_authenticator(
    kind: str, psam_reader: str = "", port: ReaderPort | None = None
) -> Authenticator:
    """Authenticator for the config value ``devices.sscard.authenticator``."""
    if kind == "none":
        return NoAuthentication()
    if kind == "psam":
        return PsamAuthenticator(port, psam_reader)
    raise ValueError(f"unknown authenticator {kind!r} (expected 'none' or 'psam')")
