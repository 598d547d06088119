"""End to end over real HTTP: a kiosk files a counter pre-application (the kiosk's own signed
client), the county counter accepts it in the console a week later, and the kiosk's 我的办件
shows 已受理 with the new due date — N working days counted from the acceptance day (附件2's
"受理后 N 个工作日内办结"), not from the filing day."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from zoneinfo import ZoneInfo

import pytest
import requests

from kiosk.domain.items.views import application_row
from kiosk.domain.workdays import due_date
from kiosk.services.backend_client import IDENTITY_ENVELOPE_KEY, BackendClient
from kiosk_backend import catalogue
from kiosk_backend.db import make_engine, make_session_factory
from kiosk_backend.models import Application
from kiosk_backend.testing import running_backend

ITEM = 28  # 城乡居民基本养老保险参保登记: counter only, 2 working days
COUNTER = "ESSC-DEMO-OPERATOR-08"  # the county counter's demo label (a fresh code per sign-in)


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'platform.sqlite3'}"
    with running_backend(url, seed_postings=100, seed_persons=40) as running:
        yield running


def _counter_session(backend) -> tuple[requests.Session, str]:
    url = backend.url
    browser = requests.Session()
    page = browser.get(f"{url}/console/signin")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    code = backend.essc_code(COUNTER)
    home = browser.post(f"{url}/console/signin/essc", data={"csrf": token, "code": code})
    assert home.url.endswith("/console/")
    return browser, re.search(r'name="csrf" value="([^"]+)"', home.text).group(1)


def _as_if_filed_days_ago(db_url: str, number: str, days: int) -> dt.date:
    """Move the filing back *days* days (its due date as the platform computed it then)."""
    engine = make_engine(db_url)
    with make_session_factory(engine)() as session:
        application = session.query(Application).filter_by(number=number).one()
        application.submitted_at -= dt.timedelta(days=days)
        filed_on = application.submitted_at.astimezone(ZoneInfo("Asia/Shanghai")).date()
        application.due_date = due_date(filed_on, catalogue.item(ITEM).time_limit_days).date
        session.commit()
    engine.dispose()
    return filed_on


# The rule itself: the due date is recomputed from the acceptance day in
# kiosk_backend/progression.py, and 我的办件 says where it counts from.
def test_kiosk_files_console_accepts_kiosk_shows_accepted_and_the_new_due_date(backend):
    kiosk = BackendClient(
        requests.Session(), backend.url, backend.kiosk_id, bytes.fromhex(backend.secret_hex)
    )
    identified = kiosk.verify_essc(backend.essc_code("ESSC-DEMO-RESIDENT-05"))
    resident, identity = identified.id_number, identified.identity.token
    receipt = kiosk.post_submission(
        "/work-orders",
        {
            "id_number": resident,
            "item_no": ITEM,
            "phone": "13912345678",
            "note": "",
            IDENTITY_ENVELOPE_KEY: {"token": identity, "session_ref": "", "claims": []},
        },
        str(uuid.uuid4()),
    )
    number = receipt["number"]
    assert receipt["status"] == "waiting_counter"
    filed_on = _as_if_filed_days_ago(backend.db_url, number, 7)

    browser, token = _counter_session(backend)
    accepted = browser.post(
        f"{backend.url}/console/applications/{number}/status",
        data={"csrf": token, "target": "submitted", "reason": "材料齐全，已受理"},
    )
    assert accepted.status_code == 200 and "已受理" in accepted.text
    accepted_on = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()

    mine = next(a for a in kiosk.my_applications(resident, identity).items if a.number == number)
    expected = due_date(accepted_on, catalogue.item(ITEM).time_limit_days).date
    assert (mine.status, mine.status_label, mine.result) == (
        "submitted",
        "已受理",
        "材料齐全，已受理",
    )
    # What the 我的办件 screen draws from the same answer (kiosk.domain's row builder).
    answer = kiosk.post_query(
        "/applications/mine", {"id_number": resident}, identity_token=identity
    )
    row = application_row(next(a for a in answer["items"] if a["number"] == number))
    assert (row.status_text, row.result) == ("已受理", "材料齐全，已受理")
    assert mine.due_date == expected, f"filed {filed_on}, accepted {accepted_on}"
    assert row.due_text == (
        f"{expected.year}年{expected.month}月{expected.day}日"
        f"（{accepted_on.month}月{accepted_on.day}日柜台受理起算）"
    )
    assert mine.due_date > due_date(filed_on, catalogue.item(ITEM).time_limit_days).date
