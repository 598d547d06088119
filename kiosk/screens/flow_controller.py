"""Runs the resident flows on screen: which generic screen an item needs, identity first when
required, every blocking call off the UI thread, and the wipe when the session ends.

The :class:`FlowController` is the app's ``item_flows`` (``start(item)``). It receives the
flows facade (:class:`~kiosk.services.flows.FlowsService`, built by the composition root) and,
in :meth:`attach`, builds its screens once and adds them to the app, with the overlays they
share (keypad, picker, text box, detail, spinner). Device events reach it through the event
bus on the UI thread; it identifies only while the 确认身份 screen is shown (a QR code scanned
elsewhere, e.g. an operator's sign-in, is not a resident's). A receipt's own QR code scanned on
any resident screen opens that application in 我的办件, after identification.

Threads: everything here runs on the UI thread; the flows facade's blocking calls run in
:class:`~kiosk.screens.spinner.BackgroundCalls`. Personal data: the controller keeps none but
the follow-up ids of this session (a demand id), dropped when the session ends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kivy.lang import Builder

from kiosk.devices.idcard import events as idcard_events
from kiosk.devices.scanner.events import QrScanned
from kiosk.devices.sscard import events as sscard_events
from kiosk.domain.catalogue import ServiceItem
from kiosk.domain.progress_link import ScannedReceipt
from kiosk.screens import (
    certificate,
    confirm,
    counter_notice,
    flow_base,
    form,
    identify,
    keypad,
    match,
    my_applications,
    picker,
    records,
    search_list,
    spinner,
    text_entry,
)
from kiosk.screens.flow_base import FlowScreen, message_of
from kiosk.services.flows import (
    HELP_OFFLINE_MESSAGE,
    FormInvalid,
    IdentityRequired,
    MissingStep,
    SubmissionResult,
)
from kiosk.services.session import EndReason

if TYPE_CHECKING:
    from kiosk.app import KioskApp
    from kiosk.services.flows import FlowsService

log = logging.getLogger(__name__)

KV_FILES: tuple[Path, ...] = (
    flow_base.KV_FILE,
    spinner.KV_FILE,
    keypad.KV_FILE,
    text_entry.KV_FILE,
    picker.KV_FILE,
    identify.KV_FILE,
    form.KV_FILE,
    search_list.KV_FILE,
    match.KV_FILE,
    records.KV_FILE,
    certificate.KV_FILE,
    counter_notice.KV_FILE,
    confirm.KV_FILE,
    my_applications.KV_FILE,
)
SCREENS: tuple[tuple[str, type], ...] = (
    ("identify", identify.IdentifyScreen),
    ("form", form.FormScreen),
    ("search_list", search_list.SearchListScreen),
    ("match", match.MatchScreen),
    ("records", records.RecordsScreen),
    ("certificate", certificate.CertificateScreen),
    ("counter_notice", counter_notice.CounterNoticeScreen),
    ("confirm", confirm.ConfirmScreen),
    ("my_applications", my_applications.MyApplicationsScreen),
)
# Where a receipt's QR code may be scanned to open it (not maintenance mode's screens).
RESIDENT_SCREENS = frozenset({"home", "category", "item", *(name for name, _cls in SCREENS)})
PATTERN_SCREENS = {
    "form": "form",
    "search_list": "search_list",
    "match": "match",
    "records": "records",
    "certificate": "certificate",
}
NEXT_STEP_TEXT = {2: "查看推荐岗位", 5: "查看推荐零工岗位", 8: "查看推荐的求职者"}
QUERY_TIMEOUT_SECONDS = 30.0
# A submission waits for the outbox (submit_timeout) and then prints; allow for both.
SUBMIT_TIMEOUT_SECONDS = 60.0
READING_CARD = "正在读取社保卡，请不要拔卡……"
CHECKING_IDENTITY = "正在核验身份，请稍候……"
SSCARD_OFFLINE = "社保卡读卡器暂不可用，请放置身份证或扫电子社保卡码"
IDCARD_OFFLINE = "身份证读卡器暂不可用，请插入社保卡或扫电子社保卡码"
SCANNED_RECEIPT = "已识别办理凭证。请刷社保卡、身份证或扫电子社保卡码确认身份，随后为您打开该办件"


class FlowController:
    """See the module docstring. Build with the flows facade, then :meth:`attach` the app."""

    def __init__(
        self,
        flows: FlowsService,
        *,
        spinner_delay_ms: int,
        query_timeout: float = QUERY_TIMEOUT_SECONDS,
        submit_timeout: float = SUBMIT_TIMEOUT_SECONDS,
    ) -> None:
        self.flows = flows
        self._spinner_delay = spinner_delay_ms / 1000.0
        self._query_timeout = query_timeout
        self._submit_timeout = submit_timeout
        self.app: KioskApp | None = None
        self.screens: dict[str, FlowScreen] = {}
        self.calls: spinner.BackgroundCalls | None = None
        self._pending: Callable[[], None] | None = None
        self._followup: dict[str, Any] = {}
        self._inserted_card: Any = None
        self._overlay = None
        self._unsubscribe: list[Callable[[], None]] = []

    # -- wiring ---------------------------------------------------------------------------
    def attach(self, app: KioskApp) -> None:
        """Build the flow screens and overlays once and add them to *app* (UI thread)."""
        self.app = app
        for kv_file in KV_FILES:
            Builder.load_file(str(kv_file))
        for name, screen_class in SCREENS:
            screen = screen_class(services=app.services, name=name)
            screen.controller = self
            self.screens[name] = screen
            app.screens[name] = screen
            app.manager.add_widget(screen)
        self.keypad = keypad.KeypadOverlay()
        self.text_entry = text_entry.TextEntryOverlay()
        self.picker = picker.PickerOverlay()
        self.detail = search_list.DetailOverlay()
        self.spinner = spinner.SpinnerOverlay()
        self.calls = spinner.BackgroundCalls(
            spinner_delay=self._spinner_delay,
            show_spinner=self._show_spinner,
            hide_spinner=self._hide_spinner,
        )
        bus = app.services.bus
        for event_type in (sscard_events.SsCardRead, idcard_events.IdCardRead, QrScanned):
            self._unsubscribe.append(bus.subscribe(event_type, self._on_identity_event))
        for event_type in (sscard_events.CardReadFailed, idcard_events.IdCardReadFailed):
            self._unsubscribe.append(bus.subscribe(event_type, self._on_read_failed))
        self._unsubscribe += [
            bus.subscribe(sscard_events.CardInserted, self._on_card_inserted),
            bus.subscribe(sscard_events.CardRemoved, self._on_card_removed),
            bus.subscribe(sscard_events.ReaderFault, lambda _e: self._reader("sscard", False)),
            bus.subscribe(sscard_events.ReaderRecovered, lambda _e: self._reader("sscard", True)),
            bus.subscribe(idcard_events.ReaderFault, lambda _e: self._reader("idcard", False)),
            bus.subscribe(idcard_events.ReaderRecovered, lambda _e: self._reader("idcard", True)),
        ]
        self._unsubscribe.append(app.services.session.on_end(self._on_session_end))

    def detach(self) -> None:
        """Stop listening and stop the worker pool (app shutdown)."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        if self.calls is not None:
            self.calls.shutdown()

    # -- entry points (ItemFlows) -----------------------------------------------------------
    def start(self, item: ServiceItem) -> None:
        """开始办理 (or 预约柜台办理) on the item screen, which already told the notice."""
        if not item.kiosk_runs:
            self.book_counter(item.no)
            return
        self.open_item(item.no)

    def open_item(self, item_no: int) -> None:
        """Open item *item_no*'s flow, asking for identity first when it needs it."""
        item = self.app.services.catalogue.item(item_no)
        if not item.kiosk_runs:
            self.go("counter_notice", item.no)
            return
        definition = self.flows.definition(item.no)
        screen = PATTERN_SCREENS[definition.pattern]
        argument: Any = ("item", item.no) if screen == "form" else item.no
        if definition.needs_identity:
            self.with_identity(item.name, lambda: self.go(screen, argument))
        else:
            self.go(screen, argument)

    def book_counter(self, item_no: int) -> None:
        """预约柜台办理 of a counter-only item: identity, then the work-order form."""
        name = self.app.services.catalogue.item(item_no).name
        self.with_identity(name, lambda: self.go("form", ("work_order", item_no)))

    def show_my_applications(self) -> None:
        self.with_identity("我的办件", lambda: self.go("my_applications", None))

    def finish_transaction(self) -> None:
        """办理完成: the transaction is done; the session ends and every screen is wiped."""
        if not self.flows.end_session(EndReason.TRANSACTION_DONE):
            self.app.go_home()

    def request_help(self, screen: str, item_no: int | None = None) -> None:
        """请工作人员帮忙: notify the operator on duty (no personal data) in the background."""

        def answered(result) -> None:
            log.info("help request", extra={"event": "help", "state": result.sent})
            self.app.show_help_status(result.message)
            self.app.voice_cue("help_sent" if result.sent else "help_offline")

        def failed(_error: BaseException | None = None) -> None:
            log.info("help request failed", extra={"event": "help"})
            self.app.show_help_status(HELP_OFFLINE_MESSAGE)
            self.app.voice_cue("help_offline")

        self.calls.run(
            lambda: self.flows.help_request(screen, item_no),
            answered,
            failed,
            on_timeout=failed,
            timeout=self._query_timeout,
            text="正在通知工作人员",
        )

    # -- navigation -------------------------------------------------------------------------
    def go(self, name: str, argument: Any) -> None:
        """Show screen *name* for *argument*, recorded in the app's history for 返回."""
        history = self.app._history
        if history and history[-1][0] == "identify":
            history.pop()  # identity is done: 返回 must not lead back to it
        if name == "confirm":
            while history and history[-1][0] in ("form", "identify"):
                history.pop()  # a submitted form is not shown again by 返回
        self.screens[name].show(argument)
        self.app._navigate(name, argument)

    def with_identity(self, item_name: str, then: Callable[[], None]) -> None:
        """Run *then* now if a resident is identified, else after the 确认身份 screen."""
        if self.app.services.session.resident is not None:
            then()
            return
        self._pending = then
        self.go("identify", item_name)
        if self._inserted_card is not None:  # the card was already in the slot
            self._identify(self._inserted_card)

    # -- identity ---------------------------------------------------------------------------
    def _identify_shown(self) -> bool:
        return self.app is not None and self.app.manager.current == "identify"

    def _on_identity_event(self, event: Any) -> None:
        if isinstance(event, sscard_events.SsCardRead):
            self._inserted_card = event
        if isinstance(event, QrScanned):
            receipt = self.flows.recognise_receipt(event.code)
            if receipt is not None:  # a receipt, not an e-SSC: never sent to be verified
                self._open_scanned_receipt(receipt)
                return
        if self._identify_shown():
            self._identify(event)

    def _open_scanned_receipt(self, receipt: ScannedReceipt) -> None:
        """Identity (unless known), then 我的办件 with the receipt's application first."""
        current = self.app.manager.current if self.app is not None else ""
        if current not in RESIDENT_SCREENS or self.calls.busy:
            return  # maintenance mode, or a call (a submission) is running: not now
        log.info("receipt code scanned", extra={"event": "receipt_scanned", "state": receipt.kind})
        self.with_identity("我的办件", lambda: self.go("my_applications", receipt.reference))
        if self._identify_shown():  # say why identity is asked, and what comes next
            self.screens["identify"].set_status(SCANNED_RECEIPT)

    def _on_read_failed(self, event: Any) -> None:
        if self._identify_shown():
            self.screens["identify"].set_status(event.message_zh, error=True)
            unreadable = isinstance(event, sscard_events.CardReadFailed)
            self.app.voice_cue("card_unreadable" if unreadable else "idcard_unreadable")

    def _on_card_inserted(self, _event: Any) -> None:
        if self._identify_shown():
            self.screens["identify"].set_status(READING_CARD)
            self.app.voice_cue("card_inserted")

    def _on_card_removed(self, _event: Any) -> None:
        self._inserted_card = None
        self.flows.card_removed()  # ends the session when it was the resident's card

    def _reader(self, which: str, ok: bool) -> None:
        screen = self.screens["identify"]
        setattr(screen, f"{which}_ok", ok)
        if not ok and self._identify_shown():
            screen.set_status(SSCARD_OFFLINE if which == "sscard" else IDCARD_OFFLINE, error=True)
            self.app.voice_cue("reader_offline")

    def _identify(self, event: Any) -> None:
        screen = self.screens["identify"]
        as_agent = screen.agent_mode and not screen.agent_text
        screen.set_status(CHECKING_IDENTITY)
        self.run(
            screen,
            lambda: self.flows.identify(event),
            lambda person: self._identified(person, as_agent),
            on_error=lambda error: self._identify_failed(message_of(error)),
            text="正在核验身份",
        )

    def _identify_failed(self, message: str) -> None:
        self.screens["identify"].set_status(message, error=True)
        self.app.voice_cue("identify_failed")

    def _identified(self, person, as_agent: bool) -> None:
        screen = self.screens["identify"]
        try:
            self.flows.begin_session(person, as_agent=as_agent)
        except ValueError as exc:  # the agent is the resident themself
            self._identify_failed(str(exc))
            return
        if self.app.services.session.current is None:
            return
        if as_agent:
            screen.agent_text = person.masked
            screen.set_status(screen.ready_text())
            return
        screen.resident_text = person.masked
        screen.set_status("身份已确认：" + person.masked)
        pending, self._pending = self._pending, None
        if pending is not None and self._identify_shown():
            pending()

    def toggle_agent_mode(self) -> None:
        screen = self.screens["identify"]
        screen.agent_mode = not screen.agent_mode
        if not screen.agent_mode and screen.agent_text:
            self.app.services.session.set_agent(None)
            screen.agent_text = ""
        screen.set_status(screen.ready_text())

    # -- background calls ---------------------------------------------------------------------
    def run(
        self,
        screen: FlowScreen,
        call: Callable[[], Any],
        on_done: Callable[[Any], None],
        *,
        on_error: Callable[[BaseException], None] | None = None,
        text: str = "正在查询，请稍候",
        timeout: float | None = None,
    ) -> None:
        """Run *call* off the UI thread; errors and timeouts show on *screen* by default."""

        def failed(error: BaseException) -> None:
            if isinstance(error, IdentityRequired):
                self._identify_then_retry()
                return
            if not isinstance(error, FormInvalid | MissingStep):
                log.info(
                    "flow call failed",
                    extra={"event": "flow_error", "state": type(error).__name__},
                )
            (on_error or screen.show_error)(error)

        self.calls.run(
            call,
            on_done,
            failed,
            on_timeout=screen.show_timeout,
            timeout=timeout or self._query_timeout,
            text=text,
        )

    def _identify_then_retry(self) -> None:
        """A call needed identity after all: ask for it, then show the same screen again."""
        name, argument = self.app._history[-1]

        def retry() -> None:
            history = self.app._history
            if history and history[-1][0] == "identify":
                history.pop()
            if history and history[-1][0] == name:
                history.pop()
            self.go(name, argument)

        self.with_identity("", retry)

    def load_form(self, screen, kind: str, item_no: int) -> None:
        flows = self.flows

        def fetch():
            if kind == "work_order":
                spec = flows.work_order_form(item_no)
                notice = flows.counter_notice(item_no)
                assessment = flows.eligibility(item_no) if notice.eligibility_applies else None
            else:
                spec = flows.form(item_no)
                definition = flows.definition(item_no)
                assessment = flows.eligibility(item_no) if definition.eligibility else None
            return spec, assessment

        self.run(screen, fetch, lambda answer: screen.fill(*answer), text="正在准备表单")

    def submit_form(self, screen, kind: str, item_no: int, values: dict) -> None:
        flows = self.flows

        def send() -> SubmissionResult:
            if kind == "work_order":
                return flows.work_order(item_no, values)
            return flows.submit(item_no, values)

        def failed(error: BaseException) -> None:
            if isinstance(error, FormInvalid):
                screen.show_invalid(error)
                self.app.voice_cue("form_invalid")
            else:
                screen.show_error(error)

        self.run(
            screen,
            send,
            self._submitted,
            on_error=failed,
            text="正在提交，请稍候",
            timeout=self._submit_timeout,
        )

    def _submitted(self, result: SubmissionResult) -> None:
        self._followup.update({k: v for k, v in result.followup.items() if v is not None})
        self.go("confirm", result)

    def next_step(self, result: SubmissionResult) -> tuple[int, str] | None:
        """The item to offer after *result* (1 → 2, 4 → 5, 7 → 8), or None."""
        if not result.accepted or not result.delivered:
            return None
        try:
            follow = self.flows.definition(result.item_no).next_item
        except KeyError:
            return None
        if not follow:
            return None
        return follow, NEXT_STEP_TEXT.get(follow, "继续办理")

    def load_list(self, screen, item_no: int, query: str, filters: dict, page: int) -> None:
        self.run(
            screen,
            lambda: self.flows.search(item_no, query=query, filters=filters, page=page),
            screen.fill,
        )

    def load_match(self, screen, item_no: int) -> None:
        demand_id = self._followup.get("demand_id")

        def failed(error: BaseException) -> None:
            if isinstance(error, MissingStep):
                screen.missing_step(error.message, error.item_no)
            else:
                screen.show_error(error)

        self.run(
            screen,
            lambda: self.flows.match(item_no, demand_id=demand_id),
            screen.fill,
            on_error=failed,
            text="正在为您匹配",
        )

    def load_records(self, screen, item_no: int, year: int | None) -> None:
        self.run(screen, lambda: self.flows.records(item_no, year=year), screen.fill)

    def load_certificate(self, screen, item_no: int) -> None:
        self.run(screen, lambda: self.flows.certificate(item_no), screen.fill)

    def load_my_applications(self, screen, focus: str | None = None) -> None:
        self.run(screen, lambda: self.flows.my_applications(focus), screen.fill)

    def show_detail(self, screen, item_no: int, row) -> None:
        if row.ref is None or self.flows.definition(item_no).detail_call is None:
            body = "\n".join(f"{c.label}：{c.text}" for c in row.cells)
            self._open_detail(row.title, body)
            return
        self.run(
            screen,
            lambda: self.flows.detail(item_no, row.ref),
            lambda cells: self._open_detail(
                row.title, "\n".join(f"{c.label}：{c.text}" for c in cells)
            ),
        )

    def _open_detail(self, title: str, body: str) -> None:
        self.detail.open(title=title, body=body, on_close=self._remove_overlay)
        self._add_overlay(self.detail)

    # -- asking values --------------------------------------------------------------------
    def ask_number(self, *, title, kind, value, check, on_done) -> None:
        self.app.voice_hint("keypad")
        self.keypad.open(
            title=title,
            kind=kind,
            value=value,
            check=check,
            on_done=on_done,
            on_close=self._remove_overlay,
        )
        self._add_overlay(self.keypad)

    def ask_text(self, *, title, value, max_length, check, on_done) -> None:
        self.app.voice_hint("pinyin")
        self.text_entry.open(
            title=title,
            value=value,
            max_length=max_length,
            check=check,
            on_done=on_done,
            on_close=self._remove_overlay,
        )
        self._add_overlay(self.text_entry)

    def ask_choice(self, *, field, parent, chosen, on_done) -> None:
        """Offer *field*'s options; a dependent list (villages) is fetched for *parent*."""
        definition = field.definition

        def offer(options) -> None:
            self.app.voice_hint("picker")
            self.picker.open(
                title=definition.label,
                options=tuple(options),
                chosen=chosen,
                max_choices=definition.max_choices if definition.kind == "multi_picker" else 1,
                hint=definition.hint,
                on_done=on_done,
                on_close=self._remove_overlay,
            )
            self._add_overlay(self.picker)

        if definition.depends_on:
            if not parent:
                screen = self.screens["form"]
                screen.message = "请先选择上一项，再选这一项"
                return
            self.run(
                self.screens[self.app.manager.current],
                lambda: self.flows.picker_options(definition.source, parent),
                offer,
            )
        else:
            offer(field.options)

    def ask_filters(self, screen, item_no: int, current: dict) -> None:
        """Ask the list's filters one after the other (each may be left 不限)."""
        definition = self.flows.definition(item_no)
        fields = list(definition.fields)
        chosen = dict(current)

        def ask(index: int) -> None:
            if index >= len(fields):
                screen.set_filters(chosen)
                return
            item_field = fields[index]

            def offer(options) -> None:
                def done(choices: list[str]) -> None:
                    chosen[item_field.key] = choices[0] if choices else ""
                    ask(index + 1)

                self.picker.open(
                    title=f"筛选：{item_field.label}（不选表示不限）",
                    options=tuple(options),
                    chosen=[chosen.get(item_field.key) or ""],
                    max_choices=1,
                    on_done=done,
                    on_close=self._remove_overlay,
                )
                self._add_overlay(self.picker)

            self.run(screen, lambda: self.flows.picker_options(item_field.source), offer)

        ask(0)

    # -- overlays ---------------------------------------------------------------------------
    @property
    def open_layer(self) -> str:
        """The class name of the layer above the screens ("" if none): what a tap would reach."""
        if self.spinner.parent is not None:
            return type(self.spinner).__name__
        return type(self._overlay).__name__ if self._overlay is not None else ""

    def _add_overlay(self, overlay) -> None:
        if self._overlay is not None and self._overlay is not overlay:
            self._remove_overlay()
        if overlay.parent is None:
            self.app.root_layout.add_widget(overlay)
        self._overlay = overlay

    def _remove_overlay(self) -> None:
        overlay, self._overlay = self._overlay, None
        if overlay is not None and overlay.parent is not None:
            overlay.parent.remove_widget(overlay)
            if self.app.services.session.current is not None:  # not the goodbye of a session
                self.app.voice_stop()  # a hint for the closed keypad or list is stale now

    def _show_spinner(self, text: str) -> None:
        self.spinner.text = text
        if self.spinner.parent is None:
            self.app.root_layout.add_widget(self.spinner)
        self.spinner.start_turning()

    def _hide_spinner(self) -> None:
        self.spinner.stop_turning()
        if self.spinner.parent is not None:
            self.spinner.parent.remove_widget(self.spinner)

    # -- the end of a session -----------------------------------------------------------------
    def _on_session_end(self, _session, _reason) -> None:
        """Drop pending answers and follow-ups, close overlays, forget the inserted card."""
        if self.calls is not None:
            self.calls.cancel_all()
        self._pending = None
        self._followup.clear()
        self._inserted_card = None
        for overlay in (self.keypad, self.text_entry, self.picker, self.detail):
            if overlay.parent is not None:
                overlay.close()
        self._remove_overlay()
        for screen in self.screens.values():
            screen.clear()


