"""The one facade the resident-flow screens call: identify, list, match, records, submit, print.

Everything is driven by the item definitions (:mod:`kiosk.domain.items`), so five generic
screens run all 22 self-service items and one notice + form runs the 18 counter-only items.

The facade keeps identity and the session, pickers and forms, eligibility, the counter
notice, 我的办件 and help requests; it hands the rest to two collaborators it builds:
:class:`~kiosk.services.flow_queries.FlowQueries` (search, detail, match, records,
certificate) and :class:`~kiosk.services.submissions.Submissions` (submit, work order,
receipt, printing, the outbox's pending rows).

Threads: every method except :meth:`FlowsService.begin_session`, :meth:`card_removed` and
:meth:`end_session` may block on the network, the outbox or the printer — call it from the
GUI's worker pool, never the Kivy thread. Those three change the session and belong to the UI
thread (like :class:`~kiosk.services.session.SessionManager`). Every backend call is bounded by
the client's timeouts; a submission waits at most ``submit_timeout`` seconds for delivery.

Personal data: the facade keeps none. It reads the resident from the session at each call and
returns plain values; the screens drop them when the session ends (listeners). Logs carry item
numbers and outcomes only.

Errors the screens handle (``message`` is Chinese, safe to show and log)::

    FlowError                      base of this facade's own errors (kiosk.services.flow_errors)
    ├── IdentityRequired           the item needs identity and none is in the session
    ├── MissingStep                the item needs a value from an earlier step (item 8: demand)
    └── FormInvalid                ``errors``: {field key: message}; nothing was submitted
    IdentityError                  (kiosk.domain.person) unusable card / e-SSC answer
    BackendError tree              (kiosk.services.errors) offline, rejected, server error

Submissions go through the outbox: committed locally before anything says 已受理. The answer
the platform gave is caught by :class:`SubmissionAnswers`
(:mod:`kiosk.services.submission_answers`), which the composition root wraps around the
outbox's deliver callable::

    answers = SubmissionAnswers(client.post_submission)
    outbox = Outbox(store, cipher, answers.deliver, ...)
    flows = FlowsService(client=client, outbox=outbox, answers=answers, session=..., ...)

The errors, :class:`SubmissionAnswers` and the result types are importable from here too.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from kiosk.devices.idcard.events import IdCardRead, IdCardReadFailed
from kiosk.devices.scanner.events import QrScanned
from kiosk.devices.sscard.events import CardReadFailed, SsCardRead
from kiosk.domain import eligibility as rules
from kiosk.domain.catalogue import Catalogue, ServiceItem
from kiosk.domain.clock import ServiceClock
from kiosk.domain.items import Definitions, FieldDef, ItemDefinition
from kiosk.domain.items.requests import request_body
from kiosk.domain.items.results import (
    CounterNotice,
    FormField,
    FormSpec,
    HelpResult,
    MyApplications,
    SubmissionResult,
)
from kiosk.domain.items.views import (
    Cell,
    CertificateView,
    ListPage,
    RecordsView,
    application_row,
    materials_text,
)
from kiosk.domain.person import (
    IdentityError,
    Person,
    person_from_essc,
    person_from_idcard,
    person_from_sscard,
)
from kiosk.domain.progress_link import ProgressLinks, ScannedReceipt
from kiosk.domain.validation import validate_all
from kiosk.domain.workdays import WorkingCalendar, default_calendar
from kiosk.services.errors import BackendError, BackendRejected, BackendUnavailable
from kiosk.services.flow_errors import FlowError, FormInvalid, IdentityRequired, MissingStep
from kiosk.services.flow_queries import FlowQueries
from kiosk.services.outbox import Outbox
from kiosk.services.session import EndReason, SessionManager
from kiosk.services.submission_answers import SubmissionAnswers
from kiosk.services.submissions import Submissions

if TYPE_CHECKING:
    from kiosk.services.backend_client import BackendClient
    from kiosk.services.cache import OfflineCache
    from kiosk.services.printing import PrintingService

log = logging.getLogger(__name__)

PLACES_PATH = "/places"
PLACES_CACHE_KEY = "places"
PLACES_TTL_SECONDS = 600.0
HELP_SENT_MESSAGE = "已通知工作人员，请稍候"
HELP_OFFLINE_MESSAGE = "网络暂时不通，请到柜台找工作人员帮忙"
MY_APPLICATIONS_OFFLINE = "网络暂时不通，仅显示本机保存、尚未提交的办件"
_SCREEN_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,60}$")


class FlowsService:
    """See the module docstring. All collaborators are passed in (composition root)."""

    def __init__(
        self,
        *,
        client: BackendClient,
        outbox: Outbox,
        answers: SubmissionAnswers,
        session: SessionManager,
        definitions: Definitions,
        catalogue: Catalogue,
        service_point: str,
        counter_hours: str = "",
        printing: PrintingService | None = None,
        cache: OfflineCache | None = None,
        calendar: WorkingCalendar | None = None,
        submit_timeout: float = 8.0,
        clock: ServiceClock | None = None,
        progress_links: ProgressLinks | None = None,
        today: Callable[[], dt.date] | None = None,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        """*clock*: the service point's (default Asia/Shanghai); *today*/*now* override it
        (tests). *progress_links*: the receipt QR's template (default: none configured)."""
        self.clock = clock or ServiceClock()
        today = today or self.clock.today
        now = now or self.clock.now
        self.progress_links = progress_links or ProgressLinks()
        self._client = client
        self._session = session
        self.definitions = definitions
        self._catalogue = catalogue
        self._counter_hours = counter_hours
        self._printing = printing  # used by Submissions; tests/gui_flow_driver.py reads it
        self._cache = cache
        self._today = today
        self._places_memo: tuple[float, Any] = (0.0, None)
        self._queries = FlowQueries(
            client=client,
            session=session,
            definitions=definitions,
            catalogue=catalogue,
            cache=cache,
            today=today,
            resident=self._resident,
            options_for=self._options_for,
            clock=self.clock,
        )
        self._submissions = Submissions(
            outbox=outbox,
            answers=answers,
            session=session,
            definitions=definitions,
            catalogue=catalogue,
            service_point=service_point,
            counter_hours=counter_hours,
            printing=printing,
            calendar=calendar or default_calendar(),
            submit_timeout=submit_timeout,
            clock=self.clock,
            today=today,
            now=now,
            resident=self._resident,
            form_body=self._form_body,
            counter_item=self._counter_item,
            receipt_code=self._receipt_code,
        )

    # -- identity and the session ---------------------------------------------------------

    def identify(self, event: Any) -> Person:
        """The person an identification event names (blocking for e-SSC: asks the platform).

        Accepts the social security card reader's ``SsCardRead``, the ID card reader's
        ``IdCardRead``, the scanner's ``QrScanned`` (its ``code`` goes to the platform
        unchanged) or a :class:`Person`. Raises :class:`IdentityError` for unusable data, a
        failed card read (the reader's own Chinese message) or an unrecognised QR code;
        BackendError when the platform cannot be asked.
        """
        if isinstance(event, Person):
            return event
        today = self._today()
        if isinstance(event, SsCardRead):
            return person_from_sscard(event.card, today=today)
        if isinstance(event, IdCardRead):
            return person_from_idcard(event.card, today=today)
        if isinstance(event, CardReadFailed | IdCardReadFailed):
            raise IdentityError(event.code, event.message_zh)
        if isinstance(event, QrScanned):
            try:
                answer = self._client.post_query("/essc/verify", {"qr": event.code})
            except BackendRejected as exc:
                if exc.status in (404, 422):
                    raise IdentityError("qr_not_recognised", exc.message) from None
                raise
            return person_from_essc(answer, today=today)
        raise IdentityError("unknown_event", "无法识别的身份信息，请重新刷卡或扫码")

    def begin_session(self, person: Person, *, as_agent: bool = False) -> None:
        """Install *person* as the resident (or the 代办 agent). UI thread."""
        if as_agent:
            self._session.set_agent(person)
        else:
            self._session.identify(person)

    def start_session(self, event: Any, *, as_agent: bool = False) -> Person:
        """:meth:`identify` then :meth:`begin_session`, for callers with one thread."""
        person = self.identify(event)
        self.begin_session(person, as_agent=as_agent)
        return person

    def card_removed(self) -> bool:
        """The social security card left the reader (UI thread); True if the session ended."""
        return self._session.card_removed()

    def end_session(self, reason: EndReason) -> bool:
        """End the session (logout, idle timeout, transaction done). UI thread."""
        return self._session.end(reason)

    def _resident(self, item_no: int) -> Person:
        person = self._session.resident
        if person is None:
            raise IdentityRequired(item_no)
        return person

    # -- definitions and pickers ----------------------------------------------------------

    def definition(self, item_no: int) -> ItemDefinition:
        """The definition of a self-service item; KeyError for a counter-only item."""
        return self.definitions.item(item_no)

    def picker_options(self, source: str, parent: str | None = None) -> tuple[str, ...]:
        """The labels a picker offers: a local list, or the platform's towns/villages.

        Places come from ``GET /places`` through the offline cache (when configured); with
        neither the platform nor a cached copy, an empty tuple (the screen then says 暂无).
        """
        if not source.startswith("api:"):
            return self.definitions.picker(source).labels()
        places = self._places()
        towns = places.get("towns", []) if isinstance(places, Mapping) else []
        if source.endswith("#towns"):
            return tuple(str(t.get("name")) for t in towns if isinstance(t, Mapping))
        if not parent:
            return ()
        for town in towns:
            if isinstance(town, Mapping) and town.get("name") == parent:
                return tuple(str(v) for v in town.get("villages", []))
        return ()

    def _places(self) -> Any:
        """The platform's places, kept in memory for PLACES_TTL_SECONDS (public data)."""
        fetched_at, places = self._places_memo
        if places and time.monotonic() - fetched_at < PLACES_TTL_SECONDS:
            return places

        def fetch() -> Any:
            return self._client.get(PLACES_PATH)

        try:
            if self._cache is not None:
                cached = self._cache.fetch(PLACES_CACHE_KEY, fetch)
                places = cached.value
                if cached.from_cache:
                    return places  # a stale copy: ask the platform again next time
            else:
                places = fetch()
        except BackendError:
            log.info("places unavailable", extra={"event": "flows_places_offline"})
            return {}
        self._places_memo = (time.monotonic(), places)
        return places

    def form(self, item_no: int) -> FormSpec:
        """The form of a self-service form item, pre-filled from the resident's identity."""
        definition = self.definition(item_no)
        person = self._resident(item_no) if definition.needs_identity else None
        return FormSpec(
            item_no=item_no,
            title=definition.name,
            summary=definition.summary,
            fields=tuple(self._form_field(f, person) for f in definition.fields),
            agent=self._agent_text(),
        )

    def work_order_form(self, item_no: int) -> FormSpec:
        """The 预约柜台办理 form of a counter-only item."""
        item = self._counter_item(item_no)
        person = self._resident(item_no)
        fields = self.definitions.work_order.fields
        return FormSpec(
            item_no=item_no,
            title=f"预约柜台办理：{item.name}",
            summary="提交后取得排队号，请携带材料到柜台办理",
            fields=tuple(self._form_field(f, person) for f in fields),
            agent=self._agent_text(),
        )

    def _form_field(self, item_field: FieldDef, person: Person | None) -> FormField:
        options = () if item_field.depends_on else self._options_for(item_field)
        known = person.prefill(item_field.prefill) if person and item_field.prefill else None
        value = known if known is not None else item_field.default
        return FormField(item_field, options, value, asked=known is None)

    def _options_for(self, item_field: FieldDef, parent: str | None = None) -> tuple[str, ...]:
        if item_field.kind not in ("picker", "multi_picker"):
            return ()
        return self.picker_options(item_field.source, parent)

    # -- eligibility ----------------------------------------------------------------------

    def eligibility(self, item_no: int) -> rules.Assessment:
        """What the resident meets and misses for *item_no*, before any form is filled.

        The platform's answer when it can be reached (merged with the conditions the form
        checks); offline, the kiosk's own rules from the card (age) with the rest 待核验.
        """
        person = self._resident(item_no)
        today = self._today()
        local = rules.assess(item_no, rules.Facts(birth_date=person.birth_date), today)
        if not rules.has_conditions(item_no):
            return local
        try:
            answer = self._client.post_query(
                "/eligibility", {"id_number": person.id_number, "item_no": item_no}
            )
            return rules.merge(rules.from_server(answer), local)
        except (BackendError, ValueError):
            # Offline, not in the platform's records (a new resident), or an odd answer:
            # explain what the kiosk knows; the platform still decides on submission.
            return local

    # -- lists, matches, records, certificate (FlowQueries) ---------------------------------

    def search(
        self,
        item_no: int,
        *,
        query: str = "",
        filters: Mapping[str, Any] | None = None,
        page: int = 1,
    ) -> ListPage:
        """One page of a search list (3, 6, 9, 12, 14, 15).

        *filters* are the definition's filter fields by key (picker labels as shown). Public
        lists are served from the offline cache when the platform is unreachable (the page's
        ``note`` then says 数据更新于 …); item 15 adds the identified resident's own archive.
        """
        return self._queries.search(item_no, query, filters, page)

    def detail(self, item_no: int, ref: int) -> tuple[Cell, ...]:
        """The full entry behind a list row (a posting, a policy's text)."""
        return self._queries.detail(item_no, ref)

    def match(self, item_no: int, *, demand_id: int | None = None) -> ListPage:
        """Matching results with the reason for each match (2, 5, 8).

        Item 8 needs the *demand_id* of the resident's 招聘零工登记 (item 7's follow-up);
        without it raises :class:`MissingStep`. A resident not yet registered for 2/5 gets
        the platform's BackendRejected ("尚未办理…求职登记").
        """
        return self._queries.match(item_no, demand_id)

    def records(self, item_no: int, *, year: int | None = None) -> RecordsView:
        """The resident's records of *item_no* (25, 26, 27, 33, 36) for *year* (None: all).

        Fetched at each call (personal data is never cached on the kiosk).
        """
        return self._queries.records(item_no, year)

    def certificate(self, item_no: int = 13) -> CertificateView:
        """《就业创业证》 of the resident (BackendRejected 404 with the message if none)."""
        return self._queries.certificate(item_no)

    # -- submissions (Submissions) ------------------------------------------------------------

    def submit(self, item_no: int, values: Mapping[str, Any]) -> SubmissionResult:
        """Validate and submit a form item (1, 4, 7, 10, 11, 22, 23); print its receipt.

        *values*: field key → what the keypad/picker produced (labels for pickers). Fields the
        card knows are filled in here. Raises :class:`FormInvalid` (nothing submitted),
        :class:`IdentityRequired`. Offline the submission is saved and the receipt says
        已保存，联网后自动提交; a refusal by the platform comes back with ``accepted`` False.
        """
        return self._submissions.submit(item_no, values)

    def work_order(self, item_no: int, values: Mapping[str, Any]) -> SubmissionResult:
        """Forward a counter-only item as a work order (queue number) and print its receipt."""
        return self._submissions.work_order(item_no, values)

    # -- counter items and form validation ------------------------------------------------

    def counter_notice(self, item_no: int) -> CounterNotice:
        """The one-time notice (一次性告知) of a counter-only item, with the counter hours."""
        item = self._counter_item(item_no)
        return CounterNotice(
            item_no=item.no,
            name=item.name,
            content=item.content,
            targets=item.targets,
            conditions=item.conditions,
            materials=materials_text(item),
            time_limit=item.time_limit_text,
            counter_hours=self._counter_hours,
            eligibility_applies=rules.has_conditions(item.no),
        )

    def _counter_item(self, item_no: int) -> ServiceItem:
        item = self._catalogue.item(item_no)
        if item.kiosk_runs:
            raise ValueError(f"item {item_no} runs on the kiosk; it is not a counter item")
        return item

    def _form_body(
        self, fields: tuple[FieldDef, ...], values: Mapping[str, Any], person: Person
    ) -> dict[str, Any]:
        merged = dict(values)
        for item_field in fields:
            known = person.prefill(item_field.prefill) if item_field.prefill else None
            if known is not None and not merged.get(item_field.key):
                merged[item_field.key] = known
        rules_ = [
            f.rule(self._options_for(f, _text(merged.get(f.depends_on)) if f.depends_on else None))
            for f in fields
        ]
        clean, errors = validate_all(rules_, merged, self._today())
        if errors:
            raise FormInvalid(errors)
        return request_body(fields, clean, self.definitions.pickers)

    # -- 我的办件 and help ----------------------------------------------------------------------

    def my_applications(self, focus: str | None = None) -> MyApplications:
        """The resident's applications and work orders with status and due date.

        Submissions still waiting in this kiosk's outbox are listed first (待联网提交);
        offline, only those are shown, with a note saying so. *focus*: the reference of a
        scanned receipt; its row comes first and the note says whether it was found among the
        resident's own (another person's receipt opens nothing).
        """
        person = self._resident(0)
        rows = list(self._submissions.pending_rows(person))
        note = ""
        try:
            answer = self._client.post_query("/applications/mine", {"id_number": person.id_number})
        except BackendUnavailable:
            return _focused(MyApplications(tuple(rows), MY_APPLICATIONS_OFFLINE), focus)
        items = answer.get("items", []) if isinstance(answer, Mapping) else []
        for item in items:
            if isinstance(item, Mapping):
                rows.append(application_row(item, self.clock))
        if not rows:
            note = "暂无办件记录"
        return _focused(MyApplications(tuple(rows), note), self._submissions.resolve(focus))

    def recognise_receipt(self, code: str) -> ScannedReceipt | None:
        """The receipt a scanned *code* came from (its progress URL, number or outbox
        reference), or None when it is no receipt's code (e.g. an e-SSC code)."""
        return self.progress_links.recognise(code)

    def _receipt_code(self, reference: str, check: str) -> tuple[str, str]:
        """The receipt QR's content and caption for *reference* (see ProgressLinks)."""
        try:
            backend = self._client.base_url
        except (BackendError, AttributeError):  # not connected yet: no platform root known
            backend = ""
        return self.progress_links.qr_and_caption(reference, check, str(backend or ""))

    def help_request(self, screen: str, item_no: int | None = None) -> HelpResult:
        """请工作人员帮忙: tell the operator on duty which screen (and item) needs help.

        Carries no personal data. Offline it says so, and the screen points to the counter.
        """
        if not _SCREEN_NAME.match(screen):
            raise ValueError("screen name must be 1-60 characters of A-Z a-z 0-9 _ . -")
        body: dict[str, Any] = {"screen": screen}
        if item_no is not None:
            body["item_no"] = int(item_no)
        try:
            answer = self._client.post_command("/help-requests", body)
        except BackendError:
            log.info("help request not sent", extra={"event": "flows_help_offline"})
            return HelpResult(False, HELP_OFFLINE_MESSAGE)
        message = answer.get("message") if isinstance(answer, Mapping) else None
        return HelpResult(True, str(message or HELP_SENT_MESSAGE))

    def _agent_text(self) -> str:
        agent = self._session.agent
        return agent.masked if agent is not None else ""


# -- helpers ------------------------------------------------------------------------------------


def _focused(mine: MyApplications, focus: str | None) -> MyApplications:
    """*mine* with the row of *focus* first and a note saying it was found (or not)."""
    if not focus:
        return mine
    found = [row for row in mine.rows if row.reference == focus]
    if not found:
        note = f"您的办件中没有受理编号为 {focus} 的办件，请确认凭证是本人的"
        return MyApplications(mine.rows, note, focus_found=False)
    rest = [row for row in mine.rows if row.reference != focus]
    note = f"已为您找到扫码的办件（受理编号 {focus}），显示在第一条"
    return MyApplications((*found, *rest), note, focus_found=True)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


__all__ = [
    "CounterNotice",
    "FlowError",
    "FlowsService",
    "FormField",
    "FormInvalid",
    "FormSpec",
    "HelpResult",
    "IdentityRequired",
    "MissingStep",
    "MyApplications",
    "SubmissionAnswers",
    "SubmissionResult",
]
