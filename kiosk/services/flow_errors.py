"""The resident-flow facade's own errors (:class:`kiosk.services.flows.FlowsService`).

``message`` is Chinese, safe to show and log::

    FlowError                      base of the facade's own errors
    ├── IdentityRequired           the item needs identity and none is in the session
    ├── MissingStep                the item needs a value from an earlier step (item 8: demand)
    ├── FormInvalid                ``errors``: {field key: message}; nothing was submitted
    └── NotSaved                   the kiosk could not save the submission (disk full, storage
                                   broken); nothing was submitted or acknowledged
"""

from __future__ import annotations

from collections.abc import Mapping


class FlowError(Exception):
    """Base of the facade's own errors; ``message`` is Chinese for the screen."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class IdentityRequired(FlowError):
    """The item needs the resident's identity: ask for card or e-SSC, then call again."""

    def __init__(self, item_no: int) -> None:
        super().__init__("办理此事项需先刷社保卡、放置身份证或扫电子社保卡码")
        self.item_no = item_no


class MissingStep(FlowError):
    """The item needs an earlier step first: ``item_no`` is the item to run (item 8 needs
    item 7's demand; 2 and 5 need the registration 1 / 4), ``name`` what was missing."""

    def __init__(self, name: str, message: str, item_no: int | None = None) -> None:
        super().__init__(message)
        self.name = name
        self.item_no = item_no


class FormInvalid(FlowError):
    """Fields failed validation; ``errors`` maps field key → Chinese message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("请检查标红的内容：" + "；".join(errors.values()))
        self.errors = dict(errors)


class NotSaved(FlowError):
    """The submission could not be saved on this kiosk (its storage is full or broken):
    nothing was sent and nothing acknowledged; the resident is sent to the counter."""

    def __init__(self) -> None:
        super().__init__("本机暂时无法保存您的申请（存储空间不足），请到柜台办理，或稍后再试")


__all__ = ["FlowError", "FormInvalid", "IdentityRequired", "MissingStep", "NotSaved"]
