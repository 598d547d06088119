"""附件5 on the reference server over real HTTP: a 问题反映 about an item is answered by the
county's designated staff of that item's business line (就业 / 社保 / 社保卡), and the answer
deadlines are a local rule set per deployment, published with the 责任清单."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest

from kiosk.domain.workdays import due_date
from kiosk_backend.seed.desks import DEMO_DESKS, DEMO_LINE_DESKS
from kiosk_backend.testing import running_backend
from kiosk_backend.ticket_routing import ANSWER_WORKING_DAYS, Level, answer_days_from

API = "/api/v1"
COUNTY, CITY, _PROVINCE = DEMO_DESKS
SOCIAL_INSURANCE, CARD = DEMO_LINE_DESKS


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('lines') / 'backend.sqlite3'}"
    with running_backend(
        url, seed_postings=50, seed_persons=20, answer_working_days="county=4,city=6"
    ) as running:
        yield running


def _report(client, **extra) -> dict:
    body = {
        "client_ref": uuid.uuid4().hex,
        "kind": "problem_report",
        "category": "guidance",
        "reporter": "resident",
        "problem_code": "guide-how",
        **extra,
    }
    response = client.post(f"{API}/ledger/tickets", body)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    "item_no, line, label, desk",
    [
        (3, "employment", "就业", COUNTY),
        (17, "employment", "就业", COUNTY),
        (26, "social_insurance", "社保", SOCIAL_INSURANCE),
        (34, "social_insurance", "社保", SOCIAL_INSURANCE),
        (40, "card", "社保卡", CARD),
    ],
)
def test_guidance_about_an_item_goes_to_that_lines_designated_staff(
    backend, item_no, line, label, desk
):
    ticket = _report(backend.client, item_no=item_no)
    assert (ticket["item_no"], ticket["business_line"], ticket["business_line_label"]) == (
        item_no,
        line,
        label,
    )
    holder = ticket["holder"]
    assert (holder["level"], holder["account"], holder["name"]) == (
        "county",
        desk.account,
        desk.name,
    )
    assert holder["business_line_label"] == label


def test_a_report_without_an_item_still_has_a_county_holder(backend):
    ticket = _report(backend.client)
    assert ticket["item_no"] is None and ticket["business_line"] == ""
    assert ticket["holder"]["account"] == COUNTY.account  # no desk of every line: any one


def test_a_device_fault_names_no_item(backend):
    body = {
        "client_ref": uuid.uuid4().hex,
        "kind": "device_fault",
        "category": "device",
        "reporter": "kiosk",
        "fault_key": "printer.paper_end",
        "item_no": 26,
    }
    response = backend.client.post(f"{API}/ledger/tickets", body)
    assert response.status_code == 422


def test_answer_deadlines_follow_the_configured_local_rule(backend):
    """county=4,city=6 configured; the province keeps today's default (10)."""
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    ticket = _report(backend.client, item_no=3)
    assert ticket["answer_due"] == due_date(today, 4).date.isoformat()
    county = backend.desk_client(COUNTY)
    escalated = county.post(
        f"{API}/ledger/desk/tickets/{ticket['id']}/escalate", {"reason": "本级无法解决"}
    )
    assert escalated.status_code == 200, escalated.text
    assert escalated.json()["answer_due"] == due_date(today, 6).date.isoformat()
    listing = county.get(f"{API}/ledger/responsibility").json()
    rules = {r["key"]: r for r in listing["local_rules"]}
    assert {k: (r["value"], r["default"]) for k, r in rules.items()} == {
        "answer_working_days.county": (4, 3),
        "answer_working_days.city": (6, 5),
        "answer_working_days.province": (10, 10),
    }
    assert rules["answer_working_days.county"]["label"] == "县人社部门答复时限"
    lines = {d["account"]: d["business_line_label"] for d in listing["responders"]}
    assert lines[SOCIAL_INSURANCE.account] == "社保" and lines[CARD.account] == "社保卡"
    kiosk_view = backend.client.get(f"{API}/ledger/tickets").json()
    assert kiosk_view["local_rules"] == listing["local_rules"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("county=0", "between 1 and 60"),
        ("town=3", "expected county=N"),
        ("county=three", "expected county=N"),
    ],
)
def test_a_malformed_rule_is_refused_naming_the_part(text, message):
    with pytest.raises(ValueError, match=message):
        answer_days_from(text)


def test_an_empty_rule_keeps_todays_defaults():
    assert answer_days_from("") == ANSWER_WORKING_DAYS
    assert answer_days_from(" province=12 ")[Level.PROVINCE] == 12


def test_serve_refuses_a_malformed_rule_before_listening(tmp_path, capsys):
    from kiosk.cli import main

    db = f"sqlite:///{tmp_path / 'b.sqlite3'}"
    assert main(["backend", "serve", "--db", db, "--answer-days", "county=x"]) == 2
    assert capsys.readouterr().err == (
        "serve failed: --answer-days: expected county=N, city=N or province=N, got 'county=x'\n"
    )
    assert not (tmp_path / "b.sqlite3.key").exists()  # refused before the key ring was made
