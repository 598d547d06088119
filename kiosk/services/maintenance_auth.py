"""Unlocking maintenance mode: e-SSC sign-in, the offline PIN, and the maintenance session.

Flow (the screens call this; the hidden gesture is :mod:`kiosk.domain.gesture`):

1. :meth:`MaintenanceAuth.sign_in_with_qr` — the operator scans their electronic social security
   card; an :class:`OperatorVerifier` (the backend client) answers with an
   :class:`~kiosk.domain.roles.OperatorAccount`. Locked (no sign-in for 3 months) or cancelled
   accounts are refused with a Chinese message.
2. Offline fallback, :meth:`MaintenanceAuth.sign_in_with_pin` — a PIN of a *named* staff
   account (附件3 real-name accounts), kept only as an argon2 hash (:class:`PinStore`,
   ``<data_dir>/maintenance-pins.json``, 0600, never in the config), accepted only while the
   platform-synced :class:`~kiosk.services.operator_roster.OperatorRoster` lists the account as
   active. The session is that account with its role. Every attempt is counted durably
   *before* the PIN is checked; when it cannot be counted (disk full, read-only) no PIN is
   checked at all (:class:`PinAttemptNotCounted`). 5 wrong tries lock the PIN for 15 minutes;
   the count is not reset by a lock, every further wrong try locks again for twice as long
   (30, 60, … capped at 24 h); only a right PIN resets it. The lock survives a reboot.
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

import contextlib
import datetime as dt
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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
from kiosk.services.audit import AuditError, AuditLog
from kiosk.services.durable_files import write_private_file
from kiosk.services.errors import (
    BackendAuthError,
    BackendError,
    BackendProtocolError,
    BackendRejected,
    BackendUnavailable,
)
from kiosk.services.operator_roster import OperatorRoster, RosterRefusal

log = logging.getLogger(__name__)

PINS_FILE_NAME = "maintenance-pins.json"
LEGACY_PIN_FILE_NAME = "maintenance-pin.argon2"  # the old shared PIN: no longer accepted
PIN_LOCK_FILE_NAME = "maintenance-pin-lock.json"
PIN_MIN_DIGITS = 6
PIN_MAX_DIGITS = 12
MAX_LOCK_MINUTES = 24 * 60

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
    """No maintenance PIN is set for this account on this kiosk."""


class PinAccountRefused(MaintenanceAuthError):
    """The operator roster does not vouch for the account (not on it, locked, cancelled, the
    roster never synced or too old); ``code`` says which."""

    def __init__(self, message: str, code: str) -> None:
        self.code = code
        super().__init__(message)


class PinAttemptNotCounted(MaintenanceAuthError):
    """The attempt could not be recorded (disk full, read-only): no PIN is checked."""

    def __init__(self) -> None:
        super().__init__(
            "无法记录维护密码的尝试次数（存储空间已满或只读），为安全起见暂停维护密码登录。"
            "请用电子社保卡登录，或联系县人社部门系统管理员"
        )


class AuditUnavailable(MaintenanceAuthError):
    """The audit log cannot be written: maintenance without an audit trail is refused."""

    def __init__(self) -> None:
        super().__init__("无法写入操作审计记录（存储空间已满或只读），不能进入维护模式")


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
        wait = f"{minutes}分钟" if minutes <= 90 else f"{-(-minutes // 60)}小时"
        super().__init__(f"维护密码错误次数过多，已锁定，请{wait}后再试或用电子社保卡登录")


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


@dataclass(frozen=True)
class PinLockState:
    """The persisted lockout: wrong tries since the last right PIN, locks imposed since then
    (``level``), and the Unix time the current lock ends (0: none)."""

    failures: int = 0
    level: int = 0
    locked_until: float = 0.0


class PinStore:
    """The kiosk's maintenance PINs (one argon2 hash per named account) and the lockout.

    Hashes live in ``<data_dir>/maintenance-pins.json`` (``{"pins": {account: hash}}``, 0600,
    written by ``kiosk maintenance set-pin --account LOGIN``); the lockout in
    ``<data_dir>/maintenance-pin-lock.json``, both written atomically and durably. One lockout
    for the kiosk (one keypad, whichever account is tried). A damaged lock file counts as
    locked (fail closed). *wall_clock* is Unix seconds (it must survive a reboot).
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        max_tries: int = 5,
        lock_minutes: int = 15,
        max_lock_minutes: int = MAX_LOCK_MINUTES,
        wall_clock: Clock = time.time,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.pins_path = Path(data_dir) / PINS_FILE_NAME
        self.legacy_path = Path(data_dir) / LEGACY_PIN_FILE_NAME
        self.lock_path = Path(data_dir) / PIN_LOCK_FILE_NAME
        self._max_tries = max(1, max_tries)
        self._lock_seconds = max(1, lock_minutes) * 60
        self._max_lock_seconds = max(self._lock_seconds, max_lock_minutes * 60)
        self._now = wall_clock
        self._hasher = hasher or PasswordHasher()
        self._lock = threading.Lock()

    # -- the hashes ---------------------------------------------------------------------------

    def accounts(self) -> list[str]:
        """The accounts that have a PIN on this kiosk, sorted."""
        return sorted(self._hashes())

    def is_set(self, account: str) -> bool:
        return account in self._hashes()

    def set_pin(self, account: str, pin: str) -> None:
        """Check the policy and store *account*'s new hash (0600, atomic); clears any lockout."""
        check_pin_policy(pin)
        if not account or len(account) > 40 or not account.isprintable():
            raise PinPolicyError("账号名称无效")
        with self._lock:
            hashes = self._hashes()
            hashes[account] = self._hasher.hash(pin)
            self._save_hashes(hashes)
            self._save_state(PinLockState())

    def remove_pin(self, account: str) -> bool:
        """Delete *account*'s PIN; False when it had none."""
        with self._lock:
            hashes = self._hashes()
            if hashes.pop(account, None) is None:
                return False
            self._save_hashes(hashes)
            return True

    def legacy_pin_present(self) -> bool:
        """Whether the old shared (account-less) PIN file is still lying around (ignored)."""
        return self.legacy_path.exists()

    # -- checking -----------------------------------------------------------------------------

    def check(self, account: str, pin: str, *, vouch: Callable[[], None] | None = None) -> None:
        """Return if *pin* is *account*'s PIN; else raise PinLocked, PinAttemptNotCounted,
        PinIncorrect, PinNotSet or whatever *vouch* raises.

        Order: a lock refuses at once; then the attempt is counted durably; then *vouch* (the
        roster) may refuse the account; only then is the PIN compared. A right PIN resets the
        count and the lock level.
        """
        with self._lock:
            state = self._load_state()
            now = self._now()
            if state.locked_until > now:
                raise PinLocked(math.ceil(state.locked_until - now))
            counted = PinLockState(state.failures + 1, state.level, 0.0)
            try:
                self._save_state(counted)
            except OSError as exc:
                log.error("PIN attempt not counted", extra={"event": "pin_count_failed"})
                raise PinAttemptNotCounted() from exc
            if vouch is not None:
                vouch()
            stored = self._hashes().get(account, "")
            if not stored:
                raise PinNotSet("该账号未在本机设置维护密码，请联网后用电子社保卡登录")
            try:
                self._hasher.verify(stored, pin)
            except VerifyMismatchError:
                self._refuse(counted, now)
            except (InvalidHashError, VerificationError) as exc:
                raise PinNotSet("维护密码记录无效，请重新设置维护密码") from exc
            try:
                self._save_state(PinLockState())
            except OSError:  # counted already; the next attempt will fail closed if this lasts
                log.error("PIN lockout not reset", extra={"event": "pin_count_failed"})

    def lock_state(self) -> PinLockState:
        """The lockout as persisted (clamped when the clock went backwards)."""
        with self._lock:
            return self._load_state()

    def lock_seconds(self, level: int) -> int:
        """How long lock number *level* (1, 2, …) lasts: 15 min doubling, capped at 24 h."""
        return min(self._lock_seconds * 2 ** max(0, level - 1), self._max_lock_seconds)

    def _refuse(self, counted: PinLockState, now: float) -> None:
        if counted.failures < self._max_tries:
            raise PinIncorrect(self._max_tries - counted.failures)
        level = counted.level + 1
        seconds = self.lock_seconds(level)
        try:
            self._save_state(PinLockState(counted.failures, level, now + seconds))
        except OSError as exc:
            raise PinAttemptNotCounted() from exc
        raise PinLocked(seconds)

    # -- files --------------------------------------------------------------------------------

    def _hashes(self) -> dict[str, str]:
        try:
            data = json.loads(self.pins_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            log.error("PIN file unreadable", extra={"event": "pin_file"})
            return {}
        pins = data.get("pins") if isinstance(data, dict) else None
        if not isinstance(pins, dict):
            return {}
        return {str(k): v for k, v in pins.items() if isinstance(v, str)}

    def _save_hashes(self, hashes: dict[str, str]) -> None:
        data = json.dumps({"pins": dict(sorted(hashes.items()))}, ensure_ascii=False, indent=1)
        write_private_file(self.pins_path, (data + "\n").encode("utf-8"))

    def _load_state(self) -> PinLockState:
        now = self._now()
        try:
            raw = json.loads(self.lock_path.read_text(encoding="ascii"))
            state = PinLockState(
                max(0, int(raw["failures"])),
                max(0, int(raw.get("level", 0))),
                float(raw["locked_until"]),
            )
        except FileNotFoundError:
            return PinLockState()
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            # damaged or tampered: fail closed for one full lock period
            state = PinLockState(self._max_tries, 1, now + self._lock_seconds)
            with contextlib.suppress(OSError):
                self._save_state(state)
            return state
        longest = self.lock_seconds(max(1, state.level))
        if state.locked_until > now + longest:
            # the clock went backwards: never lock longer than this level's period from now
            state = PinLockState(state.failures, state.level, now + longest)
            with contextlib.suppress(OSError):
                self._save_state(state)
        return state

    def _save_state(self, state: PinLockState) -> None:
        data = json.dumps(
            {"failures": state.failures, "level": state.level, "locked_until": state.locked_until}
        )
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
        roster: OperatorRoster | None = None,
        clock: Clock = time.monotonic,
        idle_seconds: float = 120.0,
    ) -> None:
        self._verifier = verifier
        self._pins = pin_store
        self._audit = audit
        self._roster = roster
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

    def pin_accounts(self) -> list[OperatorAccount]:
        """The accounts that may sign in with a PIN now: on the roster, active, with a PIN set
        on this kiosk (for the sign-in screen's list)."""
        if self._roster is None:
            return []
        snapshot = self._roster.load()
        if snapshot is None:
            return []
        chosen = []
        for login in self._pins.accounts():
            try:
                chosen.append(self._roster.vouch(login))
            except RosterRefusal:
                continue
        return chosen

    def sign_in_with_pin(self, account: str, pin: str) -> MaintenanceSession:
        """Check *account*'s offline PIN; raise PinLocked, PinAttemptNotCounted,
        PinAccountRefused, PinNotSet or PinIncorrect (each audited when the log can be
        written). The attempt is counted before anything else is checked."""
        vouched: list[OperatorAccount] = []

        def vouch() -> None:
            if self._roster is None:
                raise PinAccountRefused("本机未启用维护密码，请用电子社保卡登录", "no_roster")
            try:
                vouched.append(self._roster.vouch(account))
            except RosterRefusal as exc:
                raise PinAccountRefused(exc.message, exc.code) from None

        try:
            self._pins.check(account, pin, vouch=vouch)
        except PinIncorrect as exc:
            self._note(account, "sign_in.pin_wrong", {"tries_left": exc.tries_left})
            raise
        except PinLocked as exc:
            self._note(account, "sign_in.pin_locked", {"seconds_left": exc.seconds_left})
            raise
        except PinAccountRefused as exc:
            self._note(account, "sign_in.pin_refused", {"reason": exc.code})
            raise
        except PinAttemptNotCounted:
            self._note(account, "sign_in.pin_not_counted", {})
            raise
        return self._start(vouched[0], "pin")

    def _note(self, account: str, action: str, detail: Mapping[str, str | int | bool]) -> None:
        """Audit a refused PIN attempt; a log that cannot be written must not hide the reason."""
        try:
            self._audit.append(account, "none", action, detail)
        except AuditError:
            log.error("audit append failed", extra={"event": "audit_failed"})

    def _start(self, account: OperatorAccount, method: str) -> MaintenanceSession:
        session = MaintenanceSession(
            account, method, self._audit, clock=self._clock, idle_seconds=self._idle_seconds
        )
        try:
            self._audit.append(account.account, account.role.value, "sign_in", {"method": method})
        except AuditError:
            raise AuditUnavailable() from None
        return session
