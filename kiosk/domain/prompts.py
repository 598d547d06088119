"""The voice prompts as data: the prompt table, the catalogue's spoken titles, and the read-aloud
composer that decides which prompts a screen says.

A prompt is a fixed sentence with a key (``take_receipt`` → 凭条已打印，请取走凭条。). Screens and
events ask for prompts by key only; nothing ever turns text shown on a screen into speech, so a
name, an ID number, an amount, an address or a phone number on the screen cannot be spoken.
Two guards hold this up:

* :func:`load_prompt_table` refuses a sentence holding digits, Latin letters or masking
  characters (every ID number, phone number, amount and masked value is written with them);
* :func:`compose` takes a :class:`ScreenSpeech` — a title *key* and guidance *keys* — and returns
  keys; a screen cannot hand it a string to say, and the voice service says only keys that are
  in the table.

The spoken titles (``item_<no>``, ``category_<n>``) are the catalogue's own item and category
names (:func:`catalogue_titles`), public texts of 附件2. Pure: no I/O except reading the table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from kiosk.domain.tomlfile import TomlFileError, load_toml_file

PROMPT_FILE_NAME = "prompts.toml"
KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,47}")
# Digits (ASCII and full width), Latin letters (the voice would read them as pinyin) and the
# characters values are masked with: no fixed sentence needs them, every personal value has them.
_NOT_SPEAKABLE = re.compile(r"[0-9０-９A-Za-zＡ-Ｚａ-ｚ*＊×#＃@＠]")
MAX_TEXT_CHARS = 80


class PromptTableError(ValueError):
    """The prompt table cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Prompt:
    key: str
    text: str


class PromptTable(Mapping[str, Prompt]):
    """Key → :class:`Prompt`, in the order the table lists them (catalogue titles last)."""

    def __init__(self, prompts: Iterable[Prompt]) -> None:
        self._prompts = {prompt.key: prompt for prompt in prompts}

    def __getitem__(self, key: str) -> Prompt:
        return self._prompts[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._prompts)

    def __len__(self) -> int:
        return len(self._prompts)

    def text(self, key: str) -> str:
        return self._prompts[key].text

    def with_titles(self, titles: Mapping[str, str]) -> PromptTable:
        """This table plus *titles* (key → text), each checked like a prompt."""
        extra = [_checked(key, text, "catalogue") for key, text in titles.items()]
        clash = [p.key for p in extra if p.key in self._prompts]
        if clash:
            raise PromptTableError(f"catalogue titles reuse prompt keys: {', '.join(clash)}")
        return PromptTable([*self._prompts.values(), *extra])


def unspeakable(text: str) -> str | None:
    """Why *text* may not be a prompt (digits, Latin letters, masking characters, too long),
    or None when it may."""
    found = _NOT_SPEAKABLE.search(text)
    if found:
        return f"holds {found.group()!r} (digits, Latin letters and masks are never spoken)"
    if len(text) > MAX_TEXT_CHARS:
        return f"longer than {MAX_TEXT_CHARS} characters"
    if not text.strip():
        return "empty"
    return None


def _checked(key: str, text: object, source: str) -> Prompt:
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise PromptTableError(f"{source}: key {key!r} must be lower-case letters, digits and _")
    if not isinstance(text, str):
        raise PromptTableError(f"{source}: {key} must be a string")
    problem = unspeakable(text)
    if problem:
        raise PromptTableError(f"{source}: {key} = {text!r} {problem}")
    return Prompt(key, text)


def load_prompt_table(path: str | Path) -> PromptTable:
    """The ``[prompts]`` table of *path*; raises :class:`PromptTableError` naming file and key."""
    try:
        document = load_toml_file(path)
    except TomlFileError as exc:
        raise PromptTableError(f"{path}: {exc}") from None
    prompts = document.get("prompts")
    if not isinstance(prompts, dict) or not prompts:
        raise PromptTableError(f"{path}: no [prompts] table")
    return PromptTable(_checked(key, text, str(path)) for key, text in prompts.items())


def item_title(item_no: int) -> str:
    """The key of catalogue item *item_no*'s spoken name."""
    return f"item_{item_no}"


def category_title(position: int) -> str:
    """The key of the spoken name of the catalogue's *position*-th category (from 1)."""
    return f"category_{position}"


def catalogue_titles(catalogue) -> dict[str, str]:
    """Key → text of every category and item name (a :class:`~kiosk.domain.catalogue.
    Catalogue`): the titles 朗读 says before a screen's guidance."""
    titles = {
        category_title(position): _spoken(category.name)
        for position, category in enumerate(catalogue.categories(), start=1)
    }
    titles.update({item_title(item.no): _spoken(item.name) for item in catalogue.items})
    return titles


def _spoken(name: str) -> str:
    """A catalogue name as it is said: 暂停/恢复 → 暂停、恢复 (a slash would be read out)."""
    return name.replace("/", "、").replace("／", "、")


@dataclass(frozen=True)
class ScreenSpeech:
    """What a screen may say, as prompt keys: its title, its guidance (said when the screen
    opens, and by 朗读), and details only 朗读 adds (how to use each way to identify).

    Keys only — a screen has no way to hand the composer text it shows.
    """

    title: str = ""
    guidance: tuple[str, ...] = ()
    details: tuple[str, ...] = ()


def compose(speech: ScreenSpeech, *, read_aloud: bool) -> tuple[str, ...]:
    """The prompt keys to say for *speech*: the guidance when a screen opens; title, guidance
    and details when the resident taps 朗读 (*read_aloud*). The voice service says only keys
    of the prompt table (an unknown one is logged and skipped)."""
    if read_aloud:
        return ((speech.title,) if speech.title else ()) + speech.guidance + speech.details
    return tuple(speech.guidance)
