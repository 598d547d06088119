"""The generic form: any self-service form item (1, 4, 7, 10, 11, 22, 23) or a counter item's
预约柜台办理, rendered from its declarative definition.

Fields by kind: phone / amount / date / keypad_number open the big keypad, picker and
multi_picker the big picker (a village list follows the chosen town), yes_no is two buttons
on the row, text (only where unavoidable) a text box. Fields the card already knows are not
asked; the screen only says they were read. Items with conditions first show the
"eligibility before effort" panel: what the person meets, what is missing. Each value is
checked when given (the item's own rules, Chinese messages) and all again on 提交 by the
flows service. Every call goes through the controller's worker pool. UI thread only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from kiosk.domain.prompts import ScreenSpeech
from kiosk.domain.validation import FieldInvalid, validate_value
from kiosk.screens.flow_base import FlowScreen
from kiosk.services.flows import FormField, FormInvalid, FormSpec

KV_FILE = Path(__file__).with_suffix(".kv")
KEYPAD_KINDS = ("phone", "amount", "date", "keypad_number")
PICKER_KINDS = ("picker", "multi_picker")
MODE_LOADING, MODE_ELIGIBILITY, MODE_FIELDS = "loading", "eligibility", "fields"
STATUS_MARK = {True: "【符合】", False: "【不符合】", None: "【待核验】"}


def value_text(item_field: FormField, value: Any) -> str:
    """How a field's current value reads on its row ("" when not given yet)."""
    kind = item_field.definition.kind
    if value is None or value == "" or value == []:
        return ""
    if kind == "multi_picker":
        return "、".join(value)
    if kind == "yes_no":
        return "是" if value else "否"
    if kind == "date" and isinstance(value, str) and len(value) == 8 and value.isdigit():
        return f"{value[:4]}年{int(value[4:6])}月{int(value[6:])}日"
    if kind == "phone" and isinstance(value, str) and len(value) == 11:
        return f"{value[:3]} {value[3:7]} {value[7:]}"
    return str(value)


def eligibility_lines(assessment) -> str:
    """One line per condition: 【符合】/【不符合】/【待核验】 label（what was found）."""
    lines = []
    for condition in assessment.conditions:
        detail = f"（{condition.detail}）" if condition.detail else ""
        lines.append(f"{STATUS_MARK[condition.met]}{condition.label}{detail}")
    return "\n".join(lines)


class FieldRow(ButtonBehavior, BoxLayout):
    """One asked field: its label, the value given (or what to do), an error when invalid."""

    key = StringProperty("")
    label = StringProperty("")
    kind = StringProperty("")
    value = StringProperty("")
    placeholder = StringProperty("")
    error = StringProperty("")
    required = BooleanProperty(True)
    yes = BooleanProperty(False)
    no = BooleanProperty(False)


