"""The pinyin input core: matching, order, consumed counts, coverage of GB2312, speed of load."""

from __future__ import annotations

import time
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.domain.pinyin_ime import PREFIXES, SYLLABLES, Candidate, PinyinIndex, bucket_key

DATA = resources.files("kiosk.domain.data").joinpath("pinyin_words.txt")
GB2312_LEVEL1 = 3755
TOWNS_OF_QINYUAN = {  # 中峪 (zhongyu) comes second, after 终于, and that is right
    "qinyuan": "沁源",
    "qinhe": "沁河",
    "chengguan": "城关",
    "guodao": "郭道",
    "lingkongshan": "灵空山",
    "wanghe": "王和",
    "liyuan": "李元",
    "fazhong": "法中",
    "jiaokou": "交口",
    "congziyu": "聪子峪",
    "hanhong": "韩洪",
    "chishiqiao": "赤石桥",
    "guantan": "官滩",
}


@pytest.fixture(scope="module")
def index() -> PinyinIndex:
    return PinyinIndex.load()


def texts(cands: list[Candidate]) -> list[str]:
    return [c.text for c in cands]


def gb2312_level1() -> list[str]:
    chars = []
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.append(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def data_rows() -> list[tuple[str, tuple[str, ...], int, str]]:
    """(text, syllables, frequency, group) of every row, read without the module's loader."""
    rows, key = [], None
    for line in DATA.read_text("utf-8").splitlines():
        if line.startswith("#"):
            continue
        if line.startswith("@"):
            key = line[1:]
            continue
        text, pinyin, freq = line.split("\t")
        rows.append((text, tuple(pinyin.split()), int(freq), key))
    return rows


# --- the order the brief asks for -------------------------------------------------------------


def test_full_pinyin_puts_siji_first(index):
    cands = index.candidates("siji")
    assert cands[0] == Candidate("司机", 4)


def test_initials_find_siji_among_first_five(index):
    assert "司机" in texts(index.candidates("sj")[:5])
    assert all(c.consumed == 2 for c in index.candidates("sj") if len(c.text) == 2)


@pytest.mark.parametrize(("letters", "word"), sorted(TOWNS_OF_QINYUAN.items()))
def test_the_towns_of_qinyuan_come_first_when_spelled_out(index, letters, word):
    cands = index.candidates(letters)
    assert cands[0] == Candidate(word, len(letters)), texts(cands[:5])


def test_a_town_that_shares_its_pinyin_with_a_common_word(index):
    assert texts(index.candidates("zhongyu")[:2]) == ["终于", "中峪"]
    assert "中峪" in texts(index.candidates("zhongy")[:5])


@pytest.mark.parametrize(
    ("letters", "word", "top"),
    [
        ("diangong", "电工", 1),
        ("baojie", "保洁", 1),
        ("youxiangongsi", "有限公司", 1),
        ("yxgs", "有限公司", 1),
        ("hezuoshe", "合作社", 1),
        ("hzs", "合作社", 1),
        ("yangzhichang", "养殖场", 1),
        ("jiazheng", "家政", 1),
        ("jianzhudui", "建筑队", 1),
        ("jzd", "建筑队", 3),
        ("qy", "沁源", 3),
        ("dg", "电工", 5),
    ],
)
def test_employer_and_job_words(index, letters, word, top):
    assert word in texts(index.candidates(letters)[:top])


def test_mixed_and_unfinished_syllables(index):
    """GIVEN 司机 typed four ways WHEN looked up THEN it is offered and uses all the letters."""
    for letters in ("siji", "sij", "sji", "sj"):
        assert Candidate("司机", len(letters)) in index.candidates(letters)[:10], letters
    assert Candidate("世界", 4) in index.candidates("shij")[:5]
    assert Candidate("时间", 4) in index.candidates("shij")[:5]
    # an unfinished last syllable: "zhon" is not a syllable, only the start of zhong
    assert "中" in texts(index.candidates("zhon")[:5])
    assert "中国" in texts(index.candidates("zhongg")[:5])


def test_spelled_out_syllables_come_before_longer_ones(index):
    xian = texts(index.candidates("xian", limit=300))
    assert xian.index("先") < xian.index("想")  # 想 is xiang: "xian" only starts it
    zhan = texts(index.candidates("zhan", limit=300))
    assert zhan.index("站") < zhan.index("张") < zhan.index("治安")  # zh'an comes last
    assert "西安" in xian[:20]  # xi'an uses all the letters too


def test_u_umlaut_is_typed_v(index):
    assert {"绿", "律", "旅", "女"} <= set(
        texts(index.candidates("lv")) + texts(index.candidates("nv"))
    )
    assert "绿" in texts(index.candidates("lv")[:5])
    assert "律师" in texts(index.candidates("lvshi")[:3])
    assert "略" in texts(index.candidates("lve")[:3])
    assert "居住" in texts(index.candidates("jvzhu")[:3])  # jv is read as ju (= jü)


def test_a_leading_part_is_offered_after_the_whole(index):
    """GIVEN sijiba WHEN looked up THEN 司机 uses 4 letters, then single characters use 2."""
    cands = index.candidates("sijiba")
    assert index.syllables("sijiba") == ["si", "ji", "ba"]
    assert cands[0] == Candidate("司机", 4)
    consumed = [c.consumed for c in cands]
    assert consumed == sorted(consumed, reverse=True)
    assert set(consumed) <= {6, 4, 2}
    assert Candidate("四", 2) in cands


def test_single_characters_of_the_first_syllable_survive_the_limit(index):
    for letters in ("sijiba", "zhongguoren", "sjbz", "youxiangongsi"):
        first = len(index.syllables(letters)[0])
        cands = index.candidates(letters, limit=12)
        assert len(cands) == 12
        singles = [c for c in cands if c.consumed == first and len(c.text) == 1]
        assert len(singles) >= 4, (letters, cands)
    assert Candidate("四", 2) in index.candidates("sijiba", limit=12)


def test_limit_is_respected(index):
    assert len(index.candidates("s", limit=5)) == 5
    assert index.candidates("s", limit=0) == []
    assert len(index.candidates("s", limit=1000)) > 60


# --- segmentation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("letters", "pieces"),
    [
        ("sijiba", ["si", "ji", "ba"]),
        ("sj", ["s", "j"]),
        ("shij", ["shi", "j"]),
        ("xian", ["xian"]),
        ("jiangong", ["jian", "gong"]),
        ("qinyuan", ["qin", "yuan"]),
        ("lvshi", ["lv", "shi"]),
        ("jvzhu", ["jv", "zhu"]),
        ("zhon", ["zhon"]),
        ("", []),
    ],
)
def test_syllables(index, letters, pieces):
    assert index.syllables(letters) == pieces


