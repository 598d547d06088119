"""Unlocking maintenance mode: e-SSC sign-in, the offline PIN, and the maintenance session.

Flow (the screens call this; the hidden gesture is :mod:`kiosk.domain.gesture`):

1. :meth:`MaintenanceAuth.sign_in_with_qr` — the operator scans their electronic social security
   card; an :class:`OperatorVerifier` (the backend client) answers with an
   :class:`~kiosk.domain.roles.OperatorAccount`. Locked (no sign-in for 3 months) or cancelled
   accounts are refused with a Chinese message.
2. Offline fallback, :meth:`MaintenanceAuth.sign_in_with_pin` — a per-kiosk PIN kept only as an
   argon2 hash (:class:`PinStore`); 5 wrong tries lock it for 15 minutes, and the lock is kept in
   the data dir so a reboot does not lift it. A PIN session has the operator role and the account
   ``pin@<device id>``.
3. The result is a :class:`MaintenanceSession`: role, account, start time, a 2-minute idle
   timeout on an injected monotonic clock. Every action goes through
   :meth:`MaintenanceSession.authorize`, which checks expiry, calls
   :func:`kiosk.domain.roles.require` and writes the audit log.

Every sign-in, refusal, wrong PIN, lockout, permitted or denied action and session end is
recorded in the :class:`~kiosk.services.audit.AuditLog` with the account — never the QR content,
the PIN, or a resident's data. Errors are :class:`MaintenanceAuthError` subclasses whose
``message`` is Chinese text for the screen. Blocking (network, argon2 ≈ 0.1 s): call from a
worker thread, not the UI thread. Not thread-safe per session; PinStore is thread-safe.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from kiosk.domain.roles import (
    AccountStatus,
    OperatorAccount,
    Permission,
    PermissionDenied,
    Role,
    require,
)
from kiosk.services.audit import AuditLog
from kiosk.services.durable_files import write_private_file
from kiosk.services.errors import (
    BackendAuthError,
    BackendError,
    BackendProtocolError,
    BackendRejected,
    BackendUnavailable,
)

PIN_FILE_NAME = "maintenance-pin.argon2"
PIN_LOCK_FILE_NAME = "maintenance-pin-lock.json"
PIN_MIN_DIGITS = 6
PIN_MAX_DIGITS = 12
PIN_ACCOUNT_PREFIX = "pin@"

Clock = Callable[[], float]


class OperatorVerifier(Protocol):
    """Verifies an operator's e-SSC QR with the platform (task G's backend client implements it).

    ``verify_operator`` returns the account whatever its status (the kiosk refuses locked and
    cancelled ones itself); raises ``BackendUnavailable`` when offline and ``BackendRejected``
    (``message`` in Chinese) when the QR is not a known maintenance account.
    """

    def verify_operator(self, qr: str) -> OperatorAccount: ...


ESSC_SIGNIN_PATH = "/operators/essc-signin"


def operator_account_from_json(data: object) -> OperatorAccount:
    """Parse the platform's sign-in answer ``{account, name_masked, role, status}``; raise
    ``BackendProtocolError`` for any other shape (unknown role or status included)."""
    if not isinstance(data, dict):
        raise BackendProtocolError(code="operator_not_an_object")
    try:
        account = data["account"]
        name_masked = data.get("name_masked", "")
        role = Role(data["role"])
        status = AccountStatus(data["status"])
    except (KeyError, ValueError, TypeError):
        raise BackendProtocolError(code="operator_bad_fields") from None
    if not isinstance(account, str) or not account or not isinstance(name_masked, str):
        raise BackendProtocolError(code="operator_bad_fields")
    return OperatorAccount(account, name_masked, role, status)


class BackendOperatorVerifier:
    """:class:`OperatorVerifier` over the kiosk's ``BackendClient``: ``POST
    /api/v1/operators/essc-signin {"qr"}``, sent once with ``post_command``: a code verifies
    only once, so a resend could only be refused as used. Blocking; raises the client's errors
    and ``BackendProtocolError`` for an answer of the wrong shape."""

    def __init__(self, client) -> None:
        self._client = client

    def verify_operator(self, qr: str) -> OperatorAccount:
        return operator_account_from_json(self._client.post_command(ESSC_SIGNIN_PATH, {"qr": qr}))


# -- errors -----------------------------------------------------------------------------------


class MaintenanceAuthError(Exception):
    """Base of unlock failures; ``message`` is Chinese text for the screen."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class AccountRefused(MaintenanceAuthError):
    """The platform knows the account but it is locked or cancelled."""

    def __init__(self, status: AccountStatus) -> None:
        self.status = status
        if status is AccountStatus.LOCKED:
            text = "账号已锁定（超过3个月未登录或已冻结），请联系县人社部门系统管理员解锁"
        else:
            text = "账号已注销，不能进入维护模式，请联系县人社部门系统管理员"
        super().__init__(text)


