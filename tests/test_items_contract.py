"""Contract: any input the kiosk's validation accepts builds a body the platform's schema accepts.

For every form item (and the counter work order), hypothesis draws values the way a resident
could enter them through the definition's keypads and pickers; the kiosk validates them, builds
the request body, and the reference platform's own pydantic request model must accept it. A
definition that drifts from the API (a renamed key, a code the server does not know, a bound
the server is stricter about) fails here, before any resident meets it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.domain.identity import build_id_number
from kiosk.domain.items import load_definitions
from kiosk.domain.items.requests import request_body
from kiosk.domain.validation import validate_all
from kiosk_backend.routes.applications import (
    FlexibleEmployment,
    SkillSubsidy,
    UnemploymentBenefit,
    UnemploymentRegistration,
    WorkOrder,
)
from kiosk_backend.routes.seekers import DemandRegistration, SeekerRegistration
from kiosk_backend.seed.places import TOWNS

TODAY = dt.date(2026, 11, 29)
DEFINITIONS = load_definitions()
MODELS = {
    1: SeekerRegistration,
    4: SeekerRegistration,
    7: DemandRegistration,
    10: FlexibleEmployment,
    11: UnemploymentRegistration,
    22: SkillSubsidy,
    23: UnemploymentBenefit,
}
PERSON = {"id_number": build_id_number("140431", dt.date(1980, 2, 3), 17), "name": "张建军"}
CHINESE = "沁源县郭家电工李王张刘农机修理帮忙搬运红白事食堂"
# What the letter keyboard can type into a "code" field (lower case is upper-cased by validation).
CODE_KEYS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-"


def options_of(item_field, town=None):
    if item_field.source == "api:/places#towns":
        return tuple(TOWNS)
    if item_field.source == "api:/places#villages":
        return TOWNS.get(town, ())
    return DEFINITIONS.picker(item_field.source).labels()


def value_strategy(item_field, town):
    kind = item_field.kind
    if kind == "phone":
        return st.sampled_from(["13812345678", "19900001111", "0355-7012345", "03557012345"])
    if kind == "picker":
        return (
            st.sampled_from(options_of(item_field, town))
            if options_of(item_field, town)
            else st.none()
        )
    if kind == "multi_picker":
        options = options_of(item_field, town)
        low = 1 if item_field.required else 0
        return st.lists(st.sampled_from(options), min_size=low, max_size=item_field.max_choices,
                        unique=True)  # fmt: skip
    if kind == "date":
        earliest, latest = item_field.earliest_days, item_field.latest_days
        low = TODAY + dt.timedelta(days=-365 * 30 if earliest is None else earliest)
        high = TODAY + dt.timedelta(days=365 if latest is None else latest)
        return st.dates(min_value=low, max_value=high).map(lambda d: f"{d:%Y%m%d}")
    if kind == "keypad_number" and item_field.keep_text:
        return st.text("0123456789", min_size=item_field.min_length, max_size=item_field.max_length)
    if kind == "keypad_number":
        low = int(item_field.min_value if item_field.min_value is not None else 0)
        high = int(item_field.max_value if item_field.max_value is not None else 10**6)
        return st.integers(low, high).map(str)
    if kind == "yes_no":
        return st.booleans()
    if kind == "code":
        return st.text(CODE_KEYS, min_size=item_field.min_length, max_size=item_field.max_length)
    if kind == "text":
        return st.text(CHINESE, min_size=1 if item_field.required else 0,
                       max_size=item_field.max_length)  # fmt: skip
    raise AssertionError(kind)


@st.composite
def form_values(draw, fields):
    town = draw(st.sampled_from(tuple(TOWNS)))
    values = {}
    for item_field in fields:
        if item_field.source == "api:/places#towns" and item_field.kind == "picker":
            values[item_field.key] = town
            continue
        strategy = value_strategy(item_field, town)
        if not item_field.required:
            strategy = st.one_of(st.none(), strategy)
        values[item_field.key] = draw(strategy)
    return values


def body_for(fields, values, identity, fixed=()):
    town = values.get("town")
    rules = [f.rule(options_of(f, town) if f.kind.endswith("picker") else ()) for f in fields]
    clean, errors = validate_all(rules, values, TODAY)
    assert errors == {}, errors
    body = request_body(fields, clean, DEFINITIONS.pickers)
    body.update(dict(fixed))
    body.update({request_key: PERSON[person_key] for request_key, person_key in identity})
    return body


@pytest.mark.parametrize("item_no", sorted(MODELS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_accepted_form_is_accepted_by_the_platforms_schema(item_no, data):
    definition = DEFINITIONS.item(item_no)
    values = data.draw(form_values(definition.fields))
    body = body_for(definition.fields, values, definition.identity_body, definition.call.fixed)
    MODELS[item_no].model_validate(body)  # raises pydantic.ValidationError on drift


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_every_accepted_work_order_is_accepted_by_the_platforms_schema(data):
    order = DEFINITIONS.work_order
    values = data.draw(form_values(order.fields))
    body = body_for(order.fields, values, order.identity_body)
    body["item_no"] = data.draw(st.sampled_from([20, 21, 24, 28, 34, 38, 40]))
    WorkOrder.model_validate(body)