def build_flow_controller(config, *, catalogue, session, runtime, clock=None) -> FlowController:
    """The composition root's one call: the flows facade over the kiosk runtime's handles
    (late-bound signed client, outbox, offline cache, printing), wrapped in a controller.

    *runtime* is :class:`kiosk.services.runtime.KioskRuntime`. Call :meth:`FlowController.
    attach` from the app's ``build()`` once its screens exist.
    """
    from kiosk.domain.items import load_definitions
    from kiosk.domain.progress_link import ProgressLinks
    from kiosk.services.cache import OfflineCache
    from kiosk.services.flows import FlowsService

    backend = runtime.backend
    flows = FlowsService(
        client=runtime.late_client(),
        outbox=runtime.outbox,
        # The outbox delivers through these answers, so the platform's reference and queue
        # numbers reach the confirmation screen.
        answers=backend.answers,
        session=session,
        definitions=load_definitions(catalogue=catalogue),
        catalogue=catalogue,
        service_point=config.kiosk.service_point,
        counter_hours=config.kiosk.counter_hours,
        printing=runtime.printing,
        cache=OfflineCache(backend.store),
        clock=clock,
        progress_links=ProgressLinks(config.receipt.progress_url),
    )
    return FlowController(flows, spinner_delay_ms=config.session.spinner_delay_ms)
