"""Every one of the 22 self-service items, and the 18 counter items, driven end to end through
the flows facade against the real reference server over HTTP (see test_flows_support)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from test_flows_support import (  # noqa: F401  (fixtures)
    RESIDENT_BASIC_CLAIM,
    RESIDENT_EMPLOYED,
    RESIDENT_ENTERPRISE_RETIREE,
    RESIDENT_ODD_JOB,
    RESIDENT_PENSIONER,
    RESIDENT_STUDENT,
    RESIDENT_UI_CLAIMANT,
    RESIDENT_YOUNG,
    county_today,
    flows_rig_fixture,
    fresh_session_fixture,
)

from kiosk.domain.catalogue import load_catalogue
from kiosk.domain.identity import build_id_number
from kiosk.domain.person import IdentitySource, Person
from kiosk.domain.receipt import STATUS_ACCEPTED
from kiosk.services.errors import BackendRejected
from kiosk.services.flows import FormInvalid, IdentityRequired, MissingStep

QUEUE_NUMBER = re.compile(r"^[ABC]\d{3}$")
_sequence = iter(range(101, 999, 2))


def new_resident(name: str, age: int, source=IdentitySource.IDCARD) -> Person:
    """Someone the platform has never seen (as an ID card read gives them)."""
    today = county_today()
    birth = dt.date(today.year - age, 1, 15)
    number = build_id_number("140431", birth, next(_sequence))
    return Person(source, number, name, "男", birth, address="沁源县沁河镇城关社区")


def assert_accepted_and_printed(result, rig):
    assert result.accepted and result.delivered, result.message
    assert result.status_text == STATUS_ACCEPTED
    assert result.reference.startswith("BJ")
    assert result.receipt is not None and result.receipt.reference == result.reference
    assert result.printed, result.print_message
    assert result.receipt.qr_payload == result.reference
    person = rig.session.resident
    assert result.receipt.person == person.masked and person.name not in result.receipt.person


def server_application(rig, reference):
    rows = rig.server_rows(
        "select item_no, status, details, due_date from applications where number = ?", reference
    )
    assert len(rows) == 1, f"{reference} did not land on the server"
    return rows[0]


# -- forms ----------------------------------------------------------------------------------------


def test_item_1_registers_a_fixed_job_seeker_and_item_2_recommends_with_reasons(fresh_session):
    rig = fresh_session
    printed_before = len(rig.printer_sim.jobs)
    rig.flows.start_session(new_resident("周晓明", 28))
    form = rig.flows.form(1)
    assert [f.definition.key for f in form.asked][:2] == ["phone", "occupations"]
    assert "沁河镇" in next(f for f in form.fields if f.definition.key == "towns").options
    result = rig.flows.submit(
        1,
        {
            "phone": "13812345678",
            "occupations": ["电工", "司机"],
            "towns": ["沁河镇", "郭道镇"],
            "salary": "3000-5000元",
            "education": "高中/中专/技校",
            "certificates": ["电工证"],
            "available_from": f"{county_today() + dt.timedelta(days=3):%Y%m%d}",
        },
    )
    assert_accepted_and_printed(result, rig)
    assert rig.printer_sim.wait_for_receipts(printed_before + 1)  # it came out of the printer
    assert result.due is not None and result.due.date == county_today()  # 即时办结
    rows = rig.server_rows(
        "select s.kind, s.occupations, s.towns, s.salary_min, s.salary_max, s.skills, s.phone "
        "from job_seekers s join persons p on p.id = s.person_id where p.id_number = ?",
        rig.session.resident.id_number,
    )
    assert len(rows) == 1
    kind, occupations, towns, low, high, skills, phone = rows[0]
    assert (kind, low, high, phone) == ("fixed", 3000, 5000, "13812345678")
    assert json.loads(occupations) == ["电工", "司机"] and "郭道镇" in json.loads(towns)
    assert skills == "文化程度：高中/中专/技校；持有证书：电工证"
    matches = rig.flows.match(2)
    assert matches.rows, "the seed has electricians' and drivers' postings in 沁河镇"
    for row in matches.rows:
        assert any(r.startswith("工种相符") for r in row.reasons)
        assert any(r.startswith("地点") for r in row.reasons)
    # the phone typed once is not asked again in this session
    assert all(f.definition.key != "phone" for f in rig.flows.form(10).asked)


def test_item_4_odd_job_registration_then_item_5_matches(fresh_session):
    rig = fresh_session
    rig.flows.start_session(new_resident("孙立平", 45))
    with pytest.raises(MissingStep, match="尚未办理零工求职登记") as caught:
        rig.flows.match(5)  # matching before registering points to the registration
    assert caught.value.item_no == 4
    rig.identify(RESIDENT_YOUNG)  # known to the platform, registered for nothing
    with pytest.raises(MissingStep, match="尚未办理固定工求职登记") as caught:
        rig.flows.match(2)
    assert caught.value.item_no == 1
    rig.flows.start_session(new_resident("孙立平", 45))
    result = rig.flows.submit(
        4, {"phone": "13912345678", "occupations": ["搬运工", "农工"], "salary": "150-250元/天"}
    )
    assert_accepted_and_printed(result, rig)
    matches = rig.flows.match(5)
    assert matches.total == len(matches.rows) > 0
    assert all(row.reasons and row.reasons[0].startswith("工种相符") for row in matches.rows)


def test_item_7_publishes_an_odd_job_and_item_8_recommends_the_electrician(fresh_session):
    rig = fresh_session
    rig.identify(RESIDENT_EMPLOYED)
    with pytest.raises(MissingStep, match="招聘零工登记") as caught:
        rig.flows.match(8)
    assert caught.value.item_no == 7
    villages = rig.flows.picker_options("api:/places#villages", "中峪乡")
    assert "南泉村" in villages
    result = rig.flows.submit(
        7,
        {
            "employer_name": "郭家",
            "occupation": "电工",
            "town": "中峪乡",
            "village": "南泉村",
            "workers_needed": "2",
            "pay_per_day": "260",
            "work_date": f"{county_today() + dt.timedelta(days=2):%Y%m%d}",
            "days": "3",
            "contact_phone": "13712345678",
        },
    )
    assert_accepted_and_printed(result, rig)
    demand_id = result.followup["demand_id"]
    assert isinstance(demand_id, int)
    matches = rig.flows.match(8, demand_id=demand_id)
    titles = [row.title for row in matches.rows]
    assert "韩*平" in titles  # the demo odd-job electrician of 中峪乡
    electrician = matches.rows[titles.index("韩*平")]
    assert "工种相符：电工" in electrician.reasons and "地点：中峪乡" in electrician.reasons
    assert all(
        "13" not in cell.text[:2] or "*" in cell.text for row in matches.rows for cell in row.cells
    )


def test_item_8_lists_the_employers_own_open_demands_and_matches_any_of_them(fresh_session):
    """GIVEN an employer with two open demands (made at a kiosk last week and today) WHEN they
    open item 8 after identifying THEN both are offered with their dates, newest first, and
    either can be matched; another resident cannot match them."""
    rig = fresh_session
    rig.identify(RESIDENT_BASIC_CLAIM)
    work = county_today() + dt.timedelta(days=4)
    made = []
    for occupation, town in (("搬运工", "沁河镇"), ("电工", "中峪乡")):
        result = rig.flows.submit(
            7,
            {
                "employer_name": "王家",
                "occupation": occupation,
                "town": town,
                "workers_needed": "3",
                "pay_per_day": "200",
                "work_date": f"{work:%Y%m%d}",
                "days": "2",
                "contact_phone": "13712345678",
            },
        )
        made.append(result.followup["demand_id"])
    choices = rig.flows.choices(8)
    assert [c.value for c in choices[:2]] == list(reversed(made))
    today = county_today()
    assert choices[0].label == (
        f"电工 3人 · {work.month}月{work.day}日开工\n中峪乡 · {today.month}月{today.day}日登记"
    )
    older = rig.flows.match(8, demand_id=made[0])
    assert all(row.reasons for row in older.rows)
    newer = rig.flows.match(8, demand_id=made[1])
    assert any("工种相符：电工" in row.reasons for row in newer.rows)
    rig.identify(RESIDENT_YOUNG)
    assert rig.flows.choices(8) == ()
    with pytest.raises(BackendRejected, match="没有您的这条招聘零工登记"):
        rig.flows.match(8, demand_id=made[1])


def test_item_10_flexible_employment_lands_with_its_due_date(fresh_session):
    rig = fresh_session
    rig.flows.start_session(new_resident("吴海燕", 33))
    assessment = rig.flows.eligibility(10)  # not yet in the platform's records: the kiosk's
    assert assessment.source == "kiosk" and not assessment.missing  # own rules explain
    assert [(c.key, c.met) for c in assessment.conditions] == [
        ("age_16", True),
        ("under_retirement_age", True),  # a woman of 33: under either of her possible ages
    ]
    result = rig.flows.submit(
        10,
        {
            "phone": "0355-7012345",
            "employment_type": "新就业形态（网约车、外卖、快递等）",
            "started_on": "20260301",
            "industry": "物流",
        },
    )
    assert_accepted_and_printed(result, rig)
    item_no, status, details, due = server_application(rig, result.reference)
    assert (item_no, status) == (10, "submitted")
    assert '"new_forms"' in details
    assert due == result.due.date.isoformat() and result.due.date > county_today()


def test_item_11_unemployment_registration_and_a_second_one_is_refused(fresh_session):
    rig = fresh_session
    rig.flows.start_session(new_resident("郑春生", 39))
    values = {
        "phone": "13612345678",
        "lost_job_on": f"{county_today() - dt.timedelta(days=20):%Y%m%d}",
        "separation_reason": "非本人意愿中断就业（单位辞退、合同到期不续等）",
        "last_employer": "沁源县宏达建筑工程有限公司",
        "seeking_work": "是",
    }
    first = rig.flows.submit(11, values)
    assert_accepted_and_printed(first, rig)
    assert server_application(rig, first.reference)[0] == 11
    again = rig.flows.submit(11, values)
    assert not again.accepted and again.receipt is None
    assert "无需重复登记" in again.message or "正在办理中" in again.message


def test_item_22_skill_subsidy_for_an_insured_employee(fresh_session):
    rig = fresh_session
    rig.identify(RESIDENT_EMPLOYED)
    assessment = rig.flows.eligibility(22)
    assert assessment.conditions[0].met is True
    assert assessment.conditions[-1].key == "certificate_12m"  # explained before the form
    result = rig.flows.submit(
        22,
        {
            "phone": "13512345678",
            "certificate_kind": "职业技能等级证书",
            "certificate_no": "s0000-14043100226",  # letters, as on the certificate
            "certificate_level": "四级/中级工",
            "occupation": "电工",
            "issued_on": f"{county_today() - dt.timedelta(days=60):%Y%m%d}",
        },
    )
    assert_accepted_and_printed(result, rig)
    _, _, details, _ = server_application(rig, result.reference)
    assert '"S0000-14043100226"' in details and '"4"' in details
    with pytest.raises(FormInvalid, match="只能包含字母、数字"):
        rig.flows.submit(22, {"certificate_no": "证书123"})


def test_item_23_eligibility_before_effort_then_the_claim(fresh_session):
    rig = fresh_session
    rig.identify(RESIDENT_YOUNG)
    refused = rig.flows.eligibility(23)
    assert refused.eligible is False and refused.missing
    not_eligible = rig.flows.submit(23, {"phone": "13412345678", "seeking_work": "是"})
    assert not not_eligible.accepted and "不符合办理条件" in not_eligible.message
    rig.identify(RESIDENT_UI_CLAIMANT)  # a different resident: a fresh session
    assessment = rig.flows.eligibility(23)
    assert assessment.eligible is True
    assert [c.key for c in assessment.conditions][:3] == ["insured_1y", "involuntary", "registered"]
    result = rig.flows.submit(23, {"phone": "13412345678", "seeking_work": "是"})
    assert_accepted_and_printed(result, rig)
    assert server_application(rig, result.reference)[:2] == (23, "submitted")
    mine = rig.flows.my_applications()
    row = next(r for r in mine.rows if r.reference == result.reference)
    assert (row.item_no, row.status_text) == (23, "已受理") and row.due_text


def test_a_form_with_bad_input_is_not_submitted(fresh_session):
    rig = fresh_session
    rig.flows.start_session(new_resident("冯建华", 30))
    before = rig.outbox.summary()
    with pytest.raises(FormInvalid) as caught:
        rig.flows.submit(7, {"employer_name": "", "town": "北京", "workers_needed": "0",
                             "work_date": "20200101", "contact_phone": "123"})  # fmt: skip
    errors = caught.value.errors
    assert set(errors) >= {"employer_name", "occupation", "town", "workers_needed", "work_date",
                           "pay_per_day", "contact_phone"}  # fmt: skip
    assert errors["town"] == "请从列表中选择“用工乡镇”"
    assert rig.outbox.summary() == before


def test_items_that_need_identity_ask_for_it(fresh_session):
    for no in (1, 2, 13, 23, 25):
        with pytest.raises(IdentityRequired):
            if no == 2:
                fresh_session.flows.match(no)
            elif no == 13:
                fresh_session.flows.certificate()
            elif no == 25:
                fresh_session.flows.records(no)
            else:
                fresh_session.flows.form(no)


# -- search lists ---------------------------------------------------------------------------------


def test_item_3_fixed_jobs_search_pages_and_details_without_identity(fresh_session):
    flows = fresh_session.flows
    first = flows.search(3, query="工")  # 电工, 焊工, 采煤工 …: more than one page
    second = flows.search(3, query="工", page=2)
    assert first.total > 10 and first.has_next and len(first.rows) == 10
    assert not {r.ref for r in first.rows} & {r.ref for r in second.rows}
    in_town = flows.search(3, filters={"town": "郭道镇", "salary": "5000-8000元"})
    assert in_town.rows and all(
        next(c.text for c in r.cells if c.label == "地点") == "郭道镇" for r in in_town.rows
    )
    detail = flows.detail(3, first.rows[0].ref)
    assert dict((c.label, c.text) for c in detail)["岗位"] == first.rows[0].title
    with pytest.raises(FormInvalid):
        flows.search(3, filters={"town": "不存在镇"})


def test_item_6_odd_jobs_and_item_9_odd_job_seekers_are_masked(fresh_session):
    flows = fresh_session.flows
    odd = flows.search(6, filters={"occupation": "电工"})
    assert odd.rows and all("元/天" in next(c.text for c in r.cells if c.label == "工钱")
                            for r in odd.rows)  # fmt: skip
    with pytest.raises(IdentityRequired):  # 9 shows other residents: 身份证或社保卡 first
        flows.search(9, filters={"occupation": "电工"})
    fresh_session.identify(RESIDENT_EMPLOYED)
    seekers = flows.search(9, filters={"occupation": "电工"})
    assert seekers.total >= 1
    for row in seekers.rows:
        cells = {c.label: c.text for c in row.cells}
        assert "*" in cells["求职者"] and "*" in cells["电话"]
        assert re.fullmatch(r"1\d{2}\*{4}\d{4}", cells["电话"])


def test_item_12_policies_search_and_full_text(fresh_session):
    flows = fresh_session.flows
    page = flows.search(12, query="失业")
    assert page.rows and any("失业" in r.title for r in page.rows)
    guides = flows.search(12, filters={"category": "指南"})
    assert guides.rows and guides.total == len(guides.rows)
    text = dict((c.label, c.text) for c in flows.detail(12, page.rows[0].ref))
    assert len(text["全文"]) > 10


def test_item_14_job_fairs_and_item_15_archive_agencies_with_the_residents_own(fresh_session):
    rig = fresh_session
    fairs = rig.flows.search(14)
    assert fairs.rows and all(r.cells[1].text != "—" for r in fairs.rows)
    agencies = rig.flows.search(15)
    assert agencies.rows and agencies.personal == ()
    rig.identify(RESIDENT_EMPLOYED)
    mine = rig.flows.search(15)
    assert mine.personal and mine.personal[0].label == "您的档案存放在"
    rig.identify(RESIDENT_YOUNG)
    assert "未查询到" in rig.flows.search(15).personal[0].text


# -- records and certificate -----------------------------------------------------------------------


def test_item_25_enterprise_pension_contributions_by_year(fresh_session):
    rig = fresh_session
    rig.identify(RESIDENT_EMPLOYED)
    view = rig.flows.records(25)
    assert view.rows and len(view.years) >= 2
    assert dict((c.label, c.text) for c in view.header)["参保状态"] == "正常参保缴费"
    year = view.years[0]
    filtered = rig.flows.records(25, year=year)
    assert filtered.rows and all(r.title.startswith(str(year)) for r in filtered.rows)
    assert filtered.totals[0].text == f"{len(filtered.rows)}个月"
    assert filtered.totals[1].text != view.totals[1].text


@pytest.mark.parametrize("qr, item_no", [(RESIDENT_ENTERPRISE_RETIREE, 26),
                                         (RESIDENT_PENSIONER, 36)])  # fmt: skip
def test_payment_records_show_failed_payments_with_their_reason(fresh_session, qr, item_no):
    rig = fresh_session
    rig.identify(qr)
    view = rig.flows.records(item_no)
    failed = [r for r in view.rows if r.failed]
    assert failed and view.failed_count == len(failed)
    assert all(r.failure_reason for r in failed)
    assert view.totals[1].text == f"{len(failed)}笔"
    assert "发放失败" in view.message


def test_item_27_unemployment_payments_and_item_33_resident_contributions(fresh_session):
    rig = fresh_session
    rig.identify(RESIDENT_UI_CLAIMANT)
    person_id = rig.server_rows(
        "select id from persons where id_number = ?", rig.session.resident.id_number
    )[0][0]
    for period, status, reason in (
        ("2025-12", "paid", ""),
        ("2026-01", "failed", "银行账户被冻结"),
    ):
        rig.server_execute(  # GIVEN the claimant has drawn benefit (the seed has none)
            "insert into payments (person_id, scheme, period, amount, components, status, "
            "failure_reason, bank, account_tail, paid_on) values (?, 'unemployment_benefit', ?, "
            "1580.00, '[]', ?, ?, '', '', null)",
            person_id,
            period,
            status,
            reason,
        )
    payments = rig.flows.records(27)
    assert [r.failure_reason for r in payments.rows] == ["银行账户被冻结", ""]
    assert [t.text for t in payments.totals] == ["1,580.00元", "1笔"]
    assert [r.title for r in rig.flows.records(27, year=2025).rows] == ["2025-12"]
    rig.identify(RESIDENT_BASIC_CLAIM)
    contributions = rig.flows.records(33)
    header = dict((c.label, c.text) for c in contributions.header)
    assert header["基本养老保险"] == "是" and int(header["累计缴费年限"]) >= 15
    years = contributions.years
    assert len(years) >= 15 and rig.flows.records(33, year=years[-1]).rows


def test_item_13_returns_the_certificate_or_says_there_is_none(fresh_session):
    rig = fresh_session
    rig.identify(RESIDENT_EMPLOYED)
    cert = rig.flows.certificate()
    cells = dict((c.label, c.text) for c in cert.cells)
    assert cells["证书编号"] != "—" and cells["证书状态"] == "有效"
    assert dict((c.label, c.text) for c in cert.header)["持证人"] == "郭*强"
    rig.identify(RESIDENT_STUDENT)
    with pytest.raises(BackendRejected, match="未查询到您申领的《就业创业证》"):
        rig.flows.certificate()


# -- counter items, agent, help, 我的办件 ------------------------------------------------------------

RESIDENTS = (RESIDENT_YOUNG, RESIDENT_BASIC_CLAIM, RESIDENT_PENSIONER, RESIDENT_EMPLOYED,
             RESIDENT_ENTERPRISE_RETIREE, RESIDENT_UI_CLAIMANT)  # fmt: skip


def test_all_18_counter_items_forward_a_work_order_with_a_queue_number(fresh_session):
    rig = fresh_session
    counter = load_catalogue().counter_items()
    assert len(counter) == 18
    rig.server_execute(  # GIVEN someone the seed lacks: 65+, receiving basic, supplementary not yet
        "update persons set resident_supplementary_enrolled = 1, "
        "receiving_resident_supplementary = 0 where essc_qr = ?",
        RESIDENT_PENSIONER,
    )
    queue_numbers = []
    for item in counter:
        notice = rig.flows.counter_notice(item.no)
        assert notice.materials.startswith("本人") and notice.counter_hours
        for qr in RESIDENTS:  # eligibility before effort picks someone the item is for
            rig.identify(qr)
            if rig.flows.eligibility(item.no).eligible:
                break
        else:
            pytest.fail(f"no demo resident is eligible for item {item.no}")
        values = {"phone": "13812345678"}
        own = [f for f in rig.flows.work_order_form(item.no).fields if f.definition.key != "phone"]
        for field in own:  # the item's own choices (暂停/恢复, 挂失/解挂 …): the first offered
            if field.definition.required:
                many = field.definition.kind == "multi_picker"
                values[field.definition.key] = [field.options[0]] if many else field.options[0]
        result = rig.flows.work_order(item.no, values)
        assert result.accepted and result.delivered, (item.no, result.message)
        lines = {line.label: line.value for line in result.receipt.lines}
        for field in own:
            if field.definition.required:
                assert lines[field.definition.label] == field.options[0], item.no
        assert QUEUE_NUMBER.match(result.queue_number), result.queue_number
        assert result.receipt.queue_number == result.queue_number and result.printed
        assert result.receipt.footer and any(x.label == "柜台时间" for x in result.receipt.lines)
        status, queue = rig.server_rows(
            "select status, queue_no from applications where number = ?", result.reference
        )[0]
        assert (status, queue) == ("waiting_counter", result.queue_number)
        queue_numbers.append(result.queue_number)
    assert len(set(queue_numbers)) == 18
    with pytest.raises(ValueError):
        rig.flows.work_order(23, {"phone": "13812345678"})


def test_an_agent_is_on_the_receipt_and_on_the_work_order(fresh_session):
    rig = fresh_session
    helper = new_resident("李春梅", 40)
    rig.flows.begin_session(helper, as_agent=True)
    rig.identify(RESIDENT_BASIC_CLAIM)
    assert rig.flows.form(10).agent == helper.masked
    # 38: the resident has no open booking of it (34 was booked above: one at a time)
    result = rig.flows.work_order(38, {"phone": "13812345678"})
    assert result.accepted, result.message
    assert result.receipt.agent == helper.masked
    stored = rig.server_rows(
        "select agent_id_number, agent_name from applications where number = ?", result.reference
    )
    assert stored == [(helper.id_number, "李春梅")]  # recorded beside the resident


def test_help_request_reaches_the_operator_without_personal_data(fresh_session):
    rig = fresh_session
    rig.identify(RESIDENT_YOUNG)
    answer = rig.flows.help_request("item_form", 23)
    assert answer.sent and answer.message
    rows = rig.server_rows("select screen, item_no from help_requests order by id desc limit 1")
    assert rows == [("item_form", 23)]
    with pytest.raises(ValueError):
        rig.flows.help_request("张三的表单")
