"""Run the app with uvicorn on a real socket, in a background thread (demo mode and tests)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import uvicorn


class ServerStartError(RuntimeError):
    """uvicorn did not start accepting connections in time."""


@dataclass
class ServerHandle:
    """A running server: ``url`` like ``http://127.0.0.1:PORT``; ``stop()`` shuts it down."""

    url: str
    port: int
    _server: uvicorn.Server
    _thread: threading.Thread

    @property
    def running(self) -> bool:
        """True until :meth:`stop` was asked (or the server's thread ended)."""
        return self._thread.is_alive() and not self._server.should_exit

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to exit and wait for its thread (idempotent)."""
        self._server.should_exit = True
        self._thread.join(timeout)


def serve_in_thread(
    app, host: str = "127.0.0.1", port: int = 0, start_timeout: float = 30.0
) -> ServerHandle:
    """Start *app* on host:port (0 = a free port) and return once it accepts connections."""
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted connections only when the listening
    # socket names its protocol; with 0 every small response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="kiosk-backend", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if not thread.is_alive():
            raise ServerStartError("reference server thread exited during start-up")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise ServerStartError(f"reference server did not start within {start_timeout} s")
        time.sleep(0.02)
    return ServerHandle(
        url=f"http://{host}:{bound_port}", port=bound_port, _server=server, _thread=thread
    )
