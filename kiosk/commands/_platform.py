"""The signed platform client for one-shot commands (`kiosk acceptance`, `kiosk audit verify`)."""

from __future__ import annotations

import sys


def open_platform_client(config, directory):
    """(client, embedded-server handle, requests session); client None if unconfigured."""
    from pathlib import Path

    import requests

    from kiosk.services import signing
    from kiosk.services.backend_client import BackendClient

    handle = None
    if config.backend.url:
        url = config.backend.url
        secret_path = Path(config.backend.secret_file or directory / "device.secret")
        try:
            secret = signing.load_secret(secret_path)
        except signing.SecretFileError as exc:
            print(f"设备密钥不可用 / device secret unusable: {exc}", file=sys.stderr)
            secret = b""
    elif config.is_demo:
        from kiosk.services.embedded_backend import start_embedded_backend

        url, secret, handle = start_embedded_backend(directory, config.kiosk.device_id)
    else:
        return None, None, None
    session = requests.Session()
    try:
        client = BackendClient.from_config(
            session, config.backend, url, config.kiosk.device_id, secret
        )
    except Exception:
        session.close()
        if handle is not None:
            handle.stop()
        raise
    return client, handle, session
