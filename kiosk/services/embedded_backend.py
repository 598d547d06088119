"""Demo mode's platform: the reference server run in-process on 127.0.0.1 (a free port).

The kiosk then talks to it over real HTTP with the same signed client as in production; this
module is the only kiosk module that imports :mod:`kiosk_backend` (lazily, inside the function).
The server's database lives in the kiosk's data directory, so demo submissions survive restarts.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from kiosk.services import signing

log = logging.getLogger(__name__)

SECRET_FILE_NAME = "device.secret"
BACKEND_DB_FILE_NAME = "demo-backend.sqlite3"


def start_embedded_backend(
    data_dir: Path,
    kiosk_id: str,
    *,
    secret_file: Path | None = None,
    seed_demo: bool = True,
    **settings: Any,
) -> tuple[str, bytes, Any]:
    """Start the reference server and provision *kiosk_id*; return ``(url, secret, handle)``.

    The kiosk's secret is read from *secret_file* (default ``<data_dir>/device.secret``) or
    created there (0600) on first start. ``handle.stop()`` shuts the server down. Extra keyword
    arguments go to ``ServerSettings`` (e.g. ``seed_postings``). Blocks until the server accepts
    connections; raises whatever the server raises if it cannot start.
    """
    from kiosk_backend.app import create_app
    from kiosk_backend.server import serve_in_thread
    from kiosk_backend.settings import ServerSettings

    data_dir = Path(data_dir)
    secret_file = Path(secret_file) if secret_file else data_dir / SECRET_FILE_NAME
    if secret_file.exists():
        secret = signing.load_secret(secret_file)
    else:
        secret = signing.create_secret_file(secret_file)
    db_path = data_dir / BACKEND_DB_FILE_NAME
    server_settings = ServerSettings(
        db_url=f"sqlite:///{db_path}",
        seed_demo=seed_demo,
        demo_kiosk_id=kiosk_id,
        demo_kiosk_secret_hex=secret.hex(),
        **settings,
    )
    handle = serve_in_thread(create_app(server_settings), host="127.0.0.1", port=0)
    # The staff console of the embedded platform, for trying it in demo mode (a browser on
    # this machine); the kiosk itself never calls it.
    log.info(
        "embedded backend started",
        extra={"event": "embedded_backend", "console_url": f"{handle.url}/console/"},
    )
    return handle.url, secret, handle
