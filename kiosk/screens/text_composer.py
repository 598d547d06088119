"""What the on-screen pinyin keyboard has typed: committed Chinese text, letters still being
composed, and the page of candidates for them. Pure (no Kivy), so tests drive it directly.

The resident presses letters; the candidates for those letters come from a
:class:`~kiosk.domain.pinyin_ime.PinyinIndex`; choosing one appends it to the text and drops
the letters it used (司机 uses "siji" of "sijiba", leaving "ba"). 删除 takes back a letter
while composing, else the last character. Digits go straight into the text. A *literal*
composer (a certificate number) takes letters as they are, upper-cased, and "-", with no
pinyin at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

MAX_LETTERS = 24  # longer than any phrase the index holds; more is a stuck finger


class Candidate(Protocol):
    text: str
    consumed: int


class CandidateSource(Protocol):
    def candidates(self, letters: str, limit: int = ...) -> list: ...

    def syllables(self, letters: str) -> list[str]: ...


class Composer:
    """The state of one text entry; *index* is called lazily (loading takes a moment)."""

    def __init__(
        self,
        index: Callable[[], CandidateSource],
        *,
        max_length: int,
        page_size: int = 5,
        literal: bool = False,
    ) -> None:
        self._index = index
        self.literal = literal
        self.max_length = max_length
        self.page_size = page_size
        self.text = ""
        self.letters = ""
        self.page = 0
        self._candidates: list[Candidate] = []

    # -- reading -------------------------------------------------------------------------
    @property
    def composing(self) -> bool:
        return bool(self.letters)

    def pinyin_text(self) -> str:
        """The letters as syllables ("si ji ba"), for the line above the candidates."""
        if not self.letters:
            return ""
        return " ".join(self._index().syllables(self.letters)) or self.letters

    def page_candidates(self) -> list[Candidate]:
        start = self.page * self.page_size
        return self._candidates[start : start + self.page_size]

    @property
    def has_previous_page(self) -> bool:
        return self.page > 0

    @property
    def has_next_page(self) -> bool:
        return (self.page + 1) * self.page_size < len(self._candidates)

    # -- keys ----------------------------------------------------------------------------
    def press_letter(self, letter: str) -> str:
        """A letter key; "" or the reason it was not taken (literal: the text is full)."""
        if self.literal:
            if len(letter) != 1 or not ("a" <= letter.lower() <= "z" or letter == "-"):
                raise ValueError(f"not a letter: {letter!r}")
            return self._append(letter.upper())
        if len(letter) != 1 or not ("a" <= letter <= "z"):
            raise ValueError(f"not a pinyin letter: {letter!r}")
        if len(self.letters) < MAX_LETTERS:
            self.letters += letter
            self._refresh()
        return ""

    def press_digit(self, digit: str) -> str:
        """Append *digit*; "" or the reason it was not taken."""
        if len(digit) != 1 or not digit.isdigit():
            raise ValueError(f"not a digit: {digit!r}")
        if self.letters:
            return "请先选字，再输入数字"
        return self._append(digit)

    def backspace(self) -> None:
        if self.letters:
            self.letters = self.letters[:-1]
            self._refresh()
        else:
            self.text = self.text[:-1]

    def clear(self) -> None:
        self.text = ""
        self.letters = ""
        self._refresh()

    def choose(self, position: int) -> str:
        """Take candidate *position* of the current page; "" or the reason it was not taken."""
        shown = self.page_candidates()
        if not 0 <= position < len(shown):
            return ""
        chosen = shown[position]
        problem = self._append(chosen.text)
        if not problem:
            self.letters = self.letters[max(1, chosen.consumed) :]
            self._refresh()
        return problem

    def next_page(self) -> None:
        if self.has_next_page:
            self.page += 1

    def previous_page(self) -> None:
        if self.has_previous_page:
            self.page -= 1

    def set_text(self, text: str) -> None:
        self.text = text[: self.max_length]
        self.letters = ""
        self._refresh()

    # -- internals -----------------------------------------------------------------------
    def _append(self, text: str) -> str:
        if len(self.text) + len(text) > self.max_length:
            return f"最多{self.max_length}个字"
        self.text += text
        return ""

    def _refresh(self) -> None:
        self.page = 0
        self._candidates = list(self._index().candidates(self.letters)) if self.letters else []
