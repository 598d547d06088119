"""The 40-item service catalogue (附件2), loaded from ``kiosk/domain/data/catalogue.toml``.

The catalogue is data, not code: :func:`load_catalogue` reads one TOML file of ``[[item]]``
tables, validates every field hard and returns an immutable :class:`Catalogue`. A malformed file
raises :class:`CatalogueError` whose message names the file, the item number and the field, so a
site that edits the file sees exactly what to fix; the kiosk refuses to start on it.

Pure apart from reading that one file; safe to call from any thread.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from kiosk.domain.tomlfile import TomlFileError, load_toml_file

CATEGORIES = ("我要找工作", "我要学技能", "我要办社保", "我要办社保卡")
CHANNELS = ("柜面", "自助机")
KIOSK_CHANNEL = "自助机"
INSTANT_TEXT = "即时办结"
DOCUMENTS = ("身份证", "社保卡", "户口本")
MATERIALS_ANY = "any"
MATERIALS_ALL = "all"
# 附件5: the county answers 业务指导性问题 by business line (就业 / 社保 / 社保卡), each with its
# designated staff (指定业务骨干); an item's line follows its 业务类型.
BUSINESS_LINES = {"employment": "就业", "social_insurance": "社保", "card": "社保卡"}
_CATEGORY_LINES = {
    "我要找工作": "employment",
    "我要学技能": "employment",
    "我要办社保": "social_insurance",
    "我要办社保卡": "card",
}

_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "no": int,
    "category": str,
    "name": str,
    "content": str,
    "channels": list,
    "targets": str,
    "conditions": str,
    "time_limit_text": str,
    "time_limit_days": int,
    "basis": list,
}
_OPTIONAL: dict[str, type] = {"targets_carried": bool, "anonymous": bool, "procedure": list}
_WORKING_DAYS_TEXT = re.compile(r"^([1-9][0-9]*)个工作日(内办结)?$")
# "需本人携带身份证或社保卡" / "需携带本人身份证和户口本" / "...，现场填写《...》"
_MATERIALS_TEXT = re.compile(r"^需(?:本人携带|携带本人)(?P<docs>[^，,。]+)")


@dataclass(frozen=True)
class ServiceItem:
    """One row of 附件2.

    ``time_limit_days`` is 0 for 即时办结, else the number of working days. ``kiosk_runs`` is true
    iff the item lists the 自助机 channel. ``materials`` are the identity documents named in
    ``conditions``; ``materials_rule`` says whether any one of them (``"any"``: 身份证或社保卡) or
    all of them (``"all"``: 身份证和户口本) must be presented. ``anonymous`` items may be used
    without identifying (see the data file's header for the choice). ``targets_carried`` records
    that the seed's 服务对象 cell was empty (a merged cell) and ``targets`` was carried down.
    ``basis`` (办事依据) and ``procedure`` (办事程序) are published with the item (附件4 line 12):
    a counter item's procedure is written in the data; a kiosk item's is generated from its
    definition (:func:`kiosk.domain.items.procedure.with_procedures`), empty until then.
    """

    no: int
    category: str
    name: str
    content: str
    channels: tuple[str, ...]
    targets: str
    conditions: str
    time_limit_days: int
    time_limit_text: str
    kiosk_runs: bool
    materials: tuple[str, ...]
    materials_rule: str
    anonymous: bool
    targets_carried: bool = False
    basis: tuple[str, ...] = ()
    procedure: tuple[str, ...] = ()

    @property
    def is_instant(self) -> bool:
        """True when the item is 即时办结 (finished on the spot)."""
        return self.time_limit_days == 0

    @property
    def business_line(self) -> str:
        """The 附件5 business line of the item: a key of :data:`BUSINESS_LINES`."""
        return _CATEGORY_LINES[self.category]


@dataclass(frozen=True)
class Category:
    """One 业务类型 with its items in catalogue order."""

    name: str
    items: tuple[ServiceItem, ...]


class CatalogueError(ValueError):
    """The catalogue file is unreadable or malformed; the message names file, item and field."""

    def __init__(self, path: str | Path, message: str, *, no: int | None = None, field: str = ""):
        self.path = str(path)
        self.no = no
        self.field = field
        where = self.path
        if no is not None:
            where += f": item {no}"
        if field:
            where += f": field {field!r}"
        super().__init__(f"{where}: {message}")


class Catalogue:
    """The immutable, validated catalogue; items in ascending ``no`` order."""

    def __init__(self, items: tuple[ServiceItem, ...]):
        self.items = tuple(sorted(items, key=lambda item: item.no))
        self._by_no = {item.no: item for item in self.items}

    def item(self, no: int) -> ServiceItem:
        """Return item ``no``; raises ``KeyError`` if the catalogue has no such item."""
        return self._by_no[no]

    def categories(self) -> tuple[Category, ...]:
        """Return the four categories in :data:`CATEGORIES` order (empty ones included)."""
        return tuple(
            Category(name, tuple(item for item in self.items if item.category == name))
            for name in CATEGORIES
        )

    def kiosk_items(self) -> tuple[ServiceItem, ...]:
        """Items the kiosk runs itself (channel 自助机)."""
        return tuple(item for item in self.items if item.kiosk_runs)

    def counter_items(self) -> tuple[ServiceItem, ...]:
        """Counter-only items the kiosk explains and forwards."""
        return tuple(item for item in self.items if not item.kiosk_runs)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        return iter(self.items)


def default_catalogue_path() -> Path:
    """Path of the packaged catalogue file."""
    return Path(str(resources.files("kiosk.domain") / "data" / "catalogue.toml"))


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Read and validate the catalogue file (default: the packaged one).

    Raises :class:`CatalogueError` naming file, item number and field for: an unreadable file,
    invalid TOML, no ``[[item]]`` tables, unknown or missing keys, wrong types, empty text,
    duplicate numbers, a category not among :data:`CATEGORIES`, a channel not in 柜面/自助机,
    a ``time_limit_days`` that disagrees with ``time_limit_text``, or conditions naming no
    known document.
    """
    path = Path(path) if path is not None else default_catalogue_path()
    try:
        document = load_toml_file(path)
    except TomlFileError as exc:
        raise CatalogueError(path, str(exc)) from None
    return parse_catalogue(document, path)


def parse_catalogue(document: Mapping[str, Any], path: str | Path = "<catalogue>") -> Catalogue:
    """Validate an already-parsed TOML document; ``path`` is only used in error messages."""
    extra = set(document) - {"item"}
    if extra:
        raise CatalogueError(path, f"unknown top-level key(s): {', '.join(sorted(extra))}")
    entries = document.get("item")
    if not isinstance(entries, list) or not entries:
        raise CatalogueError(path, "no [[item]] tables found", field="item")
    items: list[ServiceItem] = []
    seen: set[int] = set()
    for index, entry in enumerate(entries, start=1):
        item = _parse_item(entry, index, path)
        if item.no in seen:
            raise CatalogueError(path, "duplicate item number", no=item.no, field="no")
        seen.add(item.no)
        items.append(item)
    return Catalogue(tuple(items))


def _parse_item(entry: Any, index: int, path: str | Path) -> ServiceItem:
    if not isinstance(entry, dict):
        raise CatalogueError(path, f"[[item]] #{index} is not a table", field="item")
    no = entry.get("no")
    if not isinstance(no, int) or isinstance(no, bool) or no <= 0:
        raise CatalogueError(
            path, f"[[item]] #{index}: 'no' must be a positive integer, got {no!r}", field="no"
        )

    def fail(field: str, message: str) -> CatalogueError:
        return CatalogueError(path, message, no=no, field=field)

    unknown = set(entry) - set(_REQUIRED) - set(_OPTIONAL)
    if unknown:
        name = sorted(unknown)[0]
        raise fail(name, "unknown key (allowed: " + ", ".join([*_REQUIRED, *_OPTIONAL]) + ")")
    for key, kind in {**_REQUIRED, **_OPTIONAL}.items():
        if key not in entry:
            if key in _REQUIRED:
                raise fail(key, "missing")
            continue
        value = entry[key]
        wrong_bool = isinstance(value, bool) and kind is int
        if not isinstance(value, kind) or wrong_bool:
            raise fail(key, f"expected {kind.__name__}, got {type(value).__name__} {value!r}")
        if isinstance(value, str) and not value.strip():
            raise fail(key, "must not be empty")

    category = entry["category"]
    if category not in CATEGORIES:
        raise fail("category", f"{category!r} is not one of {', '.join(CATEGORIES)}")
    channels = tuple(entry["channels"])
    if not channels:
        raise fail("channels", "must list at least one channel")
    for channel in channels:
        if channel not in CHANNELS:
            raise fail("channels", f"{channel!r} is not one of {', '.join(CHANNELS)}")
    if len(set(channels)) != len(channels):
        raise fail("channels", "lists a channel twice")

    text = entry["time_limit_text"]
    days = entry["time_limit_days"]
    expected = _days_from_text(text)
    if expected is None:
        raise fail(
            "time_limit_text", f"{text!r} is neither {INSTANT_TEXT!r} nor 'N个工作日[内办结]'"
        )
    if days != expected:
        raise fail("time_limit_days", f"{days} disagrees with time_limit_text {text!r}")

    basis = _texts(entry["basis"], fail, "basis")
    kiosk_runs = KIOSK_CHANNEL in channels
    if "procedure" in entry and kiosk_runs:
        raise fail("procedure", "a kiosk item's procedure is generated from its definition")
    if "procedure" not in entry and not kiosk_runs:
        raise fail("procedure", "missing (a counter-only item's steps are written here)")
    procedure = _texts(entry.get("procedure", ["-"]), fail, "procedure") if not kiosk_runs else ()

    conditions = entry["conditions"]
    materials, rule = _parse_materials(conditions)
    if not materials:
        raise fail("conditions", f"names no known document ({', '.join(DOCUMENTS)})")

    return ServiceItem(
        no=no,
        category=category,
        name=entry["name"],
        content=entry["content"],
        channels=channels,
        targets=entry["targets"],
        conditions=conditions,
        time_limit_days=days,
        time_limit_text=text,
        kiosk_runs=kiosk_runs,
        materials=materials,
        materials_rule=rule,
        anonymous=entry.get("anonymous", False),
        targets_carried=entry.get("targets_carried", False),
        basis=basis,
        procedure=procedure,
    )


def _texts(values: list, fail, field: str) -> tuple[str, ...]:
    """A non-empty list of non-empty strings."""
    if not values or not all(isinstance(v, str) and v.strip() for v in values):
        raise fail(field, "must be a non-empty list of non-empty strings")
    return tuple(v.strip() for v in values)


def _days_from_text(text: str) -> int | None:
    """0 for 即时办结, N for 'N个工作日' / 'N个工作日内办结', None if the text is neither."""
    if text == INSTANT_TEXT:
        return 0
    match = _WORKING_DAYS_TEXT.match(text)
    return int(match.group(1)) if match else None


def _parse_materials(conditions: str) -> tuple[tuple[str, ...], str]:
    """Documents named by a 办理条件 text and whether any or all are needed.

    "需本人携带身份证或社保卡" -> (("身份证", "社保卡"), "any"); "需携带本人身份证和户口本" ->
    (("身份证", "户口本"), "all"); a single document is "all". Returns ((), "all") when the text
    does not follow the seed's pattern or names a document we do not know.
    """
    match = _MATERIALS_TEXT.match(conditions)
    if not match:
        return (), MATERIALS_ALL
    docs = match.group("docs")
    if "或" in docs and "和" in docs:
        return (), MATERIALS_ALL
    rule = MATERIALS_ANY if "或" in docs else MATERIALS_ALL
    names = tuple(part.strip() for part in re.split("[或和]", docs))
    if not names or any(name not in DOCUMENTS for name in names):
        return (), MATERIALS_ALL
    return names, rule
