"""GUI scenarios of the items as the seed defines them (records with the current month's benefit
items and long histories, counter items' own forms, duplicate bookings), run like the scenarios
of tests/gui_flow_driver.py: each in its own child process, on the same rig of real parts (the
reference backend on 127.0.0.1, device simulators on ptys), tapping through Kivy's input path.
The child prints one ``RESULT {json}`` line.
"""

from __future__ import annotations

import sys
from pathlib import Path

import gui_flow_driver as flow
from gui_child import ROOT, give_seeded_platform, run_child
from gui_flow_driver import (
    fill_required,
    idle_calls,
    open_item,
    pick,
    scenario,
    shoot,
    until_screen,
)

RESIDENT_PENSIONER = "ESSC-DEMO-RESIDENT-02"  # resident basic pension, one payment failed
RESIDENT_ENTERPRISE_RETIREE = "ESSC-DEMO-RESIDENT-04"  # enterprise pension, two failed
RESIDENT_LONG_INSURED = "ESSC-DEMO-RESIDENT-09"  # enterprise contributions since 1994
RESIDENT_YOUNG = "ESSC-DEMO-RESIDENT-05"  # 24, no bookings
RESIDENT_EMPLOYED = "ESSC-DEMO-RESIDENT-07"  # 35, insured employee: may claim 22
CERTIFICATE_NO = "S0000-1404"
LOSS_REPORTS = ("临时挂失（7天后自动解挂）", "正式挂失")


def run_fidelity_scenario(
    name: str,
    data_dir: Path,
    *,
    orientation: str = "portrait",
    shots: Path | None = None,
    timeout: float = 400,
) -> dict:
    """Run scenario *name* of this module in a child process; its observations."""
    give_seeded_platform(data_dir / flow.RIG_DIR_NAME)
    return run_child(
        Path(__file__).resolve(),
        name,
        data_dir,
        orientation=orientation,
        env={"FLOW_SHOTS": str(shots or "")},
        timeout=timeout,
    )


def _records_seen(screen) -> dict:
    return {
        "breakdown_heading": screen.breakdown_heading,
        "breakdown_text": screen.breakdown_text,
        "breakdown_shown": screen.ids.breakdown.height > 0 and screen.ids.breakdown.opacity == 1,
        "totals": screen.totals_text,
        "failed": screen.failed_text,
        "rows": len(screen.rows),
        "titles": [r["title"] for r in screen.rows],
        "page_text": screen.page_text,
        "header": screen.header_text,
    }


def _records_by_essc(app, rig, item_no: int, qr: str, shown: str):
    """Home → item *item_no* → e-SSC *qr* → its records, once rows and the screen property
    *shown* (e.g. breakdown_heading) are there."""
    from kiosk.screens.driver import Until

    yield from open_item(app, rig, "我要办社保", item_no)
    yield until_screen(app, "identify")
    rig.scan_essc(qr)
    yield until_screen(app, "records", 60)
    screen = app.screens["records"]
    yield Until(lambda: screen.rows and getattr(screen, shown), 60, f"records with {shown}")
    yield 0.5  # let the cards take their height


@scenario
def records_item_26_components(app, rig, seen):
    """企业职工养老待遇发放记录 (26) by e-SSC: the current month's items are on the screen and
    add up to the month's amount; a year chip asks the platform for that year's totals."""
    from kiosk.screens.driver import Until, tap

    screen = app.screens["records"]
    yield from _records_by_essc(app, rig, 26, RESIDENT_ENTERPRISE_RETIREE, "breakdown_heading")
    seen["all"] = _records_seen(screen)
    yield from shoot(app, "records-26")
    year = screen.years[-1]
    yield from tap(screen.year_button(year))
    yield idle_calls(rig)
    yield Until(lambda: screen.year == year, 30, "year filter")
    seen["year"] = {"year": year, **_records_seen(screen)}


@scenario
def records_item_36_components(app, rig, seen):
    """城乡居民养老待遇发放记录 (36): the same card with the resident pension's items."""
    yield from _records_by_essc(app, rig, 36, RESIDENT_PENSIONER, "breakdown_heading")
    seen["all"] = _records_seen(app.screens["records"])
    yield from shoot(app, "records-36")


