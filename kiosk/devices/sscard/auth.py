"""Pluggable card authentication, run after the SSSE application is selected and before reading.

Many readers read EF05/EF06 without authentication; the standard flow for 2.0/3.0 cards runs
INTERNAL AUTHENTICATE against a PSAM (and for 3.0 cards an RKSSSE EXTERNAL AUTHENTICATE) using the
algorithm flag (tag 9F0C) of the SSSE SELECT answer. :class:`NoAuthentication` is the default;
:class:`PsamAuthenticator` is the extension point for a PSAM in a second reader slot — the key
system is provincial and not public, so until a site supplies it, it raises
:class:`~kiosk.devices.sscard.errors.AuthenticatorNotConfigured` with a message naming what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from kiosk.devices.sscard import tlv
from kiosk.devices.sscard.apdu import Transmit
from kiosk.devices.sscard.errors import AuthenticatorNotConfigured, TlvError

TAG_ALGORITHM_FLAG = 0x9F0C


@dataclass(frozen=True)
class AuthContext:
    """What an authenticator gets: the card's transmit hook and the SSSE SELECT answer (FCI)."""

    transmit: Transmit
    fci: bytes

    @property
    def algorithm_flag(self) -> bytes | None:
        """Value of tag 9F0C in the FCI, or None when absent or the FCI does not parse."""
        try:
            found = tlv.find(tlv.parse(self.fci), TAG_ALGORITHM_FLAG)
        except TlvError:
            return None
        return None if found is None else found.value


class Authenticator(Protocol):
    name: str

    def authenticate(self, context: AuthContext) -> None:
        """Authenticate the card or raise AuthenticationError (or a subclass)."""

    def terminal_number(self) -> str:
        """终端机编号 for iReadCardBas ("" when there is no PSAM)."""


class NoAuthentication:
    """Read without authentication (what most desktop readers do)."""

    name = "none"

    def authenticate(self, context: AuthContext) -> None:
        return None

    def terminal_number(self) -> str:
        return ""


class PsamAuthenticator:
    """A PSAM in reader *psam_reader*: the extension point for the provincial key system."""

    name = "psam"

    def __init__(self, psam_reader: str) -> None:
        self.psam_reader = psam_reader

    def authenticate(self, context: AuthContext) -> None:
        if not self.psam_reader:
            raise AuthenticatorNotConfigured(
                "authenticator = 'psam' but devices.sscard.psam_reader is empty"
            )
        raise AuthenticatorNotConfigured(
            "PSAM authentication needs the province's key system (INTERNAL/EXTERNAL "
            "AUTHENTICATE key indexes), which is not configured on this kiosk"
        )

    def terminal_number(self) -> str:
        return ""


def make_authenticator(kind: str, psam_reader: str = "") -> Authenticator:
    """Authenticator for the config value ``devices.sscard.authenticator``."""
    if kind == "none":
        return NoAuthentication()
    if kind == "psam":
        return PsamAuthenticator(psam_reader)
    raise ValueError(f"unknown authenticator {kind!r} (expected 'none' or 'psam')")
