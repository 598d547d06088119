"""Typed client methods against the seeded reference server, and the offline cache."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_client_support import seeded_server  # noqa: F401  (fixture)

from kiosk.domain.clock import ServiceClock
from kiosk.services import api_models as m
from kiosk.services.cache import OfflineCache, PublicInfo
from kiosk.services.errors import (
    OFFLINE_RECORDS_MESSAGE,
    BackendProtocolError,
    BackendRejected,
    BackendUnavailable,
)
from kiosk.services.store import open_store

RESIDENT_UI_CLAIMANT = "ESSC-DEMO-RESIDENT-03"
RESIDENT_PENSIONER = "ESSC-DEMO-RESIDENT-04"
RESIDENT_EMPLOYED = "ESSC-DEMO-RESIDENT-07"


def test_public_endpoints_parse_into_dataclasses(seeded_server):  # noqa: F811
    client = seeded_server.client()
    catalogue = client.catalogue()
    assert len(catalogue.items) == 40
    assert all(isinstance(i, m.CatalogueItem) for i in catalogue.items)
    page = client.search_jobs("司机", page_size=5)
    assert page.total >= 1 and page.items
    assert all("司机" in p.title + p.occupation + p.description for p in page.items)
    assert isinstance(page.items[0].posted_on, dt.date)
    assert client.posting(page.items[0].id) == page.items[0]
    assert client.job_fairs().items
    assert client.archive_agencies().items
    policies = client.policies(page_size=3)
    assert client.policy(policies.items[0].id).body
    assert client.places().towns
    assert client.health().status == "ok"


def test_two_character_query_with_filters_is_sent_encoded_and_signed(seeded_server):  # noqa: F811
    page = seeded_server.client().search_jobs("电工", kind="odd", page_size=50)
    assert all(p.kind == "odd" for p in page.items)


def test_person_lookups_and_essc(seeded_server):  # noqa: F811
    client = seeded_server.client()
    resident = client.verify_essc(RESIDENT_PENSIONER)
    assert isinstance(resident, m.ResidentIdentity) and len(resident.id_number) == 18
    payments = client.enterprise_pension_payments(resident.id_number)
    assert payments.payments and payments.failed_count >= 1
    assert "*" in payments.person.id_number_masked
    employed = client.verify_essc(RESIDENT_EMPLOYED)
    assert client.employment_certificate(employed.id_number).cert_no
    assert client.archive_location(employed.id_number).agency_name
    status = client.enterprise_pension_status(employed.id_number)
    assert status.contributions
    claimant = client.verify_essc(RESIDENT_UI_CLAIMANT)
    assert client.eligibility(claimant.id_number, 23).eligible
    assert isinstance(client.my_applications(claimant.id_number), m.MyApplications)
    assert isinstance(client.unemployment_insurance_payments(claimant.id_number), m.PaymentRecords)


def test_operator_signin_and_unknown_qr(seeded_server):  # noqa: F811
    client = seeded_server.client()
    operator = client.operator_signin("ESSC-DEMO-OPERATOR-01")
    assert operator.status == "active" and operator.account
    assert client.operator_signin("ESSC-DEMO-OPERATOR-02").status == "locked"
    with pytest.raises(BackendRejected) as caught:
        client.operator_signin("ESSC-NOT-A-CODE")
    assert caught.value.status == 404 and caught.value.field == "qr"


def test_kiosk_register_heartbeat_and_help(seeded_server):  # noqa: F811
    client = seeded_server.client()
    registration = client.register(
        "0.1.0", "沁源县沁河镇城关社区就业社保服务点", "140431", ["printer"]
    )
    assert registration.kiosk_id == seeded_server.kiosk_id
    device = {"name": "printer", "state": "ok", "detail": "", "counters": {"jobs": 3}}
    assert client.heartbeat("0.1.0", [device], "low", 2).open_tickets == 0
    assert client.help_request("home").message


def test_person_lookups_offline_say_so_plainly(tmp_path):
    from test_client_support import start_reference_server

    server = start_reference_server(tmp_path)
    server.handle.stop()  # the platform is gone
    client = server.client(connect_timeout=1.0)
    with pytest.raises(BackendUnavailable) as caught:
        client.my_applications("140431198807150023")
    assert caught.value.message == OFFLINE_RECORDS_MESSAGE


@pytest.mark.parametrize(
    "data",
    [
        {"status": "ok", "server_time": "not a time", "api_version": "1"},
        {"status": "ok", "api_version": "1"},
        {"status": 3, "server_time": "2026-01-01T00:00:00Z", "api_version": "1"},
        ["not", "an", "object"],
        None,
    ],
)
def test_answers_that_break_the_contract_are_protocol_errors(data):
    with pytest.raises(BackendProtocolError):
        m.parse(m.Health, data)


def test_parser_ignores_unknown_fields_and_fills_defaults():
    health = m.parse(
        m.Health,
        {"status": "ok", "server_time": "2026-11-29T08:00:00Z", "api_version": "1", "new": 1},
    )
    assert health.server_time.tzinfo is not None


# --- offline cache -------------------------------------------------------------------------------


def test_public_information_is_served_from_cache_with_data_as_of_when_offline(
    seeded_server,  # noqa: F811
    data_dir,
):
    """GIVEN the kiosk fetched the catalogue, policies, job fairs and postings online WHEN the
    platform goes away THEN the same data comes from the cache, marked with its time."""
    store = open_store(data_dir)
    try:
        info = PublicInfo(seeded_server.client(connect_timeout=1.0), OfflineCache(store))
        online = {
            "catalogue": info.catalogue(),
            "policies": info.policies(),
            "job_fairs": info.job_fairs(),
            "archive_agencies": info.archive_agencies(),
            "recent_postings": info.recent_postings(),
        }
        assert not any(c.from_cache for c in online.values())
        seeded_server.handle.stop()
        offline = {
            "catalogue": info.catalogue(),
            "policies": info.policies(),
            "job_fairs": info.job_fairs(),
            "archive_agencies": info.archive_agencies(),
            "recent_postings": info.recent_postings(),
        }
        for name, cached in offline.items():
            assert cached.from_cache, name
            assert cached.value == online[name].value, name
            assert cached.data_as_of == pytest.approx(online[name].data_as_of), name
            shanghai = ServiceClock("Asia/Shanghai").from_timestamp(cached.data_as_of)
            assert cached.data_as_of_text(ServiceClock()) == f"数据更新于 {shanghai:%Y-%m-%d %H:%M}"
        # offline search looks through the cached recent postings
        word = online["recent_postings"].value.items[0].occupation
        found = info.search_jobs(word)
        assert found.from_cache and found.value.items
        assert all(word in p.title + p.occupation + p.employer_name for p in found.value.items)
        # nothing cached for this page size: offline and nothing to show
        with pytest.raises(BackendUnavailable):
            info.policies(page_size=7)
    finally:
        store.close()


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=30,
)


@given(
    cls=st.sampled_from([m.PostingPage, m.Receipt, m.PaymentRecords, m.Catalogue, m.SeekerReceipt]),
    data=_json,
)
def test_parser_turns_any_json_into_the_model_or_a_protocol_error(cls, data):
    try:
        value = m.parse(cls, data)
    except BackendProtocolError as exc:
        assert exc.code.startswith("bad_field:")
    else:
        assert isinstance(value, cls)


@given(
    number=st.text(min_size=1, max_size=20),
    due=st.dates().map(str) | st.none(),
    extra=st.dictionaries(st.text(max_size=8), st.integers(), max_size=3),
)
def test_receipts_with_unknown_extra_fields_parse(number, due, extra):
    data = {
        **extra,
        "number": number,
        "item_no": 10,
        "item_name": "灵活就业登记",
        "status": "submitted",
        "status_label": "已受理",
        "submitted_at": "2026-11-29T08:00:00+00:00",
        "due_date": due,
    }
    receipt = m.parse(m.Receipt, data)
    assert receipt.number == number
    assert receipt.due_date is None or str(receipt.due_date) == due
