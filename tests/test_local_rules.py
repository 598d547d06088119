"""Rules beyond the seed live in one place (kiosk.domain.local_rules): every condition the kiosk
or the platform checks is either the seed's own or listed there with its source."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from kiosk.domain import eligibility
from kiosk.domain.local_rules import (
    BEYOND_SEED,
    SEED_CONDITIONS,
    certificate_in_time,
    rule,
)
from kiosk_backend import rules as platform_rules

TODAY = dt.date(2026, 12, 5)


def _kiosk_keys() -> set[str]:
    facts = eligibility.Facts(birth_date=dt.date(1980, 5, 1), sex="男")
    return {c.key for check in eligibility.RULES.values() for c in check(facts, TODAY)}


def _platform_keys() -> set[str]:
    fields = {f.name: False for f in dataclasses.fields(platform_rules.PersonFacts)}
    fields.update(
        birth_date=dt.date(1980, 5, 1),
        sex="male",
        job_category="",
        employment_status="employed",
        enterprise_pension_status="none",
        resident_contribution_years=0,
        ui_insured_months=0,
        separation_reason="",
    )
    facts = platform_rules.PersonFacts(**fields)
    return {c.key for check in platform_rules.RULES.values() for c in check(facts, TODAY)}


def test_every_condition_checked_is_the_seeds_or_listed_beyond_it():
    listed = {r.key for r in BEYOND_SEED}
    used = _kiosk_keys() | _platform_keys()
    assert used - SEED_CONDITIONS - listed == set()
    # listed rules are all in use (the one-claim-per-certificate check is made when filing)
    assert listed - used == {"one_claim_per_certificate"}


def test_policy_and_proxy_rules_name_their_source_and_guards_are_ours():
    for local in BEYOND_SEED:
        assert local.kind in ("policy", "proxy", "guard")
        assert bool(local.source) is (local.kind != "guard"), local.key
        assert local.items and local.text
    assert "人社部发〔2017〕40号" in rule("certificate_12m").source
    assert "2024年9月13日" in rule("under_retirement_age").source
    with pytest.raises(KeyError):
        rule("age_60")  # the seed's own (item 34)


@pytest.mark.parametrize(
    "issued, today, in_time",
    [
        (dt.date(2025, 12, 5), dt.date(2026, 12, 5), True),  # the anniversary itself
        (dt.date(2025, 12, 5), dt.date(2026, 12, 6), False),
        (dt.date(2024, 2, 29), dt.date(2025, 2, 28), True),
        (dt.date(2024, 2, 29), dt.date(2025, 3, 1), False),
        (dt.date(2026, 12, 6), dt.date(2026, 12, 5), False),  # not yet issued
    ],
)
def test_certificate_within_twelve_calendar_months(issued, today, in_time):
    assert certificate_in_time(issued, today) is in_time
