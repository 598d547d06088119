"""Looking things up for the resident: search lists, details, matches, records, certificate.

Used by :class:`kiosk.services.flows.FlowsService`, which passes in its collaborators and its
own resident and picker-option lookups. Threads: every method may block on the network —
worker pool only. Public lists go through the offline cache; personal data is fetched at each
call, with the session's identity token (:class:`~kiosk.services.identity_tokens.IdentityTokens`),
and never cached on the kiosk.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from kiosk.domain.catalogue import Catalogue
from kiosk.domain.clock import ServiceClock
from kiosk.domain.items import Definitions, FieldDef, ItemDefinition
from kiosk.domain.items.requests import put_value
from kiosk.domain.items.views import (
    Cell,
    CertificateView,
    Choice,
    ListPage,
    RecordsView,
    cells_of,
    certificate_view,
    choices_of,
    items_of,
    list_page,
    records_view,
)
from kiosk.domain.person import IdentityError, Person
from kiosk.domain.validation import validate_all
from kiosk.services.errors import (
    OFFLINE_MESSAGE,
    OFFLINE_RECORDS_MESSAGE,
    BackendRejected,
    BackendUnavailable,
)
from kiosk.services.flow_errors import FlowError, FormInvalid, IdentityRequired, MissingStep
from kiosk.services.session import SessionManager

if TYPE_CHECKING:
    from kiosk.services.backend_client import BackendClient
    from kiosk.services.cache import OfflineCache
    from kiosk.services.identity_tokens import IdentityTokens


class FlowQueries:
    """Search, detail, match, records and certificate. Built by the flows facade.

    *resident* returns the session's resident or raises ``IdentityRequired``; *options_for*
    returns the labels a picker field offers.
    """

    def __init__(
        self,
        *,
        client: BackendClient,
        session: SessionManager,
        definitions: Definitions,
        catalogue: Catalogue,
        cache: OfflineCache | None,
        today: Callable[[], dt.date],
        resident: Callable[[int], Person],
        options_for: Callable[[FieldDef], tuple[str, ...]],
        clock: ServiceClock,
        identity: IdentityTokens,
    ) -> None:
        self._clock = clock
        self._client = client
        self._identity = identity
        self._session = session
        self._definitions = definitions
        self._catalogue = catalogue
        self._cache = cache
        self._today = today
        self._resident = resident
        self._options_for = options_for

    def search(
        self, item_no: int, query: str, filters: Mapping[str, Any] | None, page: int
    ) -> ListPage:
        """See :meth:`kiosk.services.flows.FlowsService.search`."""
        definition = self._definitions.item(item_no)
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
        if definition.needs_identity:  # item 9: identified, never from the offline cache
            answer = self._personal_call(
                definition, self._resident(item_no), {}, params, query=True
            )
            return list_page(definition, answer, page, definition.page_size)
        answer, note = self._public_get(item_no, definition.call.path, params, cache=not query)
        result = list_page(
            definition, answer, page, definition.page_size, note=note, zone=self._clock.zone
        )
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
            put_value(params, item_field, clean.get(item_field.key), self._definitions.pickers)
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
        return cached.value, cached.data_as_of_text(self._clock) if cached.from_cache else ""

    def _personal(self, definition: ItemDefinition) -> tuple[Cell, ...]:
        person = self._session.resident
        assert definition.personal_call is not None and person is not None
        try:
            answer = self._identity.query(
                definition.personal_call.path, {"id_number": person.id_number}
            )
        except (BackendRejected, FlowError, IdentityError) as exc:
            return (Cell("本人档案", exc.message),)
        except BackendUnavailable:
            return (Cell("本人档案", OFFLINE_MESSAGE),)
        return cells_of(answer, definition.personal_columns, self._clock.zone)

    def detail(self, item_no: int, ref: int) -> tuple[Cell, ...]:
        """See :meth:`kiosk.services.flows.FlowsService.detail`."""
        definition = self._definitions.item(item_no)
        if definition.detail_call is None:
            raise ValueError(f"item {item_no} has no detail view")
        path = definition.detail_call.path.replace("{id}", str(int(ref)))
        return cells_of(self._client.get(path), definition.detail_columns, self._clock.zone)

    def choices(self, item_no: int) -> tuple[Choice, ...]:
        """See :meth:`kiosk.services.flows.FlowsService.choices`."""
        definition = self._definitions.item(item_no)
        if definition.chooser is None:
            raise ValueError(f"item {item_no} offers no choice")
        person = self._resident(item_no)
        body = {k: person.prefill(p) for k, p in definition.identity_body}
        try:
            # The employer's own demands are personal: asked with the session's identity token.
            answer = self._identity.query(definition.chooser.call.path, body, item_no=item_no)
        except BackendUnavailable as exc:
            raise BackendUnavailable(OFFLINE_RECORDS_MESSAGE, code=exc.code) from None
        except BackendRejected as exc:
            if exc.code != "person_not_found":
                raise
            return ()  # unknown to the platform: nothing registered yet
        return choices_of(definition.chooser, answer)

    def match(self, item_no: int, demand_id: int | None) -> ListPage:
        """See :meth:`kiosk.services.flows.FlowsService.match`."""
        definition = self._definitions.item(item_no)
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

    def records(self, item_no: int, year: int | None, page: int = 1) -> RecordsView:
        """See :meth:`kiosk.services.flows.FlowsService.records`."""
        definition = self._definitions.item(item_no)
        if definition.pattern != "records":
            raise ValueError(f"item {item_no} is not a records view")
        person = self._resident(item_no)
        selection: dict[str, Any] = {"page": max(1, int(page)), "page_size": definition.page_size}
        if year is not None:
            selection["year"] = int(year)
        answer = self._personal_call(definition, person, {}, selection)
        return records_view(definition, answer, year)

    def certificate(self, item_no: int) -> CertificateView:
        """See :meth:`kiosk.services.flows.FlowsService.certificate`."""
        definition = self._definitions.item(item_no)
        person = self._resident(item_no)
        return certificate_view(definition, self._personal_call(definition, person, {}))

    def _personal_call(
        self,
        definition: ItemDefinition,
        person: Person | None,
        values: Mapping,
        extra: Mapping[str, Any] | None = None,
        *,
        query: bool = False,
    ) -> Any:
        """The item's call for *person* (*extra*: more body values, e.g. the page); offline
        says personal records cannot be looked up (they are never cached on the kiosk), or
        for a *query* (item 9) that the list needs the network."""
        try:
            return self._call(definition, person, values, extra or {})
        except BackendUnavailable as exc:
            message = OFFLINE_MESSAGE if query else OFFLINE_RECORDS_MESSAGE
            raise BackendUnavailable(message, code=exc.code) from None

    def _call(
        self,
        definition: ItemDefinition,
        person: Person | None,
        values: Mapping,
        extra: Mapping[str, Any],
    ) -> Any:
        path = definition.call.path
        for name in definition.call.placeholders:
            path = path.replace("{" + name + "}", str(values[name]))
        body = {**definition.call.fixed_dict(), **extra}
        if definition.call.method == "POST":  # values no placeholder took travel in the body
            body.update({k: v for k, v in values.items() if k not in definition.call.placeholders})
        if person is not None:
            for request_key, person_key in definition.identity_body:
                body[request_key] = person.prefill(person_key)
        if definition.call.method == "GET":
            return self._client.get(path, params=body or None)
        return self._identity.query(path, body, item_no=definition.no)


def _with_personal(page: ListPage, personal: tuple[Cell, ...]) -> ListPage:
    return ListPage(
        page.rows, page.page, page.page_size, page.total, page.empty_text, page.note, personal
    )


__all__ = ["FlowQueries"]
