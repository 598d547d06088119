"""Break Chinese text into lines the way a reader expects (pure; no Kivy).

Kivy wraps only at spaces and otherwise cuts anywhere, so "不足15年" may become "不足1" / "5年"
and a line may start with "，". :func:`break_lines` wraps greedily between CJK characters but
keeps digit/Latin runs ("14:30-17:30", "15年" stays "15" + "年") whole, never starts a line with
closing punctuation (，。、；：！？）》」 …) and never ends one with opening punctuation
(（《「 …) — the basic 禁则 (kinsoku) rules. Widths come from a caller-supplied
``measure(text) -> pixels`` (the app passes the font's real metrics); explicit newlines are
kept. A unit wider than the whole line is cut by characters as a last resort.
"""

from __future__ import annotations

import re
from collections.abc import Callable

NO_LINE_START = set("，。、；：！？）》」』】〕”’,.;:!?)]}%·…—～")
NO_LINE_END = set("（《「『【〔“‘([{")
# Runs that must not be split: digits, Latin letters and the punctuation inside numbers/times.
_UNBREAKABLE = re.compile(r"[0-9A-Za-z][0-9A-Za-z.:\-/%+]*")
# Within this fraction of the line's width from its end, a candidate line is measured whole
# (room for kerning, which a sum of separately measured units does not see).
_EDGE_FRACTION = 0.04


def _units(paragraph: str) -> list[str]:
    """Split into the smallest pieces a line may break between, with kinsoku glue applied."""
    pieces: list[str] = []
    index = 0
    while index < len(paragraph):
        match = _UNBREAKABLE.match(paragraph, index)
        if match:
            pieces.append(match.group())
            index = match.end()
        else:
            pieces.append(paragraph[index])
            index += 1
    units: list[str] = []
    glue_next = False
    for piece in pieces:
        if piece[0] in NO_LINE_START and len(units) > 1 and not units[-1].strip():
            space = units.pop()
            units[-1] += space + piece  # "数字 ，": glue across the space as well
        elif units and (glue_next or piece[0] in NO_LINE_START):
            units[-1] += piece
        else:
            units.append(piece)
        glue_next = piece[-1] in NO_LINE_END
    return units


def break_lines(text: str, max_width: float, measure: Callable[[str], float]) -> list[str]:
    """Lines of *text*, each measuring ≤ *max_width* unless one character alone is wider.

    Joining the lines gives back *text* with its newlines, minus spaces dropped at the breaks.
    ``max_width <= 0`` (a widget not laid out yet) returns the paragraphs unwrapped.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        if max_width <= 0:
            lines.append(paragraph)
            continue
        lines.extend(_break_paragraph(paragraph, max_width, measure))
    return lines


def _break_paragraph(paragraph: str, max_width: float, measure) -> list[str]:
    # A line's width is at most the sum of its units' widths (glyph advances add up; a bold or
    # italic overhang is counted once per unit instead of once per line), so a candidate whose
    # sum stays clear of the edge fits without measuring it; near the edge it is measured
    # whole, exactly as before. Measuring every growing prefix made wrapping quadratic.
    clear_of_edge = max_width * (1 - _EDGE_FRACTION)
    lines: list[str] = []
    current = ""
    current_bound = 0.0  # an upper bound of measure(current)
    for unit in _units(paragraph):
        candidate = current + unit
        bound = current_bound + measure(unit)
        if bound <= clear_of_edge:
            current, current_bound = candidate, bound
            continue
        width = measure(candidate)
        if width <= max_width:
            current, current_bound = candidate, width
            continue
        if current.strip():
            lines.append(current.rstrip(" "))
        unit = unit.lstrip(" ")
        # A unit wider than a whole line (a long number, a URL): cut it by characters.
        while unit and measure(unit) > max_width:
            cut = _longest_fitting_prefix(unit, max_width, measure)
            lines.append(unit[:cut])
            unit = unit[cut:]
        current = unit
        current_bound = measure(unit) if unit else 0.0
    if current or not lines:
        lines.append(current.rstrip(" "))
    return lines


def _longest_fitting_prefix(unit: str, max_width: float, measure) -> int:
    cut = 1
    while cut < len(unit) and measure(unit[: cut + 1]) <= max_width:
        cut += 1
    return cut
