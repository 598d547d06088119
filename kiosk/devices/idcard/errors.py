"""The ID card reader's error tree; every failure a caller can see is one of these.

::

    IdCardError                      base; ``code`` is stable, ``message_zh`` is for screens
    ├── FrameError                   bytes on the wire are not a valid frame
    │   ├── ChecksumMismatch         CHK byte does not match (line noise)      retryable
    │   ├── BadLength                length field impossible for the frame     retryable
    │   ├── Truncated                a frame cut short, a new one began        retryable
    │   └── UnexpectedFrame          a command frame where a response was due  retryable
    ├── CardDataError                the card's answer does not decode          retryable
    ├── PortError                    the serial port cannot be opened / vanished
    ├── ReaderTimeout                no complete answer within the step timeout retryable
    └── StatusError                  the reader answered with an error SW3 (``sw3``)
        ├── FrameRejected            10/11: the reader got our frame corrupted retryable
        ├── CommandRejected          21/23: command unknown or not permitted
        ├── SamFault                 60/66/24: the SAM module is broken or unauthorised
        ├── NoCard                   80: no card in the field
        ├── SelectFailed             81: card found but could not be selected
        ├── NoContent                91: nothing stored (e.g. no appended address)
        ├── CardAuthFailed           31/32: card and SAM do not trust each other
        └── CardReadFailed           33/41/47 and unknown codes: card lifted, bad chip
            └── NotAnIdCard          40: a card of another kind lies on the reader

No message contains personal data; ``detail`` is safe to log.
"""

from __future__ import annotations


class IdCardError(Exception):
    """Base of every ID card reader error. ``retryable``: repeating the step may succeed."""

    code = "idcard_error"
    message_zh = "身份证阅读器出错"
    retryable = False

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.code)
        self.detail = detail


class FrameError(IdCardError):
    code = "frame_error"
    message_zh = "身份证阅读器通信出错"
    retryable = True


class ChecksumMismatch(FrameError):
    code = "checksum"


class BadLength(FrameError):
    code = "bad_length"


class Truncated(FrameError):
    """A frame stopped before its declared length and a new frame began."""

    code = "truncated"


class UnexpectedFrame(FrameError):
    code = "unexpected_frame"


class CardDataError(IdCardError):
    """The reader answered, but the card data is malformed (wrong sizes, impossible dates)."""

    code = "card_data"
    message_zh = "身份证信息读取不完整，请重新放置身份证"
    retryable = True


class PortError(IdCardError):
    code = "port"
    message_zh = "身份证阅读器未连接"


class ReaderTimeout(IdCardError):
    code = "timeout"
    message_zh = "身份证阅读器无应答"
    retryable = True


class StatusError(IdCardError):
    """The reader answered with SW3 ``sw3`` (one byte) that is not a success code."""

    code = "status"

    def __init__(self, sw3: int, detail: str = "") -> None:
        super().__init__(detail or f"SW3={sw3:02X}")
        self.sw3 = sw3


class FrameRejected(StatusError):
    code = "frame_rejected"
    message_zh = "身份证阅读器通信出错"
    retryable = True


class CommandRejected(StatusError):
    code = "command_rejected"
    message_zh = "身份证阅读器不支持此操作"


class SamFault(StatusError):
    code = "sam_fault"
    message_zh = "身份证阅读器安全模块故障，请联系工作人员"


class NoCard(StatusError):
    code = "no_card"
    message_zh = "请将身份证放在感应区"


class SelectFailed(StatusError):
    code = "select_failed"
    message_zh = "请将身份证放稳后重试"
    retryable = True


class NoContent(StatusError):
    code = "no_content"
    message_zh = "卡内无此信息"


class CardAuthFailed(StatusError):
    code = "card_auth_failed"
    message_zh = "身份证验证未通过，请到柜台办理"


class CardReadFailed(StatusError):
    code = "card_read_failed"
    message_zh = "读取身份证失败，请重新放置身份证"
    retryable = True


class NotAnIdCard(CardReadFailed):
    code = "not_an_id_card"
    message_zh = "这不是身份证，请放置居民身份证"
    retryable = False
