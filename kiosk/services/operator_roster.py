"""The kiosk's copy of its region's staff accounts (附件3), synced from the platform.

The maintenance PIN belongs to a named account, and is accepted only for an account that is on
this roster with status ``active`` (:meth:`OperatorRoster.vouch`): a locked or cancelled
account's PIN stops working at the next sync (the backend runtime syncs every few minutes while
the platform answers, ``kiosk maintenance sync-roster`` on demand). A roster older than
``max_age_days`` vouches for nobody, so a kiosk kept offline cannot keep a cancelled account's
PIN alive forever.

The copy is ``<data_dir>/operator-roster.json`` (0600, written atomically): the platform's answer
of ``GET /kiosks/operators`` (accounts, masked names, roles, statuses — no ID or phone numbers)
and ``synced_at``, the kiosk's Unix time of the sync. Thread-safe (file-based; no state).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kiosk.domain.roles import AccountStatus, OperatorAccount, Role
from kiosk.services.durable_files import write_private_file

ROSTER_FILE_NAME = "operator-roster.json"
DAY = 86_400


class RosterRefusal(Exception):
    """The roster does not vouch for the account; ``message`` is Chinese text for the screen."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class RosterSnapshot:
    """What was synced last: accounts by login, the platform's region, the kiosk's sync time."""

    region_code: str
    synced_at: float
    accounts: dict[str, OperatorAccount]


class OperatorRoster:
    """The roster file in *data_dir*; *wall_clock* is Unix seconds."""

    def __init__(
        self,
        data_dir: Path,
        *,
        max_age_days: int = 30,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(data_dir) / ROSTER_FILE_NAME
        self._max_age = max_age_days * DAY
        self._now = wall_clock

    def sync(self, client) -> int:
        """Fetch the roster from the platform (``client.operator_roster()``) and keep it;
        returns the number of accounts. Raises the client's BackendError, or OSError."""
        return self.save(client.operator_roster())

    def save(self, answer) -> int:
        """Keep *answer* (an ``api_models.OperatorRoster``) as synced now; the account count."""
        data = {
            "region_code": answer.region_code,
            "generated_at": answer.generated_at.isoformat(),
            "synced_at": self._now(),
            "operators": [
                {
                    "account": op.account,
                    "name_masked": op.name_masked,
                    "role": op.role,
                    "status": op.status,
                }
                for op in answer.operators
            ],
        }
        write_private_file(self.path, json.dumps(data, ensure_ascii=False).encode("utf-8"))
        return len(answer.operators)

    def load(self) -> RosterSnapshot | None:
        """The last synced roster; None when never synced or unreadable (then nobody is vouched
        for). Accounts with an unknown role or status are left out."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            accounts = {}
            for row in data["operators"]:
                try:
                    account = OperatorAccount(
                        str(row["account"]),
                        str(row.get("name_masked", "")),
                        Role(row["role"]),
                        AccountStatus(row["status"]),
                    )
                except (KeyError, ValueError, TypeError):
                    continue
                accounts[account.account] = account
            return RosterSnapshot(str(data["region_code"]), float(data["synced_at"]), accounts)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def vouch(self, login: str) -> OperatorAccount:
        """The account *login* if the roster lets it sign in with a PIN now; else RosterRefusal
        (never synced, too old, not on it, locked, cancelled)."""
        snapshot = self.load()
        if snapshot is None:
            raise RosterRefusal(
                "roster_missing", "本机尚未从平台同步工作人员名单，请联网后用电子社保卡登录"
            )
        if self._now() - snapshot.synced_at > self._max_age:
            days = self._max_age // DAY
            raise RosterRefusal(
                "roster_stale",
                f"工作人员名单已超过{days}天未与平台同步，维护密码暂停使用，请联网后用电子社保卡登录",
            )
        account = snapshot.accounts.get(login)
        if account is None:
            raise RosterRefusal("not_on_roster", "该账号不在本机所属区域的工作人员名单中")
        if account.status is AccountStatus.LOCKED:
            raise RosterRefusal(
                "locked", "账号已锁定（超过3个月未登录或已冻结），请联系县人社部门系统管理员解锁"
            )
        if account.status is AccountStatus.CANCELLED:
            raise RosterRefusal("cancelled", "账号已注销，不能进入维护模式")
        return account
