"""The 40-item catalogue (附件2): counts, time limits, materials, and hard validation of the file."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.domain.catalogue import (
    CATEGORIES,
    Catalogue,
    CatalogueError,
    ServiceItem,
    default_catalogue_path,
    load_catalogue,
    parse_catalogue,
)

KIOSK_ITEMS = [*range(1, 16), 22, 23, 25, 26, 27, 33, 36]
# DOMAIN.md "Time limits": every item not listed is 即时办结.
WORKING_DAY_LIMITS = {
    10: 5,
    11: 10,
    18: 5,
    21: 3,
    22: 5,
    23: 5,
    24: 1,
    37: 1,
    28: 2,
    29: 2,
    31: 2,
    32: 2,
    34: 2,
    35: 2,
}
SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "000_74b0ccd137ad4942.txt"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def test_forty_items_numbered_one_to_forty(catalogue):
    assert len(catalogue) == 40
    assert [item.no for item in catalogue.items] == list(range(1, 41))


def test_category_counts_and_order(catalogue):
    categories = catalogue.categories()
    assert tuple(c.name for c in categories) == CATEGORIES
    assert [len(c.items) for c in categories] == [15, 4, 18, 3]
    assert [i.no for i in categories[1].items] == [16, 17, 18, 19]
    assert [i.no for i in categories[3].items] == [38, 39, 40]


def test_kiosk_runs_exactly_the_22_self_service_items(catalogue):
    assert [item.no for item in catalogue.kiosk_items()] == KIOSK_ITEMS
    assert len(catalogue.counter_items()) == 18
    for item in catalogue.items:
        assert item.kiosk_runs == ("自助机" in item.channels)
        assert item.channels in (("柜面", "自助机"), ("柜面",))


@pytest.mark.parametrize("no", range(1, 41))
def test_time_limit_of_each_item(catalogue, no):
    item = catalogue.item(no)
    expected = WORKING_DAY_LIMITS.get(no, 0)
    assert item.time_limit_days == expected
    if expected == 0:
        assert item.time_limit_text == "即时办结"
        assert item.is_instant
    else:
        assert item.time_limit_text.startswith(f"{expected}个工作日")


def test_item_18_keeps_the_seed_wording(catalogue):
    assert catalogue.item(18).time_limit_text == "5个工作日内办结"
    assert catalogue.item(11).time_limit_text == "10个工作日"


def test_materials_follow_the_conditions(catalogue):
    for item in catalogue.items:
        if item.no in (28, 29):
            assert (item.materials, item.materials_rule) == (("身份证", "户口本"), "all")
        elif item.no in (34, 38, 39):
            assert (item.materials, item.materials_rule) == (("身份证", "社保卡"), "all")
        elif item.no == 40:
            assert (item.materials, item.materials_rule) == (("身份证",), "all")
        else:
            assert (item.materials, item.materials_rule) == (("身份证", "社保卡"), "any"), item.no


def test_item_21_keeps_the_on_site_form(catalogue):
    assert "《资格认证告知承诺书》" in catalogue.item(21).conditions


def test_anonymous_items_are_public_information_only(catalogue):
    assert [i.no for i in catalogue.items if i.anonymous] == [3, 6, 12, 14, 15]
    assert all(i.kiosk_runs for i in catalogue.items if i.anonymous)


def test_empty_target_cells_are_carried_down_within_their_category(catalogue):
    carried = [i.no for i in catalogue.items if i.targets_carried]
    assert carried == [2, 3, 4, 5, 6, 8, 9, 17, 18, 19, 30, 31, 35, 37]
    for no in carried:
        item, above = catalogue.item(no), catalogue.item(no - 1)
        assert item.category == above.category
        assert item.targets == above.targets
    assert catalogue.item(2).targets == "有就业意愿、有劳动能力的劳动者"
    assert catalogue.item(9).targets == "需要找零工的用工人员或单位"


def test_names_spot_check(catalogue):
    assert catalogue.item(1).name == "固定工求职登记"
    assert catalogue.item(14).name == "招聘会信息查询"
    assert catalogue.item(23).name == "失业保险金申领"
    assert catalogue.item(38).name == "社会保障卡启用"
    assert catalogue.item(40).category == "我要办社保卡"


def test_unknown_item_raises_key_error(catalogue):
    with pytest.raises(KeyError):
        catalogue.item(41)


@pytest.mark.skipif(not SEED.exists(), reason="seed document not beside the repository")
def test_text_is_transcribed_verbatim_from_the_seed(catalogue):
    """Every text cell, with the seed's in-cell line breaks removed, occurs in 附件2 in order."""
    seed = re.sub(r"\s+", "", SEED.read_text(encoding="utf-8"))
    table = seed[seed.index("附件2") : seed.index("附件3")]
    position = 0
    for item in catalogue.items:
        for text in (item.name, item.content):
            found = table.find(text, position)
            assert found >= 0, (item.no, text)
            position = found
        for text in (item.targets, item.conditions, item.time_limit_text):
            assert text in table, (item.no, text)
        assert "、".join(item.channels) in table


