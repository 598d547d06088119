"""``kiosk catalog [--json] [--file PATH]``: print the 40-item service catalogue.

Without ``--json`` a table for people (no, category, name, 自助/柜台, time limit); with ``--json``
a JSON list of objects for scripts, each with its 办事依据 (``basis``) and 办事程序
(``procedure``: written for counter items, generated from the definitions for kiosk items). Exit 2 with the file/item/field message when the catalogue
file is malformed. Never imports Kivy.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "catalog", help="print the service catalogue (附件2, 40 items)", description=__doc__
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list of items")
    parser.add_argument(
        "--file",
        metavar="PATH",
        default=None,
        help="catalogue TOML to read instead of the packaged one (to check a site's edit)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kiosk.domain.catalogue import CatalogueError
    from kiosk.domain.items import ItemDataError
    from kiosk.domain.items.procedure import load_published_catalogue

    try:
        catalogue = load_published_catalogue(args.file)
    except (CatalogueError, ItemDataError) as exc:
        print(f"目录文件错误 / catalogue error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        json.dump([item_to_json(item) for item in catalogue.items], sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_table(catalogue.items))
    return 0


def item_to_json(item) -> dict:
    """The JSON object for one :class:`~kiosk.domain.catalogue.ServiceItem`."""
    return {
        "no": item.no,
        "category": item.category,
        "name": item.name,
        "content": item.content,
        "channels": list(item.channels),
        "targets": item.targets,
        "targets_carried": item.targets_carried,
        "conditions": item.conditions,
        "materials": list(item.materials),
        "materials_rule": item.materials_rule,
        "time_limit_days": item.time_limit_days,
        "time_limit_text": item.time_limit_text,
        "kiosk_runs": item.kiosk_runs,
        "anonymous": item.anonymous,
        "basis": list(item.basis),
        "procedure": list(item.procedure),
    }


def format_table(items) -> str:
    """A fixed-width table; CJK characters count as two columns so the columns line up."""
    header = ("序号", "业务类型", "服务事项名称", "渠道", "办结时限")
    rows = [header] + [
        (
            str(item.no),
            item.category,
            item.name,
            "自助" if item.kiosk_runs else "柜台",
            item.time_limit_text,
        )
        for item in items
    ]
    widths = [max(_display_width(row[col]) for row in rows) for col in range(len(header))]
    lines = []
    for row in rows:
        cells = [_pad(cell, width) for cell, width in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    kiosk = sum(1 for item in items if item.kiosk_runs)
    lines.append(f"共 {len(items)} 项，自助机办理 {kiosk} 项，柜台办理 {len(items) - kiosk} 项")
    return "\n".join(lines) + "\n"


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _display_width(text))
