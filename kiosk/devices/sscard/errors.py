"""Typed errors of the social security card reader, one class per fault a caller can act on.

::

    SsCardError                      anything this package raises
    ├── CardProtocolError            the card answered, but not usefully
    │   ├── MalformedResponse        too short, too long, or garbage where a structure was due
    │   ├── TlvError                 a BER-TLV structure that does not parse
    │   ├── StatusWordError          an unexpected status word (``.sw``, ``.sw_hex``)
    │   │   ├── FileNotFound         6A82: no such application or file (not a social security card)
    │   │   ├── RecordNotFound       6A83: no record with that tag
    │   │   └── SecurityNotSatisfied 6982/6983/6985: the card wants authentication first
    │   ├── MissingField             a mandatory tag is absent
    │   ├── BadFieldValue            a field decodes to nonsense (bad BCD date, bad ID number ...)
    │   └── UnsupportedCardVersion   EF05 tag 03 names no generation we know
    ├── CardRemovedError             the card left the reader (pulled mid-read)
    ├── CardMuteError                the card does not answer (no ATR, or no reply to an APDU)
    ├── AuthenticationError          the authenticator refused or failed
    │   ├── AuthenticatorNotConfigured  no PSAM reader configured
    │   ├── CardNotGenuine           INTERNAL AUTHENTICATE: the card cannot prove its key (clone)
    │   ├── ReadKeyRefused           EXTERNAL AUTHENTICATE: the card refused the PSAM's proof
    │   ├── PsamUnavailable          the PSAM is absent, mute, refuses, or its reader is gone
    │   ├── PsamAlgorithmUnsupported the PSAM has no keys for the card's algorithm (or 9F0C unknown)
    │   └── PsamKeyMissing           the PSAM lacks a key the card needs (e.g. RKSSSE)
    └── ReaderError                  the reader or the PC/SC service
        ├── NoReaderError            no (matching) reader attached
        ├── ReaderGoneError          the reader disappeared while in use
        └── ServiceUnavailable       pcscd is not running or went away

Every error carries a stable ``code`` (for events, exit codes, counters) and a ``message_zh`` fit
for a resident-facing screen. Messages never contain personal data.
"""

from __future__ import annotations


class SsCardError(Exception):
    """Base class. ``code`` is a stable machine-readable reason; ``message_zh`` is for screens."""

    code = "sscard_error"
    message_zh = "社保卡读取失败，请重新插卡"


class CardProtocolError(SsCardError):
    code = "protocol"
    message_zh = "社保卡应答异常，请重新插卡"


class MalformedResponse(CardProtocolError):
    code = "malformed_response"


class TlvError(CardProtocolError):
    code = "malformed_tlv"


class StatusWordError(CardProtocolError):
    """The card answered with status word ``sw`` (an int such as 0x6A82) where 9000 was due."""

    code = "status_word"

    def __init__(self, sw: int, context: str = "") -> None:
        self.sw = sw
        self.context = context
        where = f" ({context})" if context else ""
        super().__init__(f"card answered SW={sw:04X}{where}")

    @property
    def sw_hex(self) -> str:
        return f"{self.sw:04X}"


class FileNotFound(StatusWordError):
    code = "not_found"
    message_zh = "不是社会保障卡，或卡片应用不存在"


class RecordNotFound(StatusWordError):
    code = "record_not_found"


class SecurityNotSatisfied(StatusWordError):
    code = "security"
    message_zh = "社保卡需要认证后才能读取，请到窗口办理"


class MissingField(CardProtocolError):
    code = "missing_field"


class BadFieldValue(CardProtocolError):
    code = "bad_field"
    message_zh = "社保卡数据有误，请到窗口核验"


class UnsupportedCardVersion(CardProtocolError):
    code = "unsupported_version"
    message_zh = "不支持此版本的社保卡，请到窗口办理"


class CardRemovedError(SsCardError):
    code = "removed"
    message_zh = "读卡时卡片被拔出，请重新插卡并等待读取完成"


class CardMuteError(SsCardError):
    code = "mute"
    message_zh = "社保卡无应答，请检查插卡方向后重试"


class AuthenticationError(SsCardError):
    code = "auth_failed"
    message_zh = "社保卡认证失败，请到窗口办理"


class AuthenticatorNotConfigured(AuthenticationError):
    code = "auth_not_configured"
    message_zh = "本机未配置社保卡认证模块(PSAM)，请联系管理员"


class CardNotGenuine(AuthenticationError):
    """The card did not answer INTERNAL AUTHENTICATE with the cryptogram the PSAM computed:
    it does not hold the key of the card it claims to be (a copy, an emulator, a broken chip)."""

    code = "card_not_genuine"
    message_zh = "此社保卡未通过安全认证，不能在本机使用。请到窗口核验，或改用身份证、电子社保卡"


class ReadKeyRefused(AuthenticationError):
    """The card refused EXTERNAL AUTHENTICATE (``sw``, e.g. 63C2: two tries left)."""

    code = "read_key_refused"
    message_zh = "本机认证模块与此社保卡不匹配，不能读取。请到窗口办理"

    def __init__(self, sw: int, detail: str = "") -> None:
        self.sw = sw
        super().__init__(f"EXTERNAL AUTHENTICATE refused: SW={sw:04X}{detail}")


class PsamUnavailable(AuthenticationError):
    code = "psam_unavailable"
    message_zh = "本机社保卡认证模块(PSAM)故障，请联系工作人员"


class PsamAlgorithmUnsupported(AuthenticationError):
    code = "psam_algorithm"
    message_zh = "本机认证模块不支持此类社保卡，请到窗口办理"


class PsamKeyMissing(AuthenticationError):
    code = "psam_key_missing"
    message_zh = "本机认证模块缺少此类社保卡的密钥，请到窗口办理"


class ReaderError(SsCardError):
    code = "reader"
    message_zh = "读卡器故障，请联系工作人员"


class NoReaderError(ReaderError):
    code = "no_reader"
    message_zh = "未找到社保卡读卡器，请联系工作人员"


class ReaderGoneError(ReaderError):
    code = "reader_gone"


class ServiceUnavailable(ReaderError):
    code = "pcsc_unavailable"
    message_zh = "读卡服务未运行，请联系工作人员"
