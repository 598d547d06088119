"""What the receipt's QR code holds, what its caption promises, and how the kiosk's own scanner
recognises it again.

With ``[receipt] progress_url`` configured (e.g. the province's query page) the code is a URL
made from that template: ``{number}`` is the platform's 受理编号 and ``{check}`` the check code
the platform minted for it (an HMAC tag only the platform can make, so nobody can walk through
numbers); ``{backend}`` stands for the platform root the kiosk talks to (demo mode's embedded
server). A phone's camera, WeChat or Alipay opens the page. Without a template — and for a
submission still waiting in the outbox, which has no platform number yet — the code holds the
bare reference and the caption says what it is good for: scanning it at this kiosk opens the
application in 我的办件 after identification. Pure.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Literal

PLACEHOLDERS = frozenset({"backend", "number", "check"})
MAX_TEMPLATE_LENGTH = 300
CAPTION_PHONE = "手机扫码查询办理进度"
CAPTION_KIOSK = "在本服务点自助机扫此码，确认身份后可查看本办件进度"
PLATFORM_NUMBER = re.compile(r"BJ\d{14,20}")
LOCAL_REFERENCE = re.compile(r"\d{6}-[0-9A-F]{8}")  # the outbox's local_ref (yymmdd-KEY8)
_PIECES = {
    "backend": r"https?://[^\s?#]+?",
    "number": r"(?P<number>[0-9A-Za-z-]{4,40})",
    "check": r"(?P<check>[0-9a-z]{4,64})",
}


class ProgressTemplateError(ValueError):
    """The ``progress_url`` template is malformed (the message says how)."""


def check_template(template: str) -> str:
    """*template* if usable ("" means none); raises :class:`ProgressTemplateError`."""
    if not template:
        return ""
    if len(template) > MAX_TEMPLATE_LENGTH or any(ch.isspace() for ch in template):
        raise ProgressTemplateError(f"at most {MAX_TEMPLATE_LENGTH} characters, no spaces")
    try:
        fields = [name for _text, name, _spec, _conv in string.Formatter().parse(template)]
    except ValueError as exc:
        raise ProgressTemplateError(f"not a template: {exc}") from None
    named = [name for name in fields if name is not None]
    unknown = sorted(set(named) - PLACEHOLDERS)
    if unknown:
        raise ProgressTemplateError(f"unknown placeholder {{{unknown[0]}}}")
    for needed in ("number", "check"):
        if named.count(needed) != 1:
            raise ProgressTemplateError(f"needs {{{needed}}} exactly once")
    if not template.startswith(("https://", "http://", "{backend}")):
        raise ProgressTemplateError("must start with https://, http:// or {backend}")
    return template


@dataclass(frozen=True)
class ScannedReceipt:
    """A receipt's code read by the kiosk's scanner: the reference it names."""

    reference: str
    kind: Literal["platform", "local"]


@dataclass(frozen=True)
class ProgressLinks:
    """The configured template (validated on construction; "" = none)."""

    template: str = ""

    def __post_init__(self) -> None:
        check_template(self.template)

    @property
    def configured(self) -> bool:
        return bool(self.template)

    def url(self, number: str, check: str, backend: str = "") -> str:
        """The progress URL of *number*; "" when no template, no check code, or the template
        needs a platform root that is not known."""
        if not self.template or not check or not number:
            return ""
        if "{backend}" in self.template and not backend:
            return ""
        return self.template.format(backend=backend.rstrip("/"), number=number, check=check)

    def qr_and_caption(self, reference: str, check: str, backend: str = "") -> tuple[str, str]:
        """What the receipt's QR holds and the line printed under it."""
        link = self.url(reference, check, backend)
        if link:
            return link, CAPTION_PHONE
        return reference, CAPTION_KIOSK

    def recognise(self, text: str) -> ScannedReceipt | None:
        """The receipt *text* came from (a progress URL of this template, a bare platform
        number, or an outbox reference), or None for anything else (e.g. an e-SSC code)."""
        text = text.strip()
        if PLATFORM_NUMBER.fullmatch(text):
            return ScannedReceipt(text, "platform")
        if LOCAL_REFERENCE.fullmatch(text):
            return ScannedReceipt(text, "local")
        if self.template:
            match = self._pattern().fullmatch(text)
            if match:
                return ScannedReceipt(match.group("number"), "platform")
        return None

    def _pattern(self) -> re.Pattern[str]:
        parts = []
        for literal, name, _spec, _conv in string.Formatter().parse(self.template):
            parts.append(re.escape(literal))
            if name is not None:
                parts.append(_PIECES[name])
        return re.compile("".join(parts))


__all__ = [
    "CAPTION_KIOSK",
    "CAPTION_PHONE",
    "ProgressLinks",
    "ProgressTemplateError",
    "ScannedReceipt",
    "check_template",
]
