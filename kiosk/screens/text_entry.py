"""An on-screen pinyin keyboard for the few fields no picker can answer (an employer's name).

The kiosk has no physical keyboard and no system input method, so Chinese is typed here: big
letter keys in alphabetical order (easier to find than QWERTY for someone who rarely types),
the letters shown as syllables, and a row of candidate words to tap. A 数字 key swaps the
letters for digits. Opened ``literal`` (a certificate number), the same keys type letters as
they are (upper-cased), digits and "-", with no pinyin. Built once and reused; :meth:`TextEntryOverlay.open` sets what is asked
and the callback that receives the text on 确定. UI thread only, except the pinyin index,
which loads on a worker thread when the overlay is built.
"""

from __future__ import annotations

import threading
from pathlib import Path

from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk.domain.pinyin_ime import PinyinIndex
from kiosk.screens.modal import AskingLayer
from kiosk.screens.text_composer import Composer
from kiosk.screens.widgets import KioskButton

KV_FILE = Path(__file__).with_suffix(".kv")

LETTER_KEYS = tuple("abcdefghijklmnopqrstuvwxyz")
DIGIT_KEYS = tuple("1234567890")
CODE_DIGIT_KEYS = (*DIGIT_KEYS, "-")  # literal mode: certificate numbers may hold a hyphen
COLUMNS = 7


class _IndexLoader:
    """Loads the pinyin index once, on a worker thread; ``get()`` waits for it if needed."""

    def __init__(self) -> None:
        self._index: PinyinIndex | None = None
        self._done = threading.Event()
        self._started = False
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._load, name="pinyin-index", daemon=True).start()

    def get(self) -> PinyinIndex:
        self.start()
        self._done.wait()
        if self._index is None:
            raise RuntimeError("pinyin index failed to load")
        return self._index

    def _load(self) -> None:
        try:
            self._index = PinyinIndex.load()
        finally:
            self._done.set()


PINYIN_INDEX = _IndexLoader()


class PinyinKey(KioskButton):
    """A letter or digit key; ``key`` is what it types ("a", "7", "back", "clear")."""

    key = StringProperty("")


class CandidateButton(KioskButton):
    """One candidate word; ``position`` on the current page."""

    position = NumericProperty(0)


class TextEntryOverlay(AskingLayer):
    """``check(text)`` returns "" or the Chinese reason the text is not accepted."""

    title = StringProperty("")
    max_length = NumericProperty(40)
    text = StringProperty("")
    pinyin = StringProperty("")
    candidates = ListProperty([])
    has_previous = BooleanProperty(False)
    has_next = BooleanProperty(False)
    digits_mode = BooleanProperty(False)
    literal = BooleanProperty(False)  # letters as typed (a code), no pinyin
    page_size = NumericProperty(5)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        PINYIN_INDEX.start()
        self.composer = Composer(PINYIN_INDEX.get, max_length=40)
        self._build_keys()

    def key(self, label: str):
        """The key widget labelled *label* (a letter, digit, 删除 or 清空) — for tests."""
        for child in self.ids.key_grid.children:
            if child.key == label or child.text == label:
                return child
        raise KeyError(label)

    def on_digits_mode(self, *_args) -> None:
        self._build_keys()

    def on_candidates(self, *_args) -> None:
        row = self.ids.candidate_row
        row.clear_widgets()
        for position, text in enumerate(self.candidates):
            button = CandidateButton(text=text, position=position)
            button.bind(on_release=lambda b: self.choose(b.position))
            row.add_widget(button)
        for _ in range(int(self.page_size) - len(self.candidates)):
            row.add_widget(Widget())  # keeps the candidates where the finger expects them

    def _build_keys(self) -> None:
        grid = self.ids.key_grid
        grid.clear_widgets()
        labels = [(k, k.upper()) for k in self.key_labels()]
        labels += [("back", "删除"), ("clear", "清空")]
        for key, text in labels:
            button = PinyinKey(text=text, key=key)
            button.bind(on_release=lambda b: self.press(b.key))
            grid.add_widget(button)

    def open(
        self, *, title, value, max_length, check, on_done, on_close, literal: bool = False
    ) -> None:
        self.title = title
        self.max_length = max_length
        self.literal = literal
        self.digits_mode = False
        self._build_keys()
        self.composer = Composer(
            PINYIN_INDEX.get,
            max_length=int(max_length),
            page_size=int(self.page_size),
            literal=literal,
        )
        self.composer.set_text(value)
        self.ask(on_done=on_done, on_close=on_close, check=check)
        self._show()

    # -- keys ----------------------------------------------------------------------------
    def press(self, key: str) -> None:
        """A key: a letter, a digit, "back", "clear" or "mode" (letters ↔ digits)."""
        self.error = ""
        if key == "back":
            self.composer.backspace()
        elif key == "clear":
            self.composer.clear()
        elif key == "mode":
            self.digits_mode = not self.digits_mode
        elif key.isdigit():
            self.error = self.composer.press_digit(key)
        else:
            self.error = self.composer.press_letter(key)
        self._show()

    def choose(self, position: int) -> None:
        self.error = self.composer.choose(position)
        self._show()

    def next_page(self) -> None:
        self.composer.next_page()
        self._show()

    def previous_page(self) -> None:
        self.composer.previous_page()
        self._show()

    def confirm(self) -> None:
        if self.composer.composing:
            self.error = "还有拼音没有选字：请点上面的字，或按“删除”"
            return
        self.answer(self.composer.text.strip())

    def forget(self) -> None:
        self.composer.clear()
        self._show()

    # -- drawing -------------------------------------------------------------------------
    def key_labels(self) -> tuple[str, ...]:
        if self.digits_mode:
            return CODE_DIGIT_KEYS if self.literal else DIGIT_KEYS
        return LETTER_KEYS

    def _show(self) -> None:
        composer = self.composer
        self.text = composer.text
        self.pinyin = composer.pinyin_text()
        self.candidates = [c.text for c in composer.page_candidates()]
        self.has_previous = composer.has_previous_page
        self.has_next = composer.has_next_page
