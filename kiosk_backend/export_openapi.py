"""Write the generated OpenAPI document to kiosk_backend/openapi.json (the committed contract).

Run ``python -m kiosk_backend.export_openapi [--check]`` after changing routes or models;
``--check`` exits 1 when the committed file is out of date.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

OPENAPI_PATH = Path(__file__).with_name("openapi.json")


def generate() -> str:
    """The OpenAPI document as committed: sorted keys, 2-space indent, UTF-8, final newline."""
    from kiosk_backend.app import create_app
    from kiosk_backend.settings import ServerSettings

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(ServerSettings(db_url=f"sqlite:///{tmp}/openapi.sqlite3"))
        doc = app.openapi()
        app.state.engine.dispose()
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, do not write")
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        current = OPENAPI_PATH.read_text(encoding="utf-8") if OPENAPI_PATH.exists() else ""
        if current != text:
            print(f"{OPENAPI_PATH} is out of date; run python -m kiosk_backend.export_openapi")
            return 1
        return 0
    OPENAPI_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {OPENAPI_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
