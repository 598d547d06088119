"""The pinyin keyboard's state, driven key by key with the real packaged pinyin index."""

from __future__ import annotations

import functools

import pytest

from kiosk.domain.pinyin_ime import PinyinIndex
from kiosk.screens.text_composer import MAX_LETTERS, Composer


@functools.cache
def index() -> PinyinIndex:
    return PinyinIndex.load()


def composer(max_length: int = 40, page_size: int = 5) -> Composer:
    return Composer(index, max_length=max_length, page_size=page_size)


def type_letters(c: Composer, letters: str) -> None:
    for letter in letters:
        c.press_letter(letter)


def choose_text(c: Composer, text: str) -> None:
    """Page through the candidates until *text* shows, then take it."""
    for _ in range(40):
        shown = [candidate.text for candidate in c.page_candidates()]
        if text in shown:
            assert c.choose(shown.index(text)) == ""
            return
        assert c.has_next_page, f"{text} never offered"
        c.next_page()
    raise AssertionError(f"{text} not within 40 pages")


def test_a_word_takes_its_letters_and_leaves_the_rest_composing():
    c = composer()
    type_letters(c, "sijiba")
    assert c.pinyin_text() == "si ji ba"
    choose_text(c, "司机")
    assert (c.text, c.letters) == ("司机", "ba")
    assert c.composing


def test_whole_name_typed_word_by_word():
    c = composer()
    for letters, word in (("wangjia", "王家"), ("xiao", "小"), ("yuan", "院")):
        type_letters(c, letters)
        choose_text(c, word)
    assert c.text == "王家小院"
    assert not c.composing and c.page_candidates() == []


def test_backspace_takes_back_a_letter_then_a_character():
    c = composer()
    c.set_text("沁源")
    type_letters(c, "xi")
    c.backspace()
    assert (c.text, c.letters) == ("沁源", "x")
    c.backspace()
    c.backspace()
    assert (c.text, c.letters) == ("沁", "")


def test_digits_go_into_the_text_only_when_nothing_is_composing():
    c = composer()
    assert c.press_digit("3") == ""
    type_letters(c, "hao")
    assert c.press_digit("4") == "请先选字，再输入数字"
    assert c.text == "3"


def test_the_length_limit_refuses_a_word_that_would_pass_it():
    c = composer(max_length=3)
    c.set_text("王家")
    type_letters(c, "xiaoyuan")
    assert c.choose(0) == "最多3个字"
    assert c.text == "王家" and c.letters == "xiaoyuan"


def test_pages_move_within_the_candidates():
    c = composer(page_size=3)
    type_letters(c, "shi")
    first = [x.text for x in c.page_candidates()]
    assert len(first) == 3 and not c.has_previous_page and c.has_next_page
    c.next_page()
    assert [x.text for x in c.page_candidates()] != first
    c.previous_page()
    assert [x.text for x in c.page_candidates()] == first
    c.press_letter("i")  # new letters start from the first page again
    assert c.page == 0


def test_a_stuck_finger_stops_at_the_letter_limit_and_bad_keys_raise():
    c = composer()
    type_letters(c, "a" * (MAX_LETTERS + 10))
    assert len(c.letters) == MAX_LETTERS
    with pytest.raises(ValueError):
        c.press_letter("A")
    with pytest.raises(ValueError):
        c.press_digit("x")


def test_a_literal_composer_types_a_certificate_number_as_it_is():
    """Certificate numbers hold letters (S/Y prefixes): typed as they are, upper-cased, with
    digits and "-", never turned into pinyin."""
    c = Composer(index, max_length=8, literal=True)
    for key in "s0":
        assert (c.press_letter(key) if key.isalpha() else c.press_digit(key)) == ""
    assert c.press_letter("-") == ""
    for digit in "1404":
        c.press_digit(digit)
    assert (c.text, c.letters, c.composing, c.page_candidates()) == ("S0-1404", "", False, [])
    assert c.press_letter("y") == "" and c.text == "S0-1404Y"
    assert c.press_letter("z") == "最多8个字"  # full: refused, said so
    c.backspace()
    assert c.text == "S0-1404"
    with pytest.raises(ValueError):
        c.press_letter("1")
