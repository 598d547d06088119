"""GUI scenarios of what a resident sees and takes home (issue: one clock, receipt QR, 办结时限,
landscape forms, the receipt on the confirmation screen).

Runs like tests/gui_flow_driver.py (same rig, helpers and child runner): each scenario in its
own process under the display, with the reference platform on 127.0.0.1 and the simulators.
The parent sets ``TZ`` for the child to a foreign zone; the child reports what the screens,
the receipt picture and the platform's progress page said, and the parent compares them with
China time.
"""

from __future__ import annotations

import sys
from pathlib import Path

import gui_flow_driver as flow
from gui_child import ROOT, run_child
from gui_flow_driver import (
    RESIDENT_EMPLOYED,
    fill_required,
    give_seeded_platform,
    open_item,
    scenario,
    shoot,
    until_screen,
)

TEMPLATE = "{backend}/progress/{number}?c={check}"
RESIDENT_PENSION_AGE = "ESSC-DEMO-RESIDENT-01"  # 62, resident pension: books item 34


def run_truth_scenario(
    name: str,
    data_dir: Path,
    *,
    orientation: str,
    zone: str,
    shots: Path | None = None,
    timeout: float = 400,
) -> dict:
    """Run scenario *name* with the child's OS zone set to *zone*; its observations."""
    give_seeded_platform(data_dir / flow.RIG_DIR_NAME)
    return run_child(
        Path(__file__).resolve(),
        name,
        data_dir,
        orientation=orientation,
        # Identity by e-SSC only: the card reader off, so another run's virtual card on the
        # machine's one vpcd reader cannot end this scenario's session.
        env={"FLOW_SHOTS": str(shots or ""), "TZ": zone, "KIOSK__DEVICES__SSCARD__ENABLED": "0"},
        timeout=timeout,
    )


# --------------------------------------------------------------------------- helpers (child)
def link_receipts(rig) -> None:
    """The rig's flows print progress URLs to the rig's own platform (as demo mode does)."""
    from kiosk.domain.progress_link import ProgressLinks

    rig.flows.progress_links = ProgressLinks(TEMPLATE)


def rows_in_view(form) -> tuple[int, int]:
    """(field rows wholly inside the form's scroll viewport, all field rows)."""
    scroll = form.ids.scroll
    left, bottom = scroll.to_window(scroll.x, scroll.y)
    right, top = left + scroll.width, bottom + scroll.height
    rows = list(form.ids.fields.children)
    inside = 0
    for row in rows:
        x0, y0 = row.to_window(row.x, row.y)
        across = x0 >= left - 1 and x0 + row.width <= right + 1
        if across and y0 >= bottom - 1 and y0 + row.height <= top + 1:
            inside += 1
    return inside, len(rows)


def screen_png(app, path: Path) -> Path:
    """The whole window as the resident sees it, written to *path*."""
    from kiosk.screens.driver import export_png

    export_png(app.root_layout, path)
    return path


def qr_codes_in(path: Path) -> list[str]:
    from PIL import Image
    from pyzbar.pyzbar import decode

    with Image.open(path) as picture:
        return [symbol.data.decode("utf-8") for symbol in decode(picture.convert("L"))]


def confirm_seen(app) -> dict:
    confirm = app.screens["confirm"]
    receipt = confirm.ids.receipt
    return {
        "status": confirm.status_text,
        "reference": confirm.reference,
        "due": confirm.due,
        "queue": confirm.queue_number,
        "printed": confirm.printed,
        "has_preview": confirm.has_preview,
        "preview_caption": confirm.preview_caption,
        "preview_px": [round(receipt.width), round(receipt.height)],
        "room_px": round(confirm.ids.receipt_scroll.width - 40 * app.scale),
        "texture_px": list(confirm.receipt_texture.size) if confirm.receipt_texture else [],
    }


def wait_for_receipt_on_screen(app, seen):
    """The confirmation screen with its receipt drawn; what it shows goes to *seen*."""
    from kiosk.screens.driver import Until

    yield until_screen(app, "confirm", 90)
    confirm = app.screens["confirm"]
    yield Until(lambda: confirm.has_preview, 30, "receipt on screen")
    yield 0.6
    seen["confirm"] = confirm_seen(app)


def fetch_page(url: str) -> dict:
    import requests

    answer = requests.get(url, timeout=20)
    return {"status": answer.status_code, "text": answer.text}