class SignInRejected(MaintenanceAuthError):
    """The platform does not accept this QR as a maintenance account."""


class SignInUnavailable(MaintenanceAuthError):
    """The platform cannot be reached: offer the maintenance PIN instead."""


class PinNotSet(MaintenanceAuthError):
    """No maintenance PIN is configured on this kiosk."""


class PinPolicyError(MaintenanceAuthError, ValueError):
    """A new PIN is too short, not digits, or trivially guessable."""


class PinIncorrect(MaintenanceAuthError):
    """Wrong PIN; ``tries_left`` before the lock."""

    def __init__(self, tries_left: int) -> None:
        self.tries_left = tries_left
        super().__init__(f"维护密码错误，还可尝试{tries_left}次")


class PinLocked(MaintenanceAuthError):
    """Too many wrong PINs; ``seconds_left`` until the PIN can be tried again."""

    def __init__(self, seconds_left: int) -> None:
        self.seconds_left = seconds_left
        minutes = max(1, -(-seconds_left // 60))
        super().__init__(f"维护密码错误次数过多，已锁定，请{minutes}分钟后再试")


class SessionExpired(MaintenanceAuthError):
    """The maintenance session ended (idle timeout or exit); sign in again."""

    def __init__(self) -> None:
        super().__init__("维护模式已超时退出，请重新登录")


# -- the PIN ----------------------------------------------------------------------------------


def check_pin_policy(pin: str) -> None:
    """Raise :class:`PinPolicyError` unless *pin* is 6–12 digits and not trivially guessable."""
    if not (pin.isascii() and pin.isdigit()):
        raise PinPolicyError("维护密码只能由数字组成")
    if not PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS:
        raise PinPolicyError(f"维护密码应为{PIN_MIN_DIGITS}至{PIN_MAX_DIGITS}位数字")
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:], strict=False)}
    if steps in ({0}, {1}, {-1}):
        raise PinPolicyError("维护密码过于简单（重复或连续数字），请重新设置")


