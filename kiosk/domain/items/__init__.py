"""Declarative definitions of the 22 self-service items (data in ``data/``), their loader and
the pure shaping of backend answers into what the generic screens show."""

from kiosk.domain.items.loader import Definitions, ItemDataError, load_definitions
from kiosk.domain.items.model import (
    Breakdown,
    Call,
    Chooser,
    Column,
    FieldDef,
    ItemDefinition,
    Option,
    PickerList,
    Total,
    WorkOrderDefinition,
)

__all__ = [
    "Breakdown",
    "Call",
    "Chooser",
    "Column",
    "Definitions",
    "FieldDef",
    "ItemDataError",
    "ItemDefinition",
    "Option",
    "PickerList",
    "Total",
    "WorkOrderDefinition",
    "load_definitions",
]
