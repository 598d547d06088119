"""Errors of the backend client: what went wrong, in terms the UI and the outbox can act on.

Every failure of a backend call surfaces as one of these (library errors from requests/urllib3
never leak past the client)::

    BackendError                      any failure talking to the platform
    ├── BackendUnavailable            offline: connection refused, DNS, connect/read timeout, TLS
    ├── BackendRejected               4xx: carries ``status``, ``code``, the Chinese ``message``
    │   │                             to show and the ``field`` it is about (may be "")
    │   └── BackendAuthError          401: the platform does not accept this kiosk's signature
    │                                 (secret not provisioned, clock off by > 5 min, replay)
    └── BackendServerError            5xx: the platform failed; try again later
        └── BackendProtocolError      an answer that breaks the contract (not JSON, wrong shape)

``BackendAuthError`` is a subclass of ``BackendRejected`` because it *is* a 4xx answer, but the
outbox treats it as retryable: it is a kiosk/clock problem that an administrator fixes, and a
resident's submission must not be dropped because of it.

``str(error)`` and ``error.message`` are safe to show to a resident (Chinese, no personal data)
and safe to log.
"""

from __future__ import annotations

OFFLINE_MESSAGE = "网络暂时不通，请稍后再试"
OFFLINE_RECORDS_MESSAGE = "网络暂时不通，个人记录暂时无法查询，请稍后再试或到柜台办理"
SERVER_ERROR_MESSAGE = "服务暂时不可用，请稍后再试或到柜台办理"
AUTH_ERROR_MESSAGE = "本机暂未通过平台认证，请联系服务点工作人员"
PROTOCOL_ERROR_MESSAGE = "平台返回的数据无法识别，请稍后再试或到柜台办理"
REJECTED_MESSAGE = "提交的信息有误，请检查后重试"


class BackendError(Exception):
    """Base of every backend failure; ``message`` is Chinese text fit for the screen."""

    default_message = SERVER_ERROR_MESSAGE

    def __init__(self, message: str = "", *, code: str = "") -> None:
        self.message = message or self.default_message
        self.code = code
        super().__init__(self.message)


class BackendUnavailable(BackendError):
    """The platform could not be reached (offline); nothing was answered."""

    default_message = OFFLINE_MESSAGE


class BackendRejected(BackendError):
    """The platform refused the request (HTTP 4xx); show ``message`` (and ``field``) to the user."""

    default_message = REJECTED_MESSAGE

    def __init__(
        self, message: str = "", *, status: int = 400, code: str = "", field: str = ""
    ) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.field = field

    @property
    def retryable(self) -> bool:
        """True for 408 (timeout) and 429 (rate limit): asking again later may succeed."""
        return self.status in (408, 429)


class BackendAuthError(BackendRejected):
    """HTTP 401: bad or missing signature, unknown kiosk, clock skew or replayed nonce."""

    default_message = AUTH_ERROR_MESSAGE

    @property
    def retryable(self) -> bool:
        return True


class BackendServerError(BackendError):
    """HTTP 5xx from the platform (or a proxy in front of it)."""

    def __init__(self, message: str = "", *, status: int = 500, code: str = "") -> None:
        super().__init__(message, code=code)
        self.status = status


class BackendProtocolError(BackendServerError):
    """The answer does not follow the contract (not JSON, missing fields, wrong types)."""

    default_message = PROTOCOL_ERROR_MESSAGE
