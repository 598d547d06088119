"""Records a resident can trust (items 25, 26, 27, 33, 36), over real HTTP on SQLite and
PostgreSQL: totals aggregated over the whole history (never one page), rows paged, the current
month's benefit items adding up to the amount paid, 缴费类型 and 档次. Every expected sum is
computed here by hand from the seed's documented tables or from rows the test inserts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from server_support import DB_PARAMS, backend_on
from sqlalchemy import insert

from kiosk.domain.identity import build_id_number
from kiosk_backend.db import make_engine
from kiosk_backend.models import Contribution, Payment, Person
from kiosk_backend.routes.records import components_of

API = "/api/v1"
STATUS = f"{API}/persons/enterprise-pension/status"
ENTERPRISE_PAYMENTS = f"{API}/persons/enterprise-pension/payments"
RESIDENT_CONTRIBUTIONS = f"{API}/persons/resident-pension/contributions"
RESIDENT_PAYMENTS = f"{API}/persons/resident-pension/payments"
UI_PAYMENTS = f"{API}/persons/unemployment-insurance/payments"
# The person this module inserts: 180 months 2011-01 … 2025-12 at ¥400.00, plus one month
# not yet credited (2026-01, ¥999.00) that no total may count.
HISTORY_ID = build_id_number("140431", dt.date(1970, 3, 8), 771)
HISTORY_MONTHS = [f"{y}-{m:02d}" for y in range(2011, 2026) for m in range(1, 13)]


def _insert_history(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            pid = connection.execute(
                insert(Person).returning(Person.id),
                {
                    "id_number": HISTORY_ID,
                    "name": "测试长缴",
                    "gender": "male",
                    "birth_date": dt.date(1970, 3, 8),
                    "enterprise_pension_status": "active",
                    "receiving_ui_benefit": True,
                },
            ).scalar_one()
            rows = [
                {
                    "person_id": pid,
                    "scheme": "enterprise_pension",
                    "period": period,
                    "base": Decimal("5000.00"),
                    "amount": Decimal("400.00"),
                    "credited": True,
                }
                for period in HISTORY_MONTHS
            ]
            rows.append({**rows[0], "period": "2026-01", "amount": Decimal("999.00"),
                         "credited": False})  # fmt: skip
            connection.execute(insert(Contribution), rows)
            # 26 months of unemployment benefit at ¥1,580.00: 2024-01 … 2026-02, 2 failed
            payments = [
                {
                    "person_id": pid,
                    "scheme": "unemployment_benefit",
                    "period": f"{2024 + (i // 12)}-{i % 12 + 1:02d}",
                    "amount": Decimal("1580.00"),
                    "components": [{"name": "失业保险金", "share": 1.0}],
                    "status": "failed" if i in (3, 20) else "paid",
                    "failure_reason": "银行账户被冻结" if i in (3, 20) else "",
                }
                for i in range(26)
            ]
            connection.execute(insert(Payment), payments)
    finally:
        engine.dispose()


@pytest.fixture(scope="module", params=DB_PARAMS)
def client(request, tmp_path_factory):
    with backend_on(request.param, tmp_path_factory, seed_postings=50, seed_persons=20) as running:
        _insert_history(running.db_url)
        yield running.client


def _resident(client, n: int) -> str:
    code = client.essc_code(f"ESSC-DEMO-RESIDENT-{n:02d}")
    response = client.post(f"{API}/essc/verify", {"qr": code})
    assert response.status_code == 200, response.text
    return response.json()["id_number"]


def _post(client, path: str, body: dict) -> dict:
    response = client.post(path, body)
    assert response.status_code == 200, response.text
    return response.json()


def _money(value) -> Decimal:
    return Decimal(str(value))


# --- item 25: the whole history, not the newest page ------------------------------------------


def test_180_months_total_72000_not_the_newest_120(client):
    """The issue's example: 180 months on file must show 180 months and ¥72,000.00."""
    answer = _post(client, STATUS, {"id_number": HISTORY_ID})
    assert answer["months_on_record"] == 180
    assert _money(answer["total_paid"]) == Decimal("72000.00")
    assert answer["totals"] == {
        "periods": 180,
        "amount": answer["totals"]["amount"],
        "subsidy": answer["totals"]["subsidy"],
        "uncredited": 1,
    }
    assert _money(answer["totals"]["amount"]) == Decimal("72000.00")
    assert answer["total"] == 181 and answer["page"] == 1 and answer["page_size"] == 24
    assert len(answer["contributions"]) == 24
    assert answer["contributions"][0]["period"] == "2026-01"
    assert answer["contributions"][0]["credited_label"] == "未到账"
    assert answer["years"] == list(range(2026, 2010, -1))