# ---- malformed files -------------------------------------------------------------------------

GOOD_ITEM = {
    "no": 1,
    "category": "我要找工作",
    "name": "固定工求职登记",
    "content": "登记固定工求职者的基本信息和求职意向。",
    "channels": ["柜面", "自助机"],
    "targets": "劳动者",
    "conditions": "需本人携带身份证或社保卡",
    "time_limit_text": "即时办结",
    "time_limit_days": 0,
    "basis": ["《中华人民共和国就业促进法》"],
}


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON strings are valid TOML basic strings
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(value)


def write_items(path: Path, *items: dict) -> Path:
    blocks = [
        "[[item]]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in item.items())
        for item in items
    ]
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


def item_with(**changes) -> dict:
    item = dict(GOOD_ITEM)
    for key, value in changes.items():
        if value is None:
            item.pop(key)
        else:
            item[key] = value
    return item


def test_a_minimal_good_file_loads(tmp_path):
    catalogue = load_catalogue(write_items(tmp_path / "c.toml", GOOD_ITEM))
    assert isinstance(catalogue.item(1), ServiceItem)
    assert catalogue.item(1).kiosk_runs


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"colour": "red"}, "colour", "unknown key"),
        ({"name": None}, "name", "missing"),
        ({"time_limit_days": None}, "time_limit_days", "missing"),
        ({"channels": "柜面"}, "channels", "expected list"),
        ({"time_limit_days": "0"}, "time_limit_days", "expected int"),
        ({"time_limit_days": True}, "time_limit_days", "expected int"),
        ({"anonymous": "yes"}, "anonymous", "expected bool"),
        ({"name": "  "}, "name", "must not be empty"),
        ({"category": "我要找对象"}, "category", "not one of"),
        ({"channels": ["柜面", "手机"]}, "channels", "not one of"),
        ({"channels": []}, "channels", "at least one"),
        ({"channels": ["柜面", "柜面"]}, "channels", "twice"),
        ({"channels": ["柜面", 3]}, "channels", "not one of"),
        ({"time_limit_days": 5}, "time_limit_days", "disagrees"),
        ({"time_limit_text": "5个工作日", "time_limit_days": 3}, "time_limit_days", "disagrees"),
        ({"time_limit_text": "尽快"}, "time_limit_text", "neither"),
        ({"time_limit_text": "0个工作日"}, "time_limit_text", "neither"),
        ({"conditions": "需本人携带护照"}, "conditions", "no known document"),
        ({"conditions": "无"}, "conditions", "no known document"),
        ({"basis": None}, "basis", "missing"),
        ({"basis": []}, "basis", "non-empty list"),
        ({"basis": ["  "]}, "basis", "non-empty list"),
        ({"procedure": ["核验身份"]}, "procedure", "generated from its definition"),
        ({"channels": ["柜面"]}, "procedure", "missing"),  # a counter item writes its steps
        ({"channels": ["柜面"], "procedure": ["到柜台", 3]}, "procedure", "non-empty list"),
    ],
)
def test_malformed_item_names_file_item_and_field(tmp_path, changes, field, words):
    path = write_items(tmp_path / "bad.toml", item_with(**changes))
    with pytest.raises(CatalogueError) as info:
        load_catalogue(path)
    message = str(info.value)
    assert str(path) in message
    assert "item 1" in message
    assert f"field '{field}'" in message
    assert words in message
    assert (info.value.no, info.value.field) == (1, field)


def test_duplicate_number_is_rejected(tmp_path):
    path = write_items(tmp_path / "dup.toml", GOOD_ITEM, item_with(name="另一项"))
    with pytest.raises(CatalogueError, match=r"item 1: field 'no': duplicate"):
        load_catalogue(path)