class PinStore:
    """The kiosk's maintenance PIN hash and its persisted lockout state.

    The hash comes from ``<data_dir>/maintenance-pin.argon2`` (written by ``kiosk maintenance
    set-pin``) or, when that file does not exist, from config ``maintenance.pin_hash``. The
    lockout (consecutive failures, locked-until as Unix time) lives in
    ``<data_dir>/maintenance-pin-lock.json``, written atomically; a damaged lock file counts as
    locked (fail closed). *wall_clock* is Unix seconds (it must survive a reboot).
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        configured_hash: str = "",
        max_tries: int = 5,
        lock_minutes: int = 15,
        wall_clock: Clock = time.time,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.pin_path = Path(data_dir) / PIN_FILE_NAME
        self.lock_path = Path(data_dir) / PIN_LOCK_FILE_NAME
        self._configured_hash = configured_hash.strip()
        self._max_tries = max(1, max_tries)
        self._lock_seconds = lock_minutes * 60
        self._now = wall_clock
        self._hasher = hasher or PasswordHasher()
        self._lock = threading.Lock()

    def is_set(self) -> bool:
        return bool(self._stored_hash())

    def set_pin(self, pin: str) -> None:
        """Check the policy, store the new hash (0600, atomic) and clear any lockout."""
        check_pin_policy(pin)
        with self._lock:
            write_private_file(self.pin_path, (self._hasher.hash(pin) + "\n").encode("ascii"))
            self._save_lock(0, 0.0)

    def check(self, pin: str) -> None:
        """Return if *pin* is right; else raise PinNotSet, PinLocked or PinIncorrect."""
        with self._lock:
            stored = self._stored_hash()
            if not stored:
                raise PinNotSet("本机未设置维护密码，请联网后用电子社保卡登录")
            failures, locked_until = self._load_lock()
            now = self._now()
            if locked_until > now:
                raise PinLocked(math.ceil(locked_until - now))
            try:
                self._hasher.verify(stored, pin)
            except VerifyMismatchError:
                failures += 1
                if failures >= self._max_tries:
                    self._save_lock(0, now + self._lock_seconds)
                    raise PinLocked(self._lock_seconds) from None
                self._save_lock(failures, 0.0)
                raise PinIncorrect(self._max_tries - failures) from None
            except (InvalidHashError, VerificationError) as exc:
                raise PinNotSet("维护密码配置无效，请重新设置维护密码") from exc
            if failures:
                self._save_lock(0, 0.0)

    def lock_state(self) -> tuple[int, float]:
        """(consecutive failures, locked-until Unix time or 0) as persisted."""
        with self._lock:
            return self._load_lock()

    def _stored_hash(self) -> str:
        try:
            return self.pin_path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return self._configured_hash
        except (OSError, UnicodeDecodeError):
            return ""

    def _load_lock(self) -> tuple[int, float]:
        now = self._now()
        try:
            state = json.loads(self.lock_path.read_text(encoding="ascii"))
            failures = int(state["failures"])
            locked_until = float(state["locked_until"])
        except FileNotFoundError:
            return 0, 0.0
        except (OSError, ValueError, KeyError, TypeError):
            # damaged or tampered: fail closed for one full lock period
            self._save_lock(0, now + self._lock_seconds)
            return 0, now + self._lock_seconds
        if locked_until > now + self._lock_seconds:
            # the clock went backwards: never lock longer than one period from now
            locked_until = now + self._lock_seconds
            self._save_lock(failures, locked_until)
        return max(0, failures), locked_until

    def _save_lock(self, failures: int, locked_until: float) -> None:
        data = json.dumps({"failures": failures, "locked_until": locked_until})
        write_private_file(self.lock_path, data.encode("ascii"))


# -- the session ------------------------------------------------------------------------------


class MaintenanceSession:
    """One signed-in maintenance user; ends after *idle_seconds* without :meth:`touch`.

    *clock* is monotonic seconds (injected; tests drive it). ``started`` is UTC wall time.
    """

    def __init__(
        self,
        account: OperatorAccount,
        method: str,
        audit: AuditLog,
        *,
        clock: Clock = time.monotonic,
        idle_seconds: float = 120.0,
        started: dt.datetime | None = None,
    ) -> None:
        self.operator = account
        self.method = method
        self.started = started or dt.datetime.now(dt.UTC)
        self._audit = audit
        self._clock = clock
        self._idle_seconds = float(idle_seconds)
        self._last_activity = clock()
        self._ended = False

    @property
    def role(self) -> Role:
        return self.operator.role

    @property
    def account(self) -> str:
        return self.operator.account

    def touch(self) -> None:
        """Record user activity (any touch on a maintenance screen) if not yet expired."""
        if not self.expired:
            self._last_activity = self._clock()

    def seconds_left(self) -> float:
        """Seconds until the idle timeout (0 once expired or ended)."""
        if self._ended:
            return 0.0
        return max(0.0, self._idle_seconds - (self._clock() - self._last_activity))

    @property
    def expired(self) -> bool:
        return self.seconds_left() <= 0.0

    @property
    def ended(self) -> bool:
        return self._ended

    def poll(self) -> bool:
        """Call from a UI timer (e.g. every second): ends and audits the session once the idle
        timeout has passed. Returns True while the session is still usable."""
        if not self._ended and self.expired:
            self.end("idle_timeout")
        return not self._ended

    def allowed_permissions(self) -> list[Permission]:
        """What this user may do, in the Permission enum's order (to build the menu)."""
        return [p for p in Permission if self.can(p)]

    def can(self, permission: Permission) -> bool:
        """Whether to offer *permission* in a menu (no audit entry; the action still authorizes)."""
        try:
            require(self.role, permission)
        except PermissionDenied:
            return False
        return not self.expired

    def authorize(
        self,
        permission: Permission,
        action: str = "",
        detail: Mapping[str, str | int | bool] | None = None,
    ) -> None:
        """Gate one action: raise SessionExpired or PermissionDenied (audited), else audit it.

        *action* names what was done (default: the permission's name, e.g. ``replace_paper``);
        *detail* must hold no personal data (the audit log refuses it).
        """
        if self.expired:
            self.end("idle_timeout")
            raise SessionExpired()
        name = action or permission.name.lower()
        try:
            require(self.role, permission)
        except PermissionDenied:
            self._record("denied", {"permission": permission.name.lower(), "action": name})
            raise
        self._record(name, detail)
        self._last_activity = self._clock()

    def end(self, reason: str = "exit") -> None:
        """End the session (idempotent) and record why: exit, idle_timeout, ..."""
        if self._ended:
            return
        self._ended = True
        self._record("maintenance.end", {"reason": reason})

    def _record(self, action: str, detail: Mapping[str, str | int | bool] | None) -> None:
        self._audit.append(self.account, self.role.value, action, detail)