@scenario
def records_item_25_pages(app, rig, seen):
    """企业职工养老参保情况 (25) of a resident insured for 30+ years: the totals speak of the
    whole history on every page; 下一页 brings older months."""
    from kiosk.screens.driver import Until, tap

    screen = app.screens["records"]
    yield from _records_by_essc(app, rig, 25, RESIDENT_LONG_INSURED, "page_text")
    seen["first"] = _records_seen(screen)
    yield from shoot(app, "records-25")
    yield from tap(screen.next_button())
    yield idle_calls(rig)
    yield Until(lambda: screen.page == 2, 30, "page 2")
    seen["second"] = _records_seen(screen)
    yield from shoot(app, "records-25-page-2")
    seen["chips"] = [int(y) for y in screen.years]
    yield from tap(screen.ids.more_years)
    yield 0.3
    yield from shoot(app, "records-25-years")
    yield from pick(rig, ["2010年"])
    yield idle_calls(rig)
    yield Until(lambda: screen.year == 2010 and screen.rows, 30, "year 2010")
    seen["year_2010"] = {**_records_seen(screen), "chip": screen.ids.more_years.text}
    yield from shoot(app, "records-25-2010")


def _form_ready(app):
    """Wait for the form, past its eligibility panel, ready to be filled."""
    from kiosk.screens.driver import Until, tap

    yield until_screen(app, "form", 60)
    form = app.screens["form"]
    yield Until(lambda: form.mode != "loading", 60, "form")
    if form.mode == "eligibility":
        yield from tap(form.ids.continue_button)


def _book_item_40(app, rig, seen, label, choice):
    """Home → item 40's notice → 预约柜台办理 → e-SSC → its own form → confirm."""
    from kiosk.screens.driver import Until, tap

    yield until_screen(app, "home")
    app._begin_interaction()
    rig.controller.open_item(40)
    yield until_screen(app, "counter_notice")
    yield from tap(app.screens["counter_notice"].ids.book_button)
    if app.services.session.resident is None:
        yield until_screen(app, "identify")
        rig.scan_essc(RESIDENT_YOUNG)
    yield from _form_ready(app)
    form = app.screens["form"]
    rows = list(reversed(form.ids.fields.children))
    seen[f"{label}_asked"] = [(row.key, row.kind) for row in rows]
    answers = {row.key: "13712345678" for row in rows if row.kind == "phone"}
    answers["action"] = [choice]
    yield from fill_required(app, rig, answers)
    yield from shoot(app, f"form-40-{label}")
    yield from tap(form.ids.submit_button)
    yield until_screen(app, "confirm", 90)
    confirm = app.screens["confirm"]
    yield Until(lambda: confirm.status_text, 30, "confirmation")
    seen[label] = {
        "status": confirm.status_text,
        "reference": confirm.reference,
        "queue": confirm.queue_number,
        "detail": confirm.detail,
        "accepted": confirm.accepted,
    }
    yield from shoot(app, f"confirm-40-{label}")


@scenario
def counter_item_40_choice_then_duplicate(app, rig, seen):
    """社会保障卡挂失与解挂 (40): its own form asks 临时挂失 / 正式挂失 / 解除挂失; booking it
    again while the first is open brings back the first booking and its queue number."""
    from kiosk.screens.driver import tap

    yield from _book_item_40(app, rig, seen, "first", LOSS_REPORTS[0])
    yield from tap(app.screens["confirm"].ids.finish_button)  # 办完了: the session ends
    yield from _book_item_40(app, rig, seen, "again", LOSS_REPORTS[1])


def type_code(app, rig, code):
    """Type *code* on the keyboard opened for a code field: letter keys, 数字 for digits."""
    from kiosk.screens.driver import Until, tap

    entry = rig.controller.text_entry
    yield Until(lambda: entry.parent is not None and entry.literal, 10, "code keyboard open")
    yield 0.2
    for char in code:
        wants_digits = not char.isalpha()
        if entry.digits_mode != wants_digits:
            yield from tap(entry.ids.mode_button, hold=0.02)
        yield from tap(entry.key(char.lower()), hold=0.02)
    yield from shoot(app, "code-keyboard")


@scenario
def skill_subsidy_certificate_with_letters(app, rig, seen):
    """技能提升补贴申领 (22): the certificate number S0000-1404 typed by taps on the letter keys,
    submitted as typed."""
    import datetime as dt

    from kiosk.screens.driver import Until, tap

    yield from open_item(app, rig, "我要办社保", 22)
    yield until_screen(app, "identify")
    rig.scan_essc(RESIDENT_EMPLOYED)
    yield from _form_ready(app)
    form = app.screens["form"]
    issued = (dt.date.today() - dt.timedelta(days=40)).strftime("%Y%m%d")
    yield from fill_required(
        app,
        rig,
        {
            "phone": "13712345678",
            "certificate_kind": ["职业技能等级证书"],
            "certificate_level": ["四级/中级工"],
            "occupation": [""],
            "issued_on": issued,
        },
    )
    row = form.row("certificate_no")
    yield from flow.scroll_into_view(form.ids.scroll, row, "certificate_no")
    yield from tap(row)
    yield from type_code(app, rig, CERTIFICATE_NO)
    entry = rig.controller.text_entry
    seen["typed"] = entry.text
    yield from tap(entry.ids.ok_button)
    yield flow.no_layer_open(rig)
    seen["value"] = form.values().get("certificate_no")
    yield from tap(form.ids.submit_button)
    yield until_screen(app, "confirm", 90)
    confirm = app.screens["confirm"]
    yield Until(lambda: confirm.status_text, 30, "confirmation")
    seen["status"] = confirm.status_text
    seen["reference"] = confirm.reference