# --- input checks -----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["Siji", "si ji", "si'ji", "si1", "ü", "lü", "司机", "\n", "-"])
def test_anything_but_lowercase_letters_is_refused(index, bad):
    with pytest.raises(ValueError):
        index.candidates(bad)
    with pytest.raises(ValueError):
        index.syllables(bad)


def test_letters_that_begin_no_syllable_give_nothing(index):
    assert index.candidates("") == []
    assert index.candidates("i") == []
    assert index.candidates("uuu") == []
    assert index.syllables("ia") == ["i", "a"]


# --- the data ---------------------------------------------------------------------------------


def test_every_gb2312_level1_character_is_reachable_by_each_of_its_readings(index):
    level1 = gb2312_level1()
    assert len(level1) == GB2312_LEVEL1
    readings: dict[str, set[str]] = {}
    for text, syllables, _, _ in data_rows():
        if len(text) == 1:
            readings.setdefault(text, set()).add(syllables[0])
    missing = [ch for ch in level1 if ch not in readings]
    assert not missing
    offered: dict[str, set[str]] = {}
    for reading in {r for ch in level1 for r in readings[ch]}:
        offered[reading] = set(texts(index.candidates(reading, limit=100_000)))
    unreachable = [(ch, r) for ch in level1 for r in readings[ch] if ch not in offered[r]]
    assert not unreachable


