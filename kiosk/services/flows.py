"""The one facade the resident-flow screens call: identify, list, match, records, submit, print.

Everything is driven by the item definitions (:mod:`kiosk.domain.items`), so five generic
screens run all 22 self-service items and one notice + form runs the 18 counter-only items.

Threads: every method except :meth:`FlowsService.begin_session`, :meth:`card_removed` and
:meth:`end_session` may block on the network, the outbox or the printer — call it from the
GUI's worker pool, never the Kivy thread. Those three change the session and belong to the UI
thread (like :class:`~kiosk.services.session.SessionManager`). Every backend call is bounded by
the client's timeouts; a submission waits at most ``submit_timeout`` seconds for delivery.

Personal data: the facade keeps none. It reads the resident from the session at each call and
returns plain values; the screens drop them when the session ends (listeners). Logs carry item
numbers and outcomes only.

Errors the screens handle (``message`` is Chinese, safe to show and log)::

    FlowError                      base of this module's own errors
    ├── IdentityRequired           the item needs identity and none is in the session
    ├── MissingStep                the item needs a value from an earlier step (item 8: demand)
    └── FormInvalid                ``errors``: {field key: message}; nothing was submitted
    IdentityError                  (kiosk.domain.person) unusable card / e-SSC answer
    BackendError tree              (kiosk.services.errors) offline, rejected, server error

Submissions go through the outbox: committed locally before anything says 已受理. The answer
the platform gave is caught by :class:`SubmissionAnswers`, which the composition root wraps
around the outbox's deliver callable::

    answers = SubmissionAnswers(client.post_submission)
    outbox = Outbox(store, cipher, answers.deliver, ...)
    flows = FlowsService(client=client, outbox=outbox, answers=answers, session=..., ...)
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kiosk.devices.idcard.events import IdCardRead, IdCardReadFailed
from kiosk.devices.scanner.events import QrScanned
from kiosk.devices.sscard.events import CardReadFailed, SsCardRead
from kiosk.domain import eligibility as rules
from kiosk.domain.catalogue import Catalogue, ServiceItem
from kiosk.domain.items import Definitions, FieldDef, ItemDefinition, WorkOrderDefinition
from kiosk.domain.items.requests import (
    agent_body,
    phone_of,
    put_value,
    request_body,
    submission_item_no,
)
from kiosk.domain.items.results import (
    CounterNotice,
    FormField,
    FormSpec,
    HelpResult,
    MyApplications,
    SubmissionResult,
)
from kiosk.domain.items.views import (
    ApplicationRow,
    Cell,
    CertificateView,
    ListPage,
    RecordsView,
    application_row,
    cells_of,
    certificate_view,
    due_of,
    items_of,
    list_page,
    materials_text,
    records_view,
)
from kiosk.domain.person import (
    IdentityError,
    Person,
    person_from_essc,
    person_from_idcard,
    person_from_sscard,
)
from kiosk.domain.receipt import STATUS_ACCEPTED, STATUS_SAVED_OFFLINE, Receipt, ReceiptLine
from kiosk.domain.validation import validate_all
from kiosk.domain.workdays import DueDate, WorkingCalendar, default_calendar
from kiosk.services.errors import (
    OFFLINE_MESSAGE,
    OFFLINE_RECORDS_MESSAGE,
    BackendError,
    BackendRejected,
    BackendUnavailable,
)
from kiosk.services.outbox import Outbox, OutboxEntry, OutboxStatus
from kiosk.services.session import EndReason, SessionManager

if TYPE_CHECKING:
    from kiosk.services.backend_client import BackendClient
    from kiosk.services.cache import OfflineCache
    from kiosk.services.printing import PrintingService

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
PLACES_PATH = "/places"
PLACES_CACHE_KEY = "places"
PLACES_TTL_SECONDS = 600.0
REJECTED_STATUS = "提交未被受理"
NO_PRINTER_MESSAGE = "本机打印机暂不可用，请拍照保存屏幕上的凭证"
PRINTED_MESSAGE = "凭证已打印，请取走"
HELP_SENT_MESSAGE = "已通知工作人员，请稍候"
HELP_OFFLINE_MESSAGE = "网络暂时不通，请到柜台找工作人员帮忙"
MY_APPLICATIONS_OFFLINE = "网络暂时不通，仅显示本机保存、尚未提交的办件"
SAVED_MESSAGE = "网络恢复后本机自动提交，可在“我的办件”查看进度"
SAVED_WORK_ORDER_MESSAGE = "网络恢复后本机自动提交，请到柜台凭本凭证取号办理"
SAVED_DUE_REASON = "联网提交后以受理时间为准"
_SCREEN_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,60}$")


class FlowError(Exception):
    """Base of the facade's own errors; ``message`` is Chinese for the screen."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class IdentityRequired(FlowError):
    """The item needs the resident's identity: ask for card or e-SSC, then call again."""

    def __init__(self, item_no: int) -> None:
        super().__init__("办理此事项需先刷社保卡、放置身份证或扫电子社保卡码")
        self.item_no = item_no