@scenario
def item_pages_publish_procedure_and_basis(app, rig, seen):
    """The 一次性告知 of a kiosk item (26) and of a counter item (40) end with 办事程序 and
    办事依据 (附件4 line 12), reached by scrolling like a finger would."""
    from kiosk.screens.driver import Until, tap

    yield until_screen(app, "home")
    yield from tap(app.screens["home"].tile("我要办社保"))
    yield until_screen(app, "category")
    category = app.screens["category"]
    numbers = [int(r["no"]) for r in category.rows]
    category.ids.rv.scroll_y = 1 - numbers.index(26) / (len(numbers) - 1)
    yield 0.5
    yield from tap(category.row(26))
    yield until_screen(app, "item")
    item = app.screens["item"]
    yield Until(lambda: item.procedure, 10, "item 26 procedure")
    item.ids.scroll.scroll_y = 0
    yield 0.5
    seen["item_26"] = {"procedure": item.procedure, "basis": item.basis}
    yield from shoot(app, "item-26-procedure")
    app._begin_interaction()
    rig.controller.open_item(40)
    yield until_screen(app, "counter_notice")
    notice = app.screens["counter_notice"]
    yield Until(lambda: notice.procedure, 10, "item 40 procedure")
    notice.ids.scroll.scroll_y = 0
    yield 0.5
    seen["item_40"] = {"procedure": notice.procedure, "basis": notice.basis}
    yield from shoot(app, "counter-notice-40-procedure")


def _add_demands(rig, qr: str, rows) -> None:
    """GIVEN demands the resident registered at a kiosk earlier (written to the rig's platform
    database, as item 7 would have)."""
    import datetime as dt
    import sqlite3

    from kiosk.services.embedded_backend import BACKEND_DB_FILE_NAME

    today = dt.date.today()
    with sqlite3.connect(rig.data_dir / BACKEND_DB_FILE_NAME) as db:
        (person_id,) = db.execute("select id from persons where essc_qr = ?", (qr,)).fetchone()
        for days_ago, occupation, town, workers in rows:
            registered = dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time(2, 0))
            db.execute(
                "insert into odd_job_demands (person_id, employer_name, occupation, town, "
                "village, workers_needed, pay_per_day, work_date, days, description, "
                "contact_phone, registered_at) values (?, '王家', ?, ?, '', ?, 200, ?, 3, '', "
                "'13712345678', ?)",
                (person_id, occupation, town, workers,
                 (today + dt.timedelta(days=5)).isoformat(), registered.isoformat(sep=" ")),
            )  # fmt: skip


@scenario
def item_8_matches_one_of_the_employers_demands(app, rig, seen):
    """零工求职信息推荐 (8): an employer with two open demands from earlier visits picks one
    from the list after identifying; the seekers matched to it are shown with reasons, and
    换一条 offers the other."""
    from kiosk.screens.driver import Until, tap

    _add_demands(rig, RESIDENT_PENSIONER, [(8, "搬运工", "沁河镇", 2), (1, "电工", "中峪乡", 3)])
    yield from open_item(app, rig, "我要找工作", 8)
    yield until_screen(app, "identify")
    rig.scan_essc(RESIDENT_PENSIONER)
    yield until_screen(app, "match", 60)
    picker = rig.controller.picker
    yield Until(lambda: picker.parent is not None, 60, "the demands offered")
    seen["offered"] = [child.label for child in reversed(picker.ids.options.children)]
    yield from shoot(app, "match-8-choose")
    electrician = next(label for label in seen["offered"] if label.startswith("电工"))
    yield from pick(rig, [electrician], confirm=False)
    match = app.screens["match"]
    yield Until(lambda: match.rows or match.message, 60, "matches")
    yield 0.5
    seen["chosen"] = match.chosen_text
    seen["can_switch"] = match.can_switch
    seen["reasons"] = [row["extra"] for row in match.rows[:3]]
    yield from shoot(app, "match-8")
    yield from tap(match.ids.switch_button)
    yield Until(lambda: picker.parent is not None, 30, "switch offered")
    seen["switch_offered"] = len(picker.ids.options.children)
    yield from tap(picker.ids.cancel_button)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(flow.main(sys.argv[1], sys.argv[2]))