def test_paging_walks_every_row_once_newest_first(client):
    seen = []
    for page in range(1, 10):
        answer = _post(client, STATUS, {"id_number": HISTORY_ID, "page": page, "page_size": 24})
        seen += [row["period"] for row in answer["contributions"]]
        assert answer["months_on_record"] == 180  # every page tells the whole history
    assert seen == ["2026-01", *reversed(HISTORY_MONTHS)]
    past_the_end = _post(client, STATUS, {"id_number": HISTORY_ID, "page": 9})
    assert past_the_end["contributions"] == [] and past_the_end["total"] == 181


def test_a_year_has_its_own_totals_and_the_header_keeps_the_history(client):
    answer = _post(client, STATUS, {"id_number": HISTORY_ID, "year": 2015})
    assert [row["period"] for row in answer["contributions"]] == [
        f"2015-{m:02d}" for m in range(12, 0, -1)
    ]
    assert answer["totals"]["periods"] == 12 and answer["total"] == 12
    assert _money(answer["totals"]["amount"]) == Decimal("4800.00")
    assert answer["months_on_record"] == 180
    assert _money(answer["total_paid"]) == Decimal("72000.00")
    empty = _post(client, STATUS, {"id_number": HISTORY_ID, "year": 2001})
    assert empty["contributions"] == [] and empty["totals"]["periods"] == 0
    assert _money(empty["totals"]["amount"]) == Decimal("0.00")


def test_demo_resident_09_has_thirty_years_summed_by_hand(client):
    """1994–2024: base 600 + 150 × (year − 1994) at 8 %, 12 months a year; since 2025: 5,400."""
    by_year = {
        year: 12 * (600 + 150 * (year - 1994)) * Decimal("0.08") for year in range(1994, 2025)
    }
    assert sum(by_year.values()) == Decimal("84816.00")
    today = dt.date.today()  # the seed's clock
    recent_months = (today.year - 2025) * 12 + today.month - 1
    answer = _post(client, STATUS, {"id_number": _resident(client, 9)})
    assert answer["months_on_record"] == 372 + recent_months
    assert _money(answer["total_paid"]) == Decimal("84816.00") + recent_months * Decimal("432.00")
    assert answer["insured_status_label"] == "正常参保缴费"
    year_2010 = _post(client, STATUS, {"id_number": _resident(client, 9), "year": 2010})
    assert year_2010["totals"]["periods"] == 12
    assert _money(year_2010["totals"]["amount"]) == by_year[2010] == Decimal("2880.00")
    assert {_money(r["base"]) for r in year_2010["contributions"]} == {Decimal("3000.00")}


# --- item 33: 缴费类型 and 档次 --------------------------------------------------------------


def test_demo_resident_10_mixed_contribution_types_and_grades(client):
    id_number = _resident(client, 10)
    answer = _post(client, RESIDENT_CONTRIBUTIONS, {"id_number": id_number, "page_size": 100})
    # 2012–2024 basic: 200+200+300+300+300(补缴)+200+200(代缴)+500+500+1000×4 = 6,700
    # supplementary 2022–2024: 3 × 100 = 300; subsidies: 30+30+40+40+0+30+30+60+60+80×4 = 640
    assert _money(answer["totals"]["amount"]) == Decimal("7000.00")
    assert _money(answer["totals"]["subsidy"]) == Decimal("640.00")
    assert answer["totals"]["uncredited"] == 1  # this year's, not yet credited
    assert answer["contribution_years"] == 13
    assert answer["enrolled_supplementary"] is True
    rows = {(r["period"], r["scheme"]): r for r in answer["contributions"]}
    back = rows[("2016", "resident_pension")]
    assert (back["contribution_type_label"], back["grade"], _money(back["subsidy"])) == (
        "补缴",
        "300元档",
        Decimal("0"),
    )
    assert back["paid_on"] == "2019-05-10"
    assert rows[("2017", "resident_pension")]["contribution_type_label"] == "政府代缴"
    assert rows[("2021", "resident_pension")]["contribution_type_label"] == "正常缴费"
    assert rows[("2023", "resident_supplementary")]["grade"] == "100元档"
    year = _post(client, RESIDENT_CONTRIBUTIONS, {"id_number": id_number, "year": 2022})
    assert sorted(r["scheme"] for r in year["contributions"]) == [
        "resident_pension",
        "resident_supplementary",
    ]
    assert _money(year["totals"]["amount"]) == Decimal("1100.00")
    assert _money(year["totals"]["subsidy"]) == Decimal("80.00")