class MissingStep(FlowError):
    """The item needs an earlier step first: ``item_no`` is the item to run (item 8 needs
    item 7's demand; 2 and 5 need the registration 1 / 4), ``name`` what was missing."""

    def __init__(self, name: str, message: str, item_no: int | None = None) -> None:
        super().__init__(message)
        self.name = name
        self.item_no = item_no


class FormInvalid(FlowError):
    """Fields failed validation; ``errors`` maps field key → Chinese message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("请检查标红的内容：" + "；".join(errors.values()))
        self.errors = dict(errors)


class SubmissionAnswers:
    """Keeps the platform's answer to each delivered submission, by Idempotency-Key.

    Wrap the outbox's deliver callable with :meth:`deliver`: it returns the answer with
    ``reference_no``/``due_date`` lifted to the top (so the outbox records them) and remembers
    it, or remembers the :class:`BackendRejected` it raised. Answers hold reference numbers,
    dates and ids — never personal data. Bounded (oldest dropped); thread-safe.
    """

    def __init__(self, deliver: Callable[[str, dict, str], dict], capacity: int = 256) -> None:
        self._deliver = deliver
        self._capacity = capacity
        self._lock = threading.Lock()
        self._answers: OrderedDict[str, dict[str, Any] | BackendRejected] = OrderedDict()

    def deliver(self, path: str, payload: dict[str, Any], key: str) -> dict[str, Any]:
        try:
            answer = self._deliver(path, payload, key)
        except BackendRejected as exc:
            if not exc.retryable:
                self._remember(key, exc)
            raise
        receipt = answer.get("receipt") if isinstance(answer.get("receipt"), dict) else answer
        lifted = dict(answer)
        for source, target in (("number", "reference_no"), ("due_date", "due_date")):
            if target not in lifted and isinstance(receipt.get(source), str):
                lifted[target] = receipt[source]
        self._remember(key, lifted)
        return lifted

    def _remember(self, key: str, value: dict[str, Any] | BackendRejected) -> None:
        with self._lock:
            self._answers[key] = value
            self._answers.move_to_end(key)
            while len(self._answers) > self._capacity:
                self._answers.popitem(last=False)

    def take(self, key: str) -> dict[str, Any] | BackendRejected | None:
        """The answer (or rejection) for *key*, removed from memory; None if not seen."""
        with self._lock:
            return self._answers.pop(key, None)


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
        today: Callable[[], dt.date] = dt.date.today,
        now: Callable[[], dt.datetime] = dt.datetime.now,
    ) -> None:
        self._client = client
        self._outbox = outbox
        self._answers = answers
        self._session = session
        self.definitions = definitions
        self._catalogue = catalogue
        self._service_point = service_point
        self._counter_hours = counter_hours
        self._printing = printing
        self._cache = cache
        self._calendar = calendar or default_calendar()
        self._submit_timeout = submit_timeout
        self._today = today
        self._now = now
        self._places_memo: tuple[float, Any] = (0.0, None)

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

    # -- lists, matches, records, certificate -------------------------------------------------

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
        definition = self.definition(item_no)
        if definition.pattern != "search_list":
            raise ValueError(f"item {item_no} is not a search list")
        page = max(1, int(page))
        params = definition.call.fixed_dict()
        query = query.strip()[:20]
        if definition.query_param and query:
            params[definition.query_param] = query
        params.update(self._filter_params(definition, filters or {}))
        if definition.paging == "server":
            params.update(page=page, page_size=definition.page_size)
        answer, note = self._public_get(item_no, definition.call.path, params, cache=not query)
        result = list_page(definition, answer, page, definition.page_size, note=note)
        if definition.personal_call is not None and self._session.resident is not None:
            result = _with_personal(result, self._personal(definition))
        return result

    def _filter_params(
        self, definition: ItemDefinition, filters: Mapping[str, Any]
    ) -> dict[str, Any]:
        rules_, values = [], {}
        for item_field in definition.fields:
            raw = filters.get(item_field.key)
            rules_.append(item_field.rule(self._options_for(item_field)))
            values[item_field.key] = raw
        clean, errors = validate_all(rules_, values, self._today())
        if errors:
            raise FormInvalid(errors)
        params: dict[str, Any] = {}
        for item_field in definition.fields:
            put_value(params, item_field, clean.get(item_field.key), self.definitions.pickers)
        return params

    def _public_get(
        self, item_no: int, path: str, params: Mapping[str, Any], *, cache: bool
    ) -> tuple[Any, str]:
        def fetch() -> Any:
            return self._client.get(path, params=dict(params))

        if self._cache is None or not cache:
            return fetch(), ""
        key = f"list:{item_no}:" + "&".join(f"{k}={params[k]}" for k in sorted(params))
        cached = self._cache.fetch(key, fetch)
        return cached.value, cached.data_as_of_text if cached.from_cache else ""

    def _personal(self, definition: ItemDefinition) -> tuple[Cell, ...]:
        person = self._session.resident
        assert definition.personal_call is not None and person is not None
        try:
            answer = self._client.post_query(
                definition.personal_call.path, {"id_number": person.id_number}
            )
        except BackendRejected as exc:
            return (Cell("本人档案", exc.message),)
        except BackendUnavailable:
            return (Cell("本人档案", OFFLINE_MESSAGE),)
        return cells_of(answer, definition.personal_columns)

    def detail(self, item_no: int, ref: int) -> tuple[Cell, ...]:
        """The full entry behind a list row (a posting, a policy's text)."""
        definition = self.definition(item_no)
        if definition.detail_call is None:
            raise ValueError(f"item {item_no} has no detail view")
        path = definition.detail_call.path.replace("{id}", str(int(ref)))
        return cells_of(self._client.get(path), definition.detail_columns)

    def match(self, item_no: int, *, demand_id: int | None = None) -> ListPage:
        """Matching results with the reason for each match (2, 5, 8).

        Item 8 needs the *demand_id* of the resident's 招聘零工登记 (item 7's follow-up);
        without it raises :class:`MissingStep`. A resident not yet registered for 2/5 gets
        the platform's BackendRejected ("尚未办理…求职登记").
        """
        definition = self.definition(item_no)
        if definition.pattern != "match":
            raise ValueError(f"item {item_no} is not a match")
        values: dict[str, Any] = {}
        if "demand_id" in definition.requires:
            if demand_id is None:
                raise MissingStep(
                    "demand_id",
                    "请先办理“招聘零工登记”，再查看推荐的零工求职者",
                    definition.prior_item,
                )
            values["demand_id"] = int(demand_id)
        person = self._session.resident
        if definition.needs_identity and person is None:
            raise IdentityRequired(item_no)
        try:
            answer = self._personal_call(definition, person, values)
        except BackendRejected as exc:
            prior = definition.prior_item
            if prior is None or exc.code not in ("not_registered", "person_not_found"):
                raise
            # Unknown to the platform means not registered either: point to the registration.
            message = (
                exc.message
                if exc.code == "not_registered"
                else (f"尚未办理{self._catalogue.item(prior).name}，请先登记")
            )
            raise MissingStep("registration", message, prior) from None
        return list_page(definition, answer, 1, max(1, len(items_of(definition, answer))))

    def records(self, item_no: int, *, year: int | None = None) -> RecordsView:
        """The resident's records of *item_no* (25, 26, 27, 33, 36) for *year* (None: all).

        Fetched at each call (personal data is never cached on the kiosk).
        """
        definition = self.definition(item_no)
        if definition.pattern != "records":
            raise ValueError(f"item {item_no} is not a records view")
        person = self._resident(item_no)
        return records_view(definition, self._personal_call(definition, person, {}), year)

    def certificate(self, item_no: int = 13) -> CertificateView:
        """《就业创业证》 of the resident (BackendRejected 404 with the message if none)."""
        definition = self.definition(item_no)
        person = self._resident(item_no)
        return certificate_view(definition, self._personal_call(definition, person, {}))

    def _personal_call(
        self, definition: ItemDefinition, person: Person | None, values: Mapping
    ) -> Any:
        """The item's call for *person*; offline says personal records cannot be looked up
        (they are never cached on the kiosk)."""
        try:
            return self._call(definition, person, values)
        except BackendUnavailable as exc:
            raise BackendUnavailable(OFFLINE_RECORDS_MESSAGE, code=exc.code) from None

    def _call(self, definition: ItemDefinition, person: Person | None, values: Mapping) -> Any:
        path = definition.call.path
        for name in definition.call.placeholders:
            path = path.replace("{" + name + "}", str(values[name]))
        body = definition.call.fixed_dict()
        if person is not None:
            for request_key, person_key in definition.identity_body:
                body[request_key] = person.prefill(person_key)
        if definition.call.method == "GET":
            return self._client.get(path, params=body or None)
        return self._client.post_query(path, body)

    # -- submissions --------------------------------------------------------------------------

    def submit(self, item_no: int, values: Mapping[str, Any]) -> SubmissionResult:
        """Validate and submit a form item (1, 4, 7, 10, 11, 22, 23); print its receipt.

        *values*: field key → what the keypad/picker produced (labels for pickers). Fields the
        card knows are filled in here. Raises :class:`FormInvalid` (nothing submitted),
        :class:`IdentityRequired`. Offline the submission is saved and the receipt says
        已保存，联网后自动提交; a refusal by the platform comes back with ``accepted`` False.
        """
        definition = self.definition(item_no)
        if not definition.is_submission:
            raise ValueError(f"item {item_no} is not a form")
        person = self._resident(item_no)
        body = self._form_body(definition.fields, values, person)
        body.update(definition.call.fixed_dict())
        for request_key, person_key in definition.identity_body:
            body[request_key] = person.prefill(person_key)
        agent = self._session.agent
        if agent is not None:  # recorded beside the resident on the platform (代办)
            body["agent"] = agent_body(agent)
        return self._submit(
            item=self._catalogue.item(item_no),
            kind=definition.submission_kind,
            path=definition.call.path,
            body=body,
            person=person,
            followup_keys=definition.followup,
            receipt_key=definition.receipt_key,
            phone=phone_of(definition.fields, body),
        )

    def work_order(self, item_no: int, values: Mapping[str, Any]) -> SubmissionResult:
        """Forward a counter-only item as a work order (queue number) and print its receipt."""
        item = self._counter_item(item_no)
        person = self._resident(item_no)
        order: WorkOrderDefinition = self.definitions.work_order
        body = self._form_body(order.fields, values, person)
        for request_key, person_key in order.identity_body:
            body[request_key] = person.prefill(person_key)
        body["item_no"] = item_no
        agent = self._session.agent
        if agent is not None:  # the counter must know who came on the resident's behalf
            body["agent"] = agent_body(agent)
        return self._submit(
            item=item,
            kind=order.submission_kind,
            path=order.call.path,
            body=body,
            person=person,
            followup_keys=(),
            receipt_key=order.receipt_key,
            phone=phone_of(order.fields, body),
        )

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

    def _submit(
        self,
        *,
        item: ServiceItem,
        kind: str,
        path: str,
        body: dict[str, Any],
        person: Person,
        followup_keys: tuple[tuple[str, str], ...],
        receipt_key: str,
        phone: str,
    ) -> SubmissionResult:
        entry = self._outbox.submit_and_wait(
            kind, API_PREFIX + path, body, timeout=self._submit_timeout
        )
        answer = self._answers.take(entry.idempotency_key)
        log.info(
            "submission",
            extra={"event": "flows_submit", "item": item.no, "state": entry.status.value},
        )
        if isinstance(answer, BackendRejected) or entry.status is OutboxStatus.FAILED:
            message = answer.message if isinstance(answer, BackendRejected) else ""
            return SubmissionResult(
                item_no=item.no,
                item_name=item.name,
                accepted=False,
                delivered=False,
                status_text=REJECTED_STATUS,
                reference="",
                local_ref=entry.local_ref,
                due=None,
                queue_number="",
                message=message or "提交未被受理，请到柜台办理",
            )
        if phone:
            self._remember_phone(phone)
        if entry.delivered:
            outcome = _delivered_outcome(entry, answer, receipt_key, followup_keys)
        else:
            outcome = self._saved_outcome(entry, item, kind)
        receipt = self._receipt(item, outcome, person)
        printed, print_message, preview = self._print(receipt)
        return SubmissionResult(
            item_no=item.no,
            item_name=item.name,
            accepted=True,
            delivered=entry.delivered,
            status_text=outcome.status_text,
            reference=outcome.reference,
            local_ref=entry.local_ref,
            due=outcome.due,
            queue_number=outcome.queue,
            message=outcome.message,
            followup=outcome.followup,
            receipt=receipt,
            printed=printed,
            print_message=print_message,
            preview_png=preview,
        )

    def _saved_outcome(self, entry: OutboxEntry, item: ServiceItem, kind: str) -> _Outcome:
        """Saved in the outbox, not yet on the platform: local reference, estimated due date."""
        due = self._calendar.due_date(self._today(), item.time_limit_days)
        return _Outcome(
            status_text=STATUS_SAVED_OFFLINE,
            reference=entry.local_ref,
            due=DueDate(due.date, estimated=True, reason=due.reason or SAVED_DUE_REASON),
            queue="",
            message=SAVED_WORK_ORDER_MESSAGE if kind == "work_order" else SAVED_MESSAGE,
            followup={},
        )

    def _remember_phone(self, phone: str) -> None:
        session = self._session.current
        if session is not None:
            session.identity.remember_phone(phone)

    def _receipt(self, item: ServiceItem, outcome: _Outcome, person: Person) -> Receipt:
        due = outcome.due
        agent = self._session.agent
        lines = [ReceiptLine("办理渠道", "自助服务终端")]
        if not item.kiosk_runs:
            lines.append(ReceiptLine("请携带", materials_text(item)))
            if self._counter_hours:
                lines.append(ReceiptLine("柜台时间", self._counter_hours))
        if due is not None and due.estimated and due.reason:
            lines.append(ReceiptLine("办结期限说明", due.reason))
        if outcome.message:
            lines.append(ReceiptLine("说明", outcome.message))
        return Receipt(
            service_point=self._service_point,
            item_no=str(item.no),
            item_name=item.name,
            reference=outcome.reference,
            submitted_at=self._now().replace(microsecond=0),
            status_text=outcome.status_text,
            person=person.masked,
            agent=agent.masked if agent is not None else "",
            due_date=due.date if due is not None else None,
            due_estimated=bool(due and due.estimated),
            lines=tuple(lines),
            qr_payload=outcome.reference,
            queue_number=outcome.queue,
            footer="可在本机“我的办件”查询办理进度",
        )

    def _print(self, receipt: Receipt) -> tuple[bool, str, bytes | None]:
        if self._printing is None:
            return False, NO_PRINTER_MESSAGE, None
        try:
            outcome = self._printing.print_receipt(receipt)
        except Exception:  # the receipt data is safe in the outbox; never lose the result
            log.exception("printing failed", extra={"event": "flows_print_error"})
            return False, NO_PRINTER_MESSAGE, None
        if outcome.printed:
            return True, PRINTED_MESSAGE, None
        return False, outcome.message or NO_PRINTER_MESSAGE, outcome.preview_png

    # -- 我的办件 and help ----------------------------------------------------------------------

    def my_applications(self) -> MyApplications:
        """The resident's applications and work orders with status and due date.

        Submissions still waiting in this kiosk's outbox are listed first (待联网提交);
        offline, only those are shown, with a note saying so.
        """
        person = self._resident(0)
        rows = list(self._pending_rows(person))
        note = ""
        try:
            answer = self._client.post_query("/applications/mine", {"id_number": person.id_number})
        except BackendUnavailable:
            return MyApplications(tuple(rows), MY_APPLICATIONS_OFFLINE)
        items = answer.get("items", []) if isinstance(answer, Mapping) else []
        for item in items:
            if isinstance(item, Mapping):
                rows.append(application_row(item))
        if not rows:
            note = "暂无办件记录"
        return MyApplications(tuple(rows), note)

    def _pending_rows(self, person: Person) -> list[ApplicationRow]:
        rows = []
        for entry in self._outbox.entries(status="pending", limit=100):
            try:
                payload = self._outbox.payload(entry.local_ref)
            except Exception:  # an unreadable entry is maintenance's business, not this list's
                continue
            if payload.get("id_number") != person.id_number:
                continue
            no = submission_item_no(
                entry.path, payload, self.definitions.items.values(), API_PREFIX
            )
            name = self._catalogue.item(no).name if no else "办件"
            created = dt.datetime.fromtimestamp(entry.created_at)
            rows.append(
                ApplicationRow(
                    reference=entry.local_ref,
                    item_no=no,
                    item_name=name,
                    status_text=STATUS_SAVED_OFFLINE,
                    submitted=f"{created:%Y-%m-%d %H:%M}",
                    due_text="",
                    queue_number="",
                    result="",
                    pending_upload=True,
                )
            )
        return rows

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


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _with_personal(page: ListPage, personal: tuple[Cell, ...]) -> ListPage:
    return ListPage(
        page.rows, page.page, page.page_size, page.total, page.empty_text, page.note, personal
    )


@dataclass(frozen=True)
class _Outcome:
    """What a receipt says about a submission that was taken (delivered or saved)."""

    status_text: str
    reference: str
    due: DueDate | None
    queue: str
    message: str
    followup: dict[str, Any]


def _delivered_outcome(
    entry: OutboxEntry,
    answer: dict[str, Any] | BackendRejected | None,
    receipt_key: str,
    followup_keys: tuple[tuple[str, str], ...],
) -> _Outcome:
    """The platform's receipt (number, due date, queue number) from its answer."""
    if not isinstance(answer, dict):  # delivered, but the answer was not kept here
        answer = {"number": entry.reference_no, "due_date": entry.due_date}
    receipt = answer.get(receipt_key, answer) if receipt_key else answer
    receipt = receipt if isinstance(receipt, dict) else {}
    return _Outcome(
        status_text=STATUS_ACCEPTED,
        reference=str(receipt.get("number") or entry.reference_no or entry.local_ref),
        due=due_of(receipt),
        queue=str(receipt.get("queue_no") or ""),
        message=str(receipt.get("message") or ""),
        followup={name: answer.get(key) for key, name in followup_keys if key in answer},
    )


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