@pytest.mark.parametrize("no", ["1", 0, -3, True, None])
def test_bad_item_number_is_named(tmp_path, no):
    path = write_items(tmp_path / "no.toml", item_with(no=no))
    with pytest.raises(CatalogueError, match=r"field 'no'"):
        load_catalogue(path)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[[item]\nno = 1", "invalid TOML"),
        ("", "no [[item]] tables"),
        ("item = 3", "no [[item]] tables"),
        ("version = 2\n[[item]]\nno = 1", "unknown top-level"),
    ],
)
def test_broken_files(tmp_path, text, words):
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError, match=re.escape(words)) as info:
        load_catalogue(path)
    assert str(path) in str(info.value)


def test_not_utf8_and_missing_file(tmp_path):
    path = tmp_path / "gbk.toml"
    path.write_bytes('[[item]]\nname = "固定工"\n'.encode("gbk"))
    with pytest.raises(CatalogueError, match="not UTF-8"):
        load_catalogue(path)
    with pytest.raises(CatalogueError, match="cannot read file"):
        load_catalogue(tmp_path / "absent.toml")


def test_packaged_file_with_one_field_broken_names_that_item(tmp_path):
    """GIVEN the real catalogue WHEN item 23's channel is mistyped THEN item 23 is named."""
    text = default_catalogue_path().read_text(encoding="utf-8")
    start = text.index("no = 23\n")
    end = text.index("[[item]]", start)
    broken = text[:start] + text[start:end].replace('"自助机"', '"自助"') + text[end:]
    path = tmp_path / "catalogue.toml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"item 23: field 'channels'"):
        load_catalogue(path)


FIELD_VALUES = st.one_of(
    st.integers(-5, 50),
    st.booleans(),
    st.text(max_size=12),
    st.sampled_from(["柜面", "自助机", "即时办结", "5个工作日", *CATEGORIES]),
    st.lists(st.sampled_from(["柜面", "自助机", "x", ""]), max_size=3),
    st.none(),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from([*GOOD_ITEM, "anonymous", "targets_carried", "extra"]),
            FIELD_VALUES,
        ).map(lambda d: {**GOOD_ITEM, **{k: v for k, v in d.items() if v is not None}}),
        max_size=3,
    )
)
def test_any_document_loads_or_raises_catalogue_error(entries):
    """Property: whatever the entries hold, parsing yields a catalogue or a CatalogueError."""
    try:
        catalogue = parse_catalogue({"item": entries}, "prop.toml")
    except CatalogueError as exc:
        assert "prop.toml" in str(exc)
    else:
        assert len(catalogue) == len(entries)
        for item in catalogue.items:
            assert item.time_limit_days >= 0
            assert item.category in CATEGORIES


def test_packaged_file_is_plain_data():
    """The catalogue is one TOML file of [[item]] tables and nothing else."""
    document = tomllib.loads(default_catalogue_path().read_text(encoding="utf-8"))
    assert list(document) == ["item"]
    assert len(document["item"]) == 40


def test_every_item_publishes_its_basis_and_procedure():
    """附件4 line 12 (办事程序公开、办事依据公开): all 40 items, counter items' steps written,
    kiosk items' steps generated from the definitions that run them."""
    from kiosk.domain.items.procedure import ANONYMOUS, IDENTIFY, load_published_catalogue

    published = load_published_catalogue()
    for item in published.items:
        assert item.basis[-1] == "沁源县就业社保服务事项清单（40项）", item.no
        assert len(item.procedure) >= 3, item.no
        assert "《" in "".join(item.basis) or item.no in (15, 38, 39, 40), item.no
        if item.kiosk_runs:
            assert item.procedure[0] == (ANONYMOUS if item.anonymous else IDENTIFY)
        if not item.is_instant:
            assert any(item.time_limit_text in step for step in item.procedure), item.no
    assert published.item(23).basis[:2] == (
        "《中华人民共和国社会保险法》第四十五条",
        "《失业保险条例》第十四条",
    )
    assert "人社部发〔2017〕40号" in published.item(22).basis[0]
    assert published.item(8).procedure[1] == "须先办理“招聘零工登记”（可在本机办理）"
    assert "查看当前月待遇项目组成明细" in published.item(26).procedure
    assert "临时挂失" in published.item(40).procedure[0]