def test_known_readings_and_heteronyms():
    rows = {(text, syllables) for text, syllables, _, _ in data_rows()}
    for text, pinyin in [
        ("绿", "lv"),
        ("长", "chang"),
        ("长", "zhang"),
        ("行", "xing"),
        ("行", "hang"),
        ("重", "zhong"),
        ("重", "chong"),
        ("峪", "yu"),
        ("嗯", "en"),
        ("银行", "yin hang"),
        ("重庆", "chong qing"),
        ("长治", "chang zhi"),
        ("沁源", "qin yuan"),
    ]:
        assert (text, tuple(pinyin.split())) in rows, text


def test_data_file_is_well_formed_and_within_budget():
    raw = DATA.read_bytes()
    assert len(raw) <= 2_000_000
    assert b"jieba" in raw[:1000] and b"pypinyin" in raw[:1000] and b"MIT" in raw[:1000]
    for text, syllables, freq, key in data_rows():
        assert 1 <= len(text) <= 4 and len(syllables) == len(text)
        assert set(syllables) <= SYLLABLES, text
        assert freq >= 1 and key == bucket_key(syllables)
    licence = resources.files("kiosk.domain.data").joinpath("LICENSE.pinyin-data.txt")
    assert "Sun Junyi" in licence.read_text("utf-8") and "mozillazg" in licence.read_text("utf-8")


def test_every_syllable_has_a_character(index):
    for syllable in SYLLABLES:
        cands = index.candidates(syllable)
        assert any(c.consumed == len(syllable) and len(c.text) == 1 for c in cands), syllable


def test_a_malformed_file_is_refused(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("# only a comment\n", "utf-8")
    with pytest.raises(ValueError):
        PinyinIndex.load(path)
    path.write_text("@s'j\n司机\tsi ji\tmany\n", "utf-8")
    with pytest.raises(ValueError):
        PinyinIndex.load(path).candidates("sj")
    path.write_text("@s'j\n司机\tshi ji\t5\n", "utf-8")  # filed under the wrong group
    with pytest.raises(ValueError):
        PinyinIndex.load(path).candidates("sj")


def test_a_small_list_given_by_path(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("# test\n@s\n四\tsi\t5\n@sh\n是\tshi\t9\n@s'j\n司机\tsi ji\t3\n", "utf-8")
    index = PinyinIndex.load(path)
    assert index.candidates("siji") == [Candidate("司机", 4), Candidate("四", 2)]
    assert index.candidates("s") == [Candidate("是", 1), Candidate("四", 1)]


def test_load_is_fast():
    started = time.perf_counter()
    PinyinIndex.load()
    assert time.perf_counter() - started < 0.4


# --- properties -------------------------------------------------------------------------------

SYLLABLE_LIST = sorted(SYLLABLES)
prefix_of_a_syllable = st.sampled_from(SYLLABLE_LIST).flatmap(
    lambda s: st.integers(1, len(s)).map(lambda n: s[:n])
)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", max_size=16))
def test_candidates_never_consume_more_than_typed(index, letters):
    cands = index.candidates(letters)
    assert len(cands) <= 60
    assert len({c.text for c in cands}) == len(cands)
    for c in cands:
        assert 1 <= c.consumed <= len(letters)
    assert "".join(index.syllables(letters)) == letters


@settings(max_examples=300, deadline=None)
@given(st.lists(prefix_of_a_syllable, min_size=1, max_size=5))
def test_never_empty_for_valid_syllable_prefixes(index, pieces):
    letters = "".join(pieces)
    assert pieces[0] in PREFIXES
    cands = index.candidates(letters)
    assert cands
    first = len(index.syllables(letters)[0])
    assert any(c.consumed == first and len(c.text) == 1 for c in cands)