class FormScreen(FlowScreen):
    """See the module docstring. ``show((kind, item_no))``: kind "item" or "work_order"."""

    summary = StringProperty("")
    mode = StringProperty(MODE_LOADING)
    eligibility_text = StringProperty("")
    verdict = StringProperty("")
    can_continue = BooleanProperty(True)
    known_note = StringProperty("")
    agent_text = StringProperty("")
    submit_text = StringProperty("提交")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._spec: FormSpec | None = None
        self._values: dict[str, Any] = {}
        self._kind = "item"
        self._item_no = 0

    def speech(self) -> ScreenSpeech:
        """Nothing while loading; the eligibility check, or how to fill in the fields."""
        keys = {MODE_ELIGIBILITY: ("form_eligibility",), MODE_FIELDS: ("form",)}
        guidance = keys.get(self.mode, ())
        if self.message and self.mode == MODE_FIELDS:
            guidance += ("call_failed",) if self.failed else ("form_invalid",)
        return ScreenSpeech(guidance=guidance)

    # -- filling ------------------------------------------------------------------------
    def show(self, argument) -> None:
        kind, item_no = argument
        self.clear()
        self._kind, self._item_no = kind, int(item_no)
        self.heading = "正在准备表单"
        self.controller.load_form(self, kind, int(item_no))

    def fill(self, spec: FormSpec, assessment) -> None:
        """Called by the controller with the form and (for items with conditions) the
        eligibility assessment."""
        self._spec = spec
        self._values = {f.definition.key: f.value for f in spec.fields if f.asked}
        self.heading = spec.title
        self.summary = spec.summary
        self.agent_text = spec.agent
        known = [f.definition.label for f in spec.fields if not f.asked]
        self.known_note = ("已从证件读取，无需填写：" + "、".join(known)) if known else ""
        self.submit_text = "预约并取号" if self._kind == "work_order" else "提交"
        self._build_rows()
        if assessment is not None and assessment.conditions:
            self.eligibility_text = eligibility_lines(assessment)
            self.verdict = assessment.message
            self.can_continue = assessment.eligible is not False
            self.mode = MODE_ELIGIBILITY
        else:
            self.mode = MODE_FIELDS
        self.ids.scroll.scroll_y = 1

    def _build_rows(self) -> None:
        box = self.ids.fields
        box.clear_widgets()
        if self._spec is None:
            return
        for item_field in self._spec.asked:
            definition = item_field.definition
            row = FieldRow(
                key=definition.key,
                label=definition.label,
                kind=definition.kind,
                required=definition.required,
                placeholder=self._placeholder(definition),
            )
            row.bind(on_release=self._row_tapped)
            box.add_widget(row)
            self._refresh_row(row)

    @staticmethod
    def _placeholder(definition) -> str:
        if definition.kind in PICKER_KINDS:
            text = "点此选择"
        elif definition.kind == "yes_no":
            text = ""
        else:
            text = "点此输入"
        optional = "" if definition.required else "（选填）"
        hint = f"  {definition.hint}" if definition.hint else ""
        return text + optional + hint

    def row(self, key: str) -> FieldRow:
        """The row of field *key* (tests and the tour tap it); KeyError if not asked."""
        for child in self.ids.fields.children:
            if child.key == key:
                return child
        raise KeyError(key)

    def _field(self, key: str) -> FormField:
        assert self._spec is not None
        return next(f for f in self._spec.fields if f.definition.key == key)

    def _refresh_row(self, row: FieldRow) -> None:
        item_field = self._field(row.key)
        value = self._values.get(row.key)
        row.value = value_text(item_field, value)
        row.yes = value is True
        row.no = value is False

    # -- eligibility ----------------------------------------------------------------------
    def continue_to_fields(self) -> None:
        if self.can_continue:
            self.mode = MODE_FIELDS
            self.ids.scroll.scroll_y = 1
            self.cue("form")

    # -- asking values ----------------------------------------------------------------------
    def _row_tapped(self, row: FieldRow) -> None:
        item_field = self._field(row.key)
        kind = item_field.definition.kind
        if kind in KEYPAD_KINDS:
            self.controller.ask_number(
                title=item_field.definition.label,
                kind=kind,
                value=str(self._values.get(row.key) or ""),
                check=lambda text: self._check(item_field, text),
                on_done=lambda text: self._set(row, text),
            )
        elif kind in PICKER_KINDS:
            self.controller.ask_choice(
                field=item_field,
                parent=self._values.get(item_field.definition.depends_on),
                chosen=self._chosen(row.key),
                on_done=lambda chosen: self._set_choice(row, item_field, chosen),
            )
        elif kind == "text":
            self.controller.ask_text(
                title=item_field.definition.label,
                value=str(self._values.get(row.key) or ""),
                max_length=item_field.definition.max_length,
                check=lambda text: self._check(item_field, text),
                on_done=lambda text: self._set(row, text),
            )

    def answer_yes_no(self, key: str, answer: bool) -> None:
        row = self.row(key)
        self._set(row, answer)

    def _chosen(self, key: str) -> list[str]:
        value = self._values.get(key)
        if isinstance(value, list):
            return value
        return [value] if isinstance(value, str) and value else []

    def _set_choice(self, row: FieldRow, item_field: FormField, chosen: list[str]) -> None:
        value: Any = (
            chosen
            if item_field.definition.kind == "multi_picker"
            else (chosen[0] if chosen else "")
        )
        self._set(row, value)
        for other in self._spec.asked if self._spec else ():
            if other.definition.depends_on == row.key:  # a new town empties its village
                self._values[other.definition.key] = ""
                self._refresh_row(self.row(other.definition.key))

    def _check(self, item_field: FormField, text: str) -> str:
        """ "" when *text* is acceptable for the field, else the Chinese reason."""
        try:
            today = self.services.clock.today()  # the service point's date, not the OS's
            validate_value(item_field.definition.rule(item_field.options), text, today)
        except FieldInvalid as exc:
            return exc.message
        return ""

    def _set(self, row: FieldRow, value: Any) -> None:
        self._values[row.key] = value
        row.error = ""
        self.message = ""  # a hint like "choose the town first" is answered now
        self._refresh_row(row)

    # -- submitting ----------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        return dict(self._values)

    def submit(self) -> None:
        if self.controller.calls.busy:
            return  # a second tap before the spinner covers the screen must not send twice
        self.message = ""
        self.controller.submit_form(self, self._kind, self._item_no, self.values())

    def show_invalid(self, error: FormInvalid) -> None:
        """Mark every field the flows service refused, and say so at the top."""
        for child in self.ids.fields.children:
            child.error = error.errors.get(child.key, "")
        self.message = error.message
        self.ids.scroll.scroll_y = 1

    def clear(self) -> None:
        super().clear()
        self._spec = None
        self._values = {}
        self.summary = ""
        self.mode = MODE_LOADING
        self.eligibility_text = ""
        self.verdict = ""
        self.can_continue = True
        self.known_note = ""
        self.agent_text = ""
        self.ids.fields.clear_widgets()
