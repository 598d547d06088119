"""The declarative item definitions: complete, consistent with the catalogue, hard to break;
and the pure views built from backend answers (rows, paging, records totals and year filter)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.catalogue import load_catalogue
from kiosk.domain.items import ItemDataError, load_definitions
from kiosk.domain.items.loader import default_items_path, load_pickers
from kiosk.domain.items.model import Column
from kiosk.domain.items.views import format_value, list_page, records_view, year_of

PATTERNS = {
    "form": {1, 4, 7, 10, 11, 22, 23},
    "search_list": {3, 6, 9, 12, 14, 15},
    "match": {2, 5, 8},
    "records": {25, 26, 27, 33, 36},
    "certificate": {13},
}


@pytest.fixture(scope="module")
def definitions():
    return load_definitions()


def test_all_22_self_service_items_are_defined_with_the_issues_patterns(definitions):
    catalogue = load_catalogue()
    assert set(definitions.items) == {item.no for item in catalogue.kiosk_items()}
    assert len(definitions.items) == 22
    for pattern, numbers in PATTERNS.items():
        assert {d.no for d in definitions.by_pattern(pattern)} == numbers


def test_anonymous_items_are_exactly_the_catalogues_and_send_no_identity(definitions):
    anonymous = {d.no for d in definitions.items.values() if not d.needs_identity}
    assert anonymous == {3, 6, 12, 14, 15}  # 9 shows other residents: identified
    for no in anonymous:
        assert definitions.item(no).identity_body == ()


def test_records_have_totals_and_a_year_filter_and_payments_show_failure_reasons(definitions):
    for definition in definitions.by_pattern("records"):
        assert definition.year_filter and definition.period_key and definition.totals
    for no in (26, 27, 36):
        definition = definitions.item(no)
        assert (definition.status_key, definition.failed_value) == ("status", "failed")
        assert definition.failure_key == "failure_reason"


def test_forms_use_keypads_and_pickers_and_free_text_only_where_unavoidable(definitions):
    text_fields = {
        (d.no, f.key) for d in definitions.by_pattern("form") for f in d.fields if f.kind == "text"
    }
    # names of an employer, a former employer, and optional remarks: nothing else is typed
    assert text_fields == {(7, "employer_name"), (7, "description"), (11, "last_employer")}
    for d in definitions.by_pattern("form"):
        phone = [f for f in d.fields if f.kind == "phone"]
        assert phone and phone[0].prefill == "phone", d.no


def test_every_local_picker_source_exists_and_places_come_from_the_server_api(definitions):
    pickers = load_pickers()
    sources = {f.source for d in definitions.items.values() for f in d.fields if f.source}
    assert {"api:/places#towns", "api:/places#villages"} <= sources
    for source in sources - {"api:/places#towns", "api:/places#villages"}:
        assert pickers[source].options
    salary = pickers["monthly_salary_ranges"].option("3000-5000元")
    assert dict(salary.body) == {"salary_min": 3000, "salary_max": 5000}


@pytest.mark.parametrize(
    "mutation, message",
    [
        (("no = 23\npattern = \"form\"", "no = 23\npattern = \"wizard\""), "item 23: pattern"),
        (('key = "seeking_work"\nlabel = "本人是否有求职要求"\nkind = "yes_no"',
          'key = "seeking_work"\nlabel = "本人是否有求职要求"\nkind = "slider"'), "item 23: seeking_work"),
        (('call = "GET /archive-agencies"', 'call = "FETCH /archive-agencies"'), "item 15: call"),
        (('no = 3\npattern = "search_list"', 'no = 16\npattern = "search_list"'), "item 16"),
        (('source = "education_levels"', 'source = "no_such_list"'), "item 1: education"),
        (('no = 13\npattern = "certificate"\nsummary = "查询本人《就业创业证》的证号、发证机构和就业状态"\n'
          'call = "POST /persons/employment-certificate"\nidentity = { id_number = "id_number" }',
          'no = 13\npattern = "certificate"\nsummary = "x"\ncall = "POST /persons/employment-certificate"'),
         "item 13"),
        # identity in a GET would put the ID number in the URL (access logs)
        (('call = "POST /persons/employment-certificate"\nidentity = { id_number = "id_number" }',
          'call = "GET /persons/employment-certificate"\nidentity = { id_number = "id_number" }'),
         "item 13: identity"),
        (('call = "POST /work-orders"\nidentity = { id_number = "id_number", name = "name" }',
          'call = "GET /work-orders"\nidentity = { id_number = "id_number", name = "name" }'),
         "work_order.identity"),
    ],
)  # fmt: skip
def test_a_broken_definition_file_names_the_item_and_key(tmp_path, mutation, message):
    old, new = mutation
    text = default_items_path().read_text(encoding="utf-8")
    assert old in text
    broken = tmp_path / "items.toml"
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ItemDataError) as caught:
        load_definitions(broken)
    assert message in str(caught.value)
    assert str(broken) in str(caught.value)


def test_a_missing_item_or_unreadable_file_is_refused(tmp_path):
    text = default_items_path().read_text(encoding="utf-8")
    start = text.index("[[item]]\nno = 9\n")
    end = text.index("[[item]]", start + 10)
    truncated = tmp_path / "items.toml"
    truncated.write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(ItemDataError, match=r"without a definition: \[9\]"):
        load_definitions(truncated)
    with pytest.raises(ItemDataError, match="cannot read"):
        load_definitions(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[item]\n", encoding="utf-8")
    with pytest.raises(ItemDataError, match="invalid TOML"):
        load_definitions(bad)
    gbk = tmp_path / "gbk.toml"  # saved by a Windows editor: a typed error, not UnicodeDecodeError
    gbk.write_bytes('[[item]]\nno = 1\nsummary = "求职登记"\n'.encode("gbk"))
    with pytest.raises(ItemDataError, match="not UTF-8"):
        load_definitions(gbk)


# -- views ---------------------------------------------------------------------------------------

PAYMENTS = {
    "receiving": True,
    "message": "有1笔发放失败",
    "years": [2026, 2025, 2012],
    "page": 1, "page_size": 3, "total": 170,
    "totals": {"paid_amount": "250000.50", "paid_count": 168, "failed_count": 2,
               "pending_count": 0},
    "failed_count": 2,
    "current_month": {"period": "2026-10", "amount": "1500.00", "status": "paid",
                      "status_label": "已发放",
                      "components": [{"name": "基础养老金", "amount": "1000.00"},
                                     {"name": "个人账户养老金", "amount": "500.00"}]},
    "payments": [
        {"period": "2026-10", "amount": "1500.00", "status": "paid", "status_label": "已发放",
         "failure_reason": "", "paid_on": "2026-10-15"},
        {"period": "2026-09", "amount": "1500.00", "status": "failed", "status_label": "发放失败",
         "failure_reason": "银行账户被冻结", "paid_on": None},
        {"period": "2025-12", "amount": "1450.50", "status": "paid", "status_label": "已发放",
         "failure_reason": "", "paid_on": "2025-12-15"},
    ],
}  # fmt: skip


def test_records_view_shows_the_platforms_totals_never_a_sum_of_the_page(definitions):
    """GIVEN one page of 3 rows out of 170 WHEN it is shaped for the screen THEN the totals,
    years and failure count are the platform's over the whole history, not the page's."""
    definition = definitions.item(26)
    view = records_view(definition, PAYMENTS)
    assert view.years == (2026, 2025, 2012)
    assert [t.text for t in view.totals] == ["250,000.50元", "2笔"]
    assert view.failed_count == 2
    assert (view.page, view.pages, view.total, view.has_next) == (1, 57, 170, True)
    failed = [r for r in view.rows if r.failed]
    assert failed[0].failure_reason == "银行账户被冻结"
    assert view.message == "有1笔发放失败"
    assert view.breakdown is not None
    assert view.breakdown.label == "当前月待遇项目组成明细"
    assert view.breakdown.title == "2026年10月待遇 1,500.00元（已发放）"
    assert [(c.label, c.text) for c in view.breakdown.cells] == [
        ("基础养老金", "1,000.00元"),
        ("个人账户养老金", "500.00元"),
    ]


def test_records_view_without_platform_totals_says_so_instead_of_summing(definitions):
    answer = {key: value for key, value in PAYMENTS.items() if key not in ("totals", "years")}
    view = records_view(definitions.item(26), answer)
    assert [t.text for t in view.totals] == ["—", "—"]
    assert view.years == (2026, 2025)  # an older platform: the years of the rows at hand
    assert records_view(definitions.item(27), answer).breakdown is None  # 27 shows no items


def test_a_zero_total_marked_hide_zero_is_left_out(definitions):
    answer = {"contributions": [], "totals": {"periods": 12, "amount": "4800.00", "uncredited": 0}}
    view = records_view(definitions.item(25), answer, 2015)
    assert [(t.label, t.text) for t in view.totals] == [
        ("缴费月数", "12个月"),
        ("已到账缴费合计", "4,800.00元"),
    ]
    answer["totals"]["uncredited"] = 1
    assert records_view(definitions.item(25), answer).totals[-1].text == "1笔"


@given(
    st.lists(
        st.tuples(
            st.integers(2000, 2030),
            st.integers(1, 12),
            st.decimals(min_value=0, max_value=99999, places=2, allow_nan=False),
            st.sampled_from(["paid", "failed", "pending"]),
        ),
        max_size=30,
    ),
    st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False),
    st.integers(0, 10_000),
)
def test_totals_shown_are_the_platforms_whatever_the_rows(rows, paid, failed):
    definition = load_definitions().item(27)
    answer = {
        "payments": [
            {"period": f"{y}-{m:02d}", "amount": str(a), "status": s} for y, m, a, s in rows
        ],
        "totals": {"paid_amount": str(paid), "failed_count": failed},
    }
    view = records_view(definition, answer)
    assert [t.text for t in view.totals] == [f"{paid.quantize(Decimal('0.01')):,}元", f"{failed}笔"]
    assert len(view.rows) == len(rows)


def test_list_pages_from_server_and_client_paging(definitions):
    server_answer = {"page": 2, "page_size": 10, "total": 25, "items": [{"id": 7, "title": "电工"}]}
    page = list_page(definitions.item(3), server_answer, 2, 10)
    assert (page.total, page.pages, page.has_next, page.has_previous) == (25, 3, True, True)
    assert page.rows[0].title == "电工" and page.rows[0].ref == 7
    fairs = {"items": [{"id": i, "title": f"招聘会{i}"} for i in range(1, 24)]}
    last = list_page(definitions.item(14), fairs, 3, 10)
    assert [r.title for r in last.rows] == ["招聘会21", "招聘会22", "招聘会23"]
    assert not last.has_next and last.pages == 3


def test_match_rows_carry_their_reasons(definitions):
    answer = {"matches": [{"posting": {"id": 3, "title": "维修电工", "town": "沁河镇"},
                           "score": 5, "reasons": ["工种相符：电工", "地点：沁河镇"]}]}  # fmt: skip
    page = list_page(definitions.item(2), answer, 1, 10)
    assert page.rows[0].reasons == ("工种相符：电工", "地点：沁河镇")
    assert page.rows[0].title == "维修电工" and page.rows[0].ref == 3


def test_value_formats_never_crash_on_odd_answers():
    assert format_value(None, Column("k", "k")) == "—"
    assert format_value("x", Column("k", "k", "money")) == "—"
    assert format_value("1234.5", Column("k", "k", "money")) == "1,234.50"
    assert format_value("2026-01-05", Column("k", "k", "date")) == "2026年1月5日"
    assert format_value("2026-01-05T02:00:00+00:00", Column("k", "k", "datetime")) == (
        "2026年1月5日 10:00"
    )
    assert format_value(["电工", "焊工"], Column("k", "k", "list")) == "电工、焊工"
    assert format_value("male", Column("k", "k", labels=(("male", "男"),))) == "男"
    assert year_of("2025-03") == 2025 and year_of(None) is None and year_of("x") is None


def test_packaged_data_files_sit_in_a_package(definitions):
    data = Path(load_definitions.__code__.co_filename).parent / "data"
    assert (data / "__init__.py").exists()