# ------------------------------------------------------------------------------ scenarios
@scenario
def receipt_truth(app, rig, seen):
    """固定工求职登记 (1, 即时办结) by e-SSC: the landscape form shows ≥ 6 rows; the confirmation
    screen shows 即时办结（已办结） and the printed receipt, whose QR a phone reads off the glass
    and which opens the platform's progress page; after 办理完成, scanning the receipt at the
    kiosk asks for identity and opens it first in 我的办件, in China time."""
    from kiosk.screens.driver import Until, tap

    link_receipts(rig)
    seen["clock_text"] = app.clock_text
    yield from open_item(app, rig, "我要找工作", 1)
    yield until_screen(app, "identify")
    rig.scan_essc(RESIDENT_EMPLOYED)
    yield until_screen(app, "form", 60)
    form = app.screens["form"]
    yield Until(lambda: form.mode != "loading", 60, "form loaded")
    if form.mode == "eligibility":
        yield from tap(form.ids.continue_button)
    yield 0.6
    seen["rows_in_view"], seen["rows_total"] = rows_in_view(form)
    yield from fill_required(app, rig, {"phone": "13912345678", "occupations": ["电工"]})
    yield from shoot(app, "truth-form-filled")
    yield from tap(form.ids.submit_button)
    yield from wait_for_receipt_on_screen(app, seen)
    confirm = app.screens["confirm"]
    shot = screen_png(app, rig.data_dir / "confirm-screen.png")
    seen["codes_on_glass"] = qr_codes_in(shot)
    yield from shoot(app, "truth-confirm")
    if seen["codes_on_glass"]:
        seen["page"] = fetch_page(seen["codes_on_glass"][0])
    seen["receipts_printed"] = rig.printer.simulator.wait_for_receipts(1, timeout=30)
    paper = rig.printer.simulator.receipts[-1] if rig.printer.simulator.receipts else None
    seen["codes_on_paper"] = qr_codes_in(paper) if paper else []
    # 办理完成: the session ends. Later the slip's QR is scanned at the kiosk.
    yield from tap(confirm.ids.finish_button)
    yield until_screen(app, "home")
    yield 0.5
    seen["session_after_finish"] = app.services.session.current is not None
    rig.scanner.simulator.scan(seen["codes_on_glass"][0] if seen["codes_on_glass"] else "")
    yield until_screen(app, "identify", 30)
    seen["identify_status"] = app.screens["identify"].status
    yield from shoot(app, "truth-identify-scanned")
    yield 0.5
    rig.scan_essc(RESIDENT_EMPLOYED)
    yield until_screen(app, "my_applications", 60)
    mine = app.screens["my_applications"]
    yield Until(lambda: mine.rows or mine.note, 60, "applications listed")
    seen["scanned_note"] = mine.note
    seen["mine_first"] = {k: mine.rows[0][k] for k in ("title", "lines")} if mine.rows else {}
    yield from shoot(app, "truth-my-applications-scanned")
    seen["clock_text_end"] = app.clock_text


@scenario
def counter_truth(app, rig, seen):
    """预约柜台办理 of 34 (2 working days) by e-SSC: the confirmation screen and the receipt say
    受理后2个工作日内办结; the county desk accepts it; 我的办件 then shows the due date counted
    from the acceptance day."""
    from test_flows_support import county_desk_client

    from kiosk.screens.driver import Until, tap
    from kiosk.services.embedded_backend import BACKEND_DB_FILE_NAME

    link_receipts(rig)
    yield until_screen(app, "home")
    app._begin_interaction()
    rig.controller.open_item(34)
    yield until_screen(app, "counter_notice")
    yield from tap(app.screens["counter_notice"].ids.book_button)
    yield until_screen(app, "identify")
    rig.scan_essc(RESIDENT_PENSION_AGE)
    yield until_screen(app, "form", 60)
    form = app.screens["form"]
    yield Until(lambda: form.mode != "loading", 60, "work order form")
    if form.mode == "eligibility":
        yield from tap(form.ids.continue_button)
    yield from fill_required(app, rig, flow.work_order_answers(form))
    yield from tap(form.ids.submit_button)
    yield from wait_for_receipt_on_screen(app, seen)
    confirm = app.screens["confirm"]
    shot = screen_png(app, rig.data_dir / "confirm-counter.png")
    seen["codes_on_glass"] = qr_codes_in(shot)
    yield from shoot(app, "truth-confirm-counter")
    # The county desk accepts the pre-application (its own signed client, as the console does).
    desk = county_desk_client(rig.data_dir / BACKEND_DB_FILE_NAME, rig.backend_handle.url)
    moved = desk.post(
        f"/api/v1/desk/applications/{confirm.reference}/status", {"status": "submitted"}
    )
    seen["accepted"] = {"http": moved.status_code, **moved.json()}
    yield from tap(confirm.ids.mine_button)
    yield until_screen(app, "my_applications", 60)
    mine = app.screens["my_applications"]
    yield Until(lambda: mine.rows or mine.note, 60, "applications listed")
    seen["mine_lines"] = [row["lines"] for row in mine.rows]
    yield from shoot(app, "truth-my-applications-accepted")
    if seen["codes_on_glass"]:
        seen["page"] = fetch_page(seen["codes_on_glass"][0])


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(flow.main(sys.argv[1], sys.argv[2]))
