"""附件3 accounts on the platform: the idle lock (3 calendar months from the last sign-in or the
creation; the CLI example of the issue exactly), least privilege and four eyes in the
用户申请（变更）单 workflow, and the 每月核查 kept as signed."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from kiosk.domain.identity import build_id_number
from kiosk.domain.roles import Permission, Role
from kiosk_backend.db import make_engine, make_session_factory, migrate
from kiosk_backend.models import Operator
from kiosk_backend.staff import accounts, requests, review
from kiosk_backend.staff.accounts import AccountSpec, Actor
from kiosk_backend.staff.rules import (
    AccountRuleError,
    add_months,
    check_grants,
    idle_lock_due,
    is_idle,
    may_manage,
)
from kiosk_backend.staff_models import AuditEntry

TZ = ZoneInfo("Asia/Shanghai")
KIOSK = [str(Path(sys.executable).with_name("kiosk"))]


def _at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), TZ).astimezone(dt.UTC)


def _id(n: int, year: int = 1988) -> str:
    return build_id_number("140431", dt.date(year, 3, 1 + n % 27), 300 + n)


@pytest.fixture
def sessions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'staff.sqlite3'}")
    migrate(engine)
    yield make_session_factory(engine)
    engine.dispose()


def _spec(account: str, n: int, role: str = "operator", region_code: str = "140431", **kw):
    return AccountSpec(
        account=account,
        name=kw.pop("name", "王秀兰"),
        id_number=kw.pop("id_number", _id(n)),
        phone="13812345678",
        role=role,
        region=kw.pop("region", "沁河镇西关村"),
        region_code=region_code,
        **kw,
    )


# --- the idle rule ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last", "as_of", "idle"),
    [
        ("2026-12-01", "2027-03-01", False),  # three months to the day: still allowed
        ("2026-12-01", "2027-03-02", True),
        ("2026-12-01", "2027-03-05", True),
        ("2027-01-10", "2027-03-05", False),
        ("2026-11-30", "2027-02-28", False),  # month end clamps
        ("2026-11-30", "2027-03-01", True),
    ],
)
def test_idle_means_more_than_three_calendar_months(last, as_of, idle):
    assert is_idle(dt.date.fromisoformat(last), dt.date.fromisoformat(as_of)) is idle


def test_add_months_clamps_to_the_month_end():
    assert add_months(dt.date(2027, 1, 31), 1) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2026, 11, 15), 3) == dt.date(2027, 2, 15)
    assert idle_lock_due(dt.date(2026, 12, 1)) == dt.date(2027, 3, 2)


def test_the_cli_locks_the_account_that_never_signed_in_and_keeps_the_one_that_did(tmp_path):
    db = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    for account, n in (("never-signed", 1), ("signed-jan", 2)):
        added = subprocess.run(
            [*KIOSK, "backend", "staff", "add", "--db", db, "--account", account, "--name",
             "李建国", "--id-number", _id(n), "--phone", "13912345678", "--role", "operator",
             "--region-code", "140431", "--unit", "沁河镇东关村", "--as-of", "2026-12-01",
             "--json"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        assert json.loads(added.stdout)["created_at"].startswith("2026-12-01")
    engine = make_engine(db)
    with make_session_factory(engine)() as session:  # the real sign-in check, on 2027-01-10
        signed = session.get(Operator, "signed-jan")
        assert accounts.check_at_signin(session, signed, _at("2027-01-10")) == "active"
        session.commit()
    engine.dispose()
    locked = subprocess.run(
        [*KIOSK, "backend", "staff", "lock-idle", "--db", db, "--as-of", "2027-03-05", "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert locked.returncode == 0, locked.stderr
    assert json.loads(locked.stdout) == {"as_of": "2027-03-05", "locked": ["never-signed"]}
    listed = subprocess.run(
        [*KIOSK, "backend", "staff", "list", "--db", db, "--as-of", "2027-03-05", "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    rows = {r["account"]: r for r in json.loads(listed.stdout)["accounts"]}
    assert (rows["never-signed"]["status"], rows["never-signed"]["lock_reason"]) == (
        "locked",
        "idle",
    )
    assert (rows["signed-jan"]["status"], rows["signed-jan"]["last_signin_on"]) == (
        "active",
        "2027-01-10",
    )
    assert rows["never-signed"]["id_number"].count("*") == 10  # masked


def test_a_sign_in_after_three_idle_months_locks_instead(sessions):
    with sessions() as session:
        operator, _ = accounts.create_account(
            session, _spec("late-op", 3), actor=Actor.command_line(), now=_at("2026-12-01")
        )
        assert accounts.check_at_signin(session, operator, _at("2027-03-02")) == "locked"
        assert (operator.lock_reason, operator.last_signin_at) == ("idle", None)
        session.commit()
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions == ["account.create", "account.lock_idle"]


def test_an_unlocked_account_gets_a_fresh_three_months(sessions):
    with sessions() as session:
        operator, _ = accounts.create_account(
            session, _spec("back-op", 4), actor=Actor.command_line(), now=_at("2026-12-01")
        )
        accounts.lock_idle(session, dt.date(2027, 3, 5), actor=Actor.scheduler())
        accounts.unlock(session, operator, actor=Actor.command_line(), now=_at("2027-03-06"))
        assert accounts.lock_idle(session, dt.date(2027, 3, 7), actor=Actor.scheduler()) == []
        assert accounts.lock_idle(session, dt.date(2027, 6, 7), actor=Actor.scheduler()) == [
            "back-op"
        ]


# --- least privilege and four eyes --------------------------------------------------------------


def test_grants_stay_within_the_role():
    assert check_grants(Role.OPERATOR, ["VIEW_FLEET", "HANDLE_APPLICATIONS"]) == [
        "HANDLE_APPLICATIONS",
        "VIEW_FLEET",
    ]
    for role in (Role.SYSTEM_ADMIN, Role.BUSINESS_ADMIN, Role.VENDOR):
        with pytest.raises(AccountRuleError, match="不能被授予"):
            check_grants(role, [Permission.HANDLE_APPLICATIONS.name])


def test_administrator_accounts_are_made_from_a_level_above():
    assert may_manage("14", Role.SYSTEM_ADMIN, "140431")
    assert not may_manage("140431", Role.BUSINESS_ADMIN, "140431")
    assert may_manage("140431", Role.OPERATOR, "140431")
    assert not may_manage("140431", Role.OPERATOR, "140402")
    assert not may_manage("", Role.OPERATOR, "140431")


def _staff(session):
    cli = Actor.command_line()
    now = _at("2026-12-01")
    made = {}
    for key, role, region, n in (
        ("sys", "system_admin", "140431", 10),
        ("biz", "business_admin", "140431", 11),
        ("op", "operator", "140431", 12),
    ):
        made[key], _ = accounts.create_account(
            session, _spec(f"{key}-acct", n, role, region), actor=cli, now=now
        )
    return {k: Actor.of(v) for k, v in made.items()}, made


def _file(session, actor, kind="new", account="", proposed=None, **fields):
    return requests.file_request(
        session,
        actor=actor,
        kind=kind,
        account=account,
        applicant_unit="沁河镇人民政府",
        contact_name="田志强",
        contact_phone="13934567890",
        reason="岗位调整",
        proposed=proposed or fields,
        now=_at("2026-12-02"),
    )


def test_an_application_goes_filed_approved_created(sessions):
    with sessions() as session:
        actors, _ = _staff(session)
        filed = _file(
            session,
            actors["sys"],
            proposed={"account": "new-op", "name": "许文静", "id_number": _id(20), "phone": "13834561234",
               "role": "operator", "region": "郭道村", "region_code": "140431",
               "grants": ["WATCH_HELP_REQUESTS"]},
        )  # fmt: skip
        with pytest.raises(AccountRuleError, match="不能办理"):
            requests.execute(session, filed, actor=actors["sys"], now=_at("2026-12-02"))
        with pytest.raises(AccountRuleError, match="只有业务管理员"):
            requests.decide(session, filed, actor=actors["op"], approve=True, opinion="", now=_at("2026-12-02"))  # fmt: skip
        requests.decide(session, filed, actor=actors["biz"], approve=True, opinion="同意", now=_at("2026-12-03"))  # fmt: skip
        handed = requests.execute(session, filed, actor=actors["sys"], now=_at("2026-12-03"))
        created = session.get(Operator, "new-op")
        assert (created.status, created.grants, created.password_must_change) == (
            "active",
            ["WATCH_HELP_REQUESTS"],
            True,
        )
        assert len(handed.password) == 12 and handed.totp_uri == ""
        assert filed.state == "done"


def test_nobody_approves_or_carries_out_a_change_of_their_own_account(sessions):
    with sessions() as session:
        actors, made = _staff(session)
        own = _file(session, actors["op"], kind="change_role", account="biz-acct", role="business_admin", grants=[])  # fmt: skip
        with pytest.raises(AccountRuleError, match="本人账号"):
            requests.decide(session, own, actor=actors["biz"], approve=True, opinion="", now=_at("2026-12-03"))  # fmt: skip
        filed_by_biz = _file(session, actors["biz"], kind="unlock", account="op-acct")
        with pytest.raises(AccountRuleError, match="本人提交"):
            requests.decide(session, filed_by_biz, actor=actors["biz"], approve=True, opinion="", now=_at("2026-12-03"))  # fmt: skip
        with pytest.raises(AccountRuleError, match="本人账号"):
            accounts.freeze(session, made["sys"], "测试", actor=actors["sys"], now=_at("2026-12-03"))  # fmt: skip


def test_one_person_never_holds_both_administrator_roles(sessions):
    with sessions() as session:
        _actors, made = _staff(session)
        same_person = _spec("sys2", 0, "business_admin", "140431", id_number=made["sys"].id_number)
        with pytest.raises(AccountRuleError, match="系统管理员和业务管理员"):
            accounts.create_account(session, same_person, actor=Actor.command_line(), now=_at("2026-12-04"))  # fmt: skip


def test_real_names_are_required(sessions):
    with sessions() as session, pytest.raises(AccountRuleError) as info:
        accounts.create_account(
            session, _spec("anon", 1, name="X"), actor=Actor.command_line(), now=_at("2026-12-01")
        )
    assert info.value.field == "name"


def test_the_monthly_review_is_kept_as_signed(sessions):
    with sessions() as session:
        actors, made = _staff(session)
        kept = review.sign_off(
            session,
            actor=actors["biz"],
            actor_name="马强",
            region_code="140431",
            month="2026-12",
            note="无异常",
            now=_at("2026-12-31", 16),
        )
        session.commit()
        rows = {r["account"]: r for r in kept.rows}
        assert rows["op-acct"]["changes"] == ["12-01 创建账号（cli）"]
        assert rows["op-acct"]["idle_days"] == 30 and rows["op-acct"]["last_signin"] == ""
        accounts.freeze(session, made["op"], "离岗", actor=actors["sys"], now=_at("2027-01-02"))
        session.commit()
        again = review.signed_review(session, "140431", "2026-12")
        assert {r["account"]: r["status"] for r in again.rows}["op-acct"] == "正常"
        with pytest.raises(AccountRuleError, match="已签署"):
            review.sign_off(session, actor=actors["biz"], actor_name="马强", region_code="140431", month="2026-12", note="", now=_at("2027-01-03"))  # fmt: skip
        with pytest.raises(AccountRuleError, match="只有业务管理员"):
            review.sign_off(session, actor=actors["sys"], actor_name="孙丽", region_code="140431", month="2027-01", note="", now=_at("2027-01-31"))  # fmt: skip
