"""Receipts as data: validation, no unmasked personal data, round trip for the print queue."""

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.receipt import Receipt, ReceiptError, ReceiptLine, masked_person


def make(**overrides):
    values = dict(
        service_point="沁源县沁河镇城关社区就业社保服务点",
        item_no="1-03",
        item_name="失业保险金申领",
        reference="JJB20261129-000123",
        submitted_at=datetime(2026, 11, 29, 10, 15),
        person=masked_person("李春英", "140431199001011234"),
    )
    values.update(overrides)
    return Receipt(**values)


def test_masked_person_uses_identity_masks():
    assert masked_person("李春英", "140431199001011234") == "李*英  1404**********1234"
    assert masked_person("张三") == "张*"


@pytest.mark.parametrize(
    "field",
    ["person", "agent", "item_name", "footer", "qr_payload", "reference"],
)
def test_unmasked_id_number_is_refused_in_any_field(field):
    with pytest.raises(ReceiptError, match=field):
        make(**{field: "李春英 140431199001011234"})


def test_unmasked_phone_in_a_line_is_refused():
    with pytest.raises(ReceiptError, match=r"lines\[0\]"):
        make(lines=(ReceiptLine("联系电话", "13812345678"),))


@pytest.mark.parametrize("field", ["service_point", "item_no", "item_name", "reference"])
def test_required_fields(field):
    with pytest.raises(ReceiptError, match=field):
        make(**{field: "  "})


def test_too_long_qr_payload_is_refused():
    with pytest.raises(ReceiptError, match="qr_payload"):
        make(qr_payload="x" * 1001)


text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Nd")), max_size=30)


@given(
    item_name=text.filter(str.strip),
    agent=text,
    lines=st.lists(st.tuples(text, text), max_size=5),
    due=st.none() | st.dates(min_value=date(2000, 1, 1)),
    estimated=st.booleans(),
    queue=text,
)
def test_round_trip_through_dict(item_name, agent, lines, due, estimated, queue):
    receipt = make(
        item_name=item_name,
        agent=agent,
        lines=tuple(ReceiptLine(a, b) for a, b in lines),
        due_date=due,
        due_estimated=estimated,
        queue_number=queue,
    )
    assert Receipt.from_dict(receipt.to_dict()) == receipt


@pytest.mark.parametrize(
    "bad",
    [{}, {"submitted_at": "yesterday"}, {"lines": 5}],
)
def test_malformed_stored_dict_raises_receipt_error(bad):
    data = make().to_dict()
    data = bad if not bad else {**data, **bad}
    with pytest.raises(ReceiptError):
        Receipt.from_dict(data)


def test_machine_numbers_may_hold_long_digit_runs():
    receipt = make(reference="BJ2026112913912345678", qr_payload="https://x.invalid/r/13912345678")
    assert receipt.reference.startswith("BJ")