class MaintenanceAuth:
    """Turns an e-SSC QR or the offline PIN into a :class:`MaintenanceSession` (see module doc)."""

    def __init__(
        self,
        *,
        verifier: OperatorVerifier | None,
        pin_store: PinStore,
        audit: AuditLog,
        device_id: str,
        clock: Clock = time.monotonic,
        idle_seconds: float = 120.0,
    ) -> None:
        self._verifier = verifier
        self._pins = pin_store
        self._audit = audit
        self._device_id = device_id
        self._clock = clock
        self._idle_seconds = idle_seconds

    def sign_in_with_qr(self, qr: str) -> MaintenanceSession:
        """Verify the scanned e-SSC QR; raise SignInUnavailable (offline: offer the PIN),
        SignInRejected or AccountRefused."""
        if self._verifier is None:
            raise SignInUnavailable("本机未连接平台，请使用维护密码")
        try:
            account = self._verifier.verify_operator(qr)
        except BackendUnavailable:
            raise SignInUnavailable("网络不通，无法验证电子社保卡，请使用维护密码") from None
        except BackendAuthError:
            # the platform does not accept this kiosk (secret/clock): not the operator's fault
            raise SignInUnavailable("本机未通过平台认证，请使用维护密码并联系系统管理员") from None
        except BackendRejected as exc:
            self._audit.append("unknown", "none", "sign_in.rejected", {"method": "essc"})
            raise SignInRejected(
                exc.message or "该电子社保卡不是维护账号，请联系县人社部门"
            ) from None
        except BackendError:
            # 5xx or an answer that breaks the contract: the platform cannot vouch right now
            raise SignInUnavailable(
                "平台暂时无法验证电子社保卡，请稍后再试或使用维护密码"
            ) from None
        if account.status is not AccountStatus.ACTIVE:
            self._audit.append(
                account.account,
                account.role.value,
                "sign_in.refused",
                {"method": "essc", "status": account.status.value},
            )
            raise AccountRefused(account.status)
        return self._start(account, "essc")

    def sign_in_with_pin(self, pin: str) -> MaintenanceSession:
        """Check the offline PIN; raise PinNotSet, PinLocked or PinIncorrect (all audited)."""
        account = OperatorAccount(
            account=f"{PIN_ACCOUNT_PREFIX}{self._device_id}",
            name_masked="维护密码",
            role=Role.OPERATOR,
            status=AccountStatus.ACTIVE,
        )
        try:
            self._pins.check(pin)
        except PinIncorrect as exc:
            self._audit.append(
                account.account, "none", "sign_in.pin_wrong", {"tries_left": exc.tries_left}
            )
            raise
        except PinLocked as exc:
            self._audit.append(
                account.account, "none", "sign_in.pin_locked", {"seconds_left": exc.seconds_left}
            )
            raise
        return self._start(account, "pin")

    def _start(self, account: OperatorAccount, method: str) -> MaintenanceSession:
        session = MaintenanceSession(
            account, method, self._audit, clock=self._clock, idle_seconds=self._idle_seconds
        )
        self._audit.append(account.account, account.role.value, "sign_in", {"method": method})
        return session