# --- items 26, 27, 36: payments, failures, current month's items --------------------------------


def test_payment_totals_count_every_page(client):
    answer = _post(client, UI_PAYMENTS, {"id_number": HISTORY_ID, "page_size": 10})
    assert answer["total"] == 26 and len(answer["payments"]) == 10
    assert answer["totals"]["paid_count"] == 24 and answer["totals"]["failed_count"] == 2
    assert _money(answer["totals"]["paid_amount"]) == 24 * Decimal("1580.00")
    assert answer["failed_count"] == 2 and "有2笔发放失败" in answer["message"]
    assert answer["years"] == [2026, 2025, 2024]
    year_2025 = _post(client, UI_PAYMENTS, {"id_number": HISTORY_ID, "year": 2025})
    assert year_2025["total"] == 12 and year_2025["totals"]["failed_count"] == 1
    assert _money(year_2025["totals"]["paid_amount"]) == 11 * Decimal("1580.00")


@pytest.mark.parametrize(
    "resident, path, names",
    [
        (4, ENTERPRISE_PAYMENTS, ["基础养老金", "个人账户养老金", "过渡性养老金", "调节金"]),
        (2, RESIDENT_PAYMENTS, ["基础养老金", "个人账户养老金"]),
    ],
)
def test_current_month_components_add_up_to_the_amount(client, resident, path, names):
    answer = _post(client, path, {"id_number": _resident(client, resident)})
    current = answer["current_month"]
    today = dt.date.today()
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    assert current["period"] == last_month == answer["payments"][0]["period"]
    assert [c["name"] for c in current["components"]] == names
    assert sum(_money(c["amount"]) for c in current["components"]) == _money(current["amount"])
    for payment in answer["payments"]:
        parts = sum(_money(c["amount"]) for c in payment["components"])
        assert parts == _money(payment["amount"])


def test_enterprise_pensioner_totals_by_hand(client):
    answer = _post(client, ENTERPRISE_PAYMENTS, {"id_number": _resident(client, 4)})
    assert answer["totals"]["paid_count"] == 10 and answer["failed_count"] == 2
    assert _money(answer["totals"]["paid_amount"]) == 10 * Decimal("3126.40")
    first = answer["current_month"]["components"][0]
    assert (first["name"], _money(first["amount"])) == ("基础养老金", Decimal("1406.88"))


def test_legacy_share_components_never_disagree_with_the_total():
    """Rows stored as shares: 0.45/0.25/0.22/0.08 of ¥2,333.33 round to 1,050.00 + 583.33 +
    513.33 = 2,146.66 before the last item, which takes the remaining ¥186.67."""
    shares = [
        {"name": "基础养老金", "share": 0.45},
        {"name": "个人账户养老金", "share": 0.25},
        {"name": "过渡性养老金", "share": 0.22},
        {"name": "调节金", "share": 0.08},
    ]
    parts = components_of(Decimal("2333.33"), shares)
    assert [p.amount for p in parts] == [
        Decimal("1050.00"),
        Decimal("583.33"),
        Decimal("513.33"),
        Decimal("186.67"),
    ]


@pytest.mark.parametrize(
    "extra, field",
    [({"page": 0}, "page"), ({"page_size": 121}, "page_size"), ({"year": 1800}, "year")],
)
def test_bad_paging_is_422_naming_the_field(client, extra, field):
    response = client.post(STATUS, {"id_number": HISTORY_ID, **extra})
    assert response.status_code == 422
    assert response.json()["field"] == field
