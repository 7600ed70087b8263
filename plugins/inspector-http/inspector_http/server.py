"""uvicorn on a background thread, started by the publisher factory and stopped by ``close()``."""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

import uvicorn

from inspector_http.app import create_app
from inspector_http.config import HttpSettings, HttpSettingsError
from inspector_http.views import LineState

log = logging.getLogger(__name__)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise HttpSettingsError(f"the HTTP API cannot serve on {host}:{port}: {exc.strerror} "
                                "(see plugins.http.host and port)") from None
    sock.set_inheritable(True)
    return sock


class HttpServer:
    """The station's HTTP API; also a publisher (``__call__``) that keeps the line state for /health."""

    def __init__(self, cfg: HttpSettings, station: Any, station_name: str):
        self.cfg = cfg
        self.state = LineState(station_name)
        config = uvicorn.Config(create_app(station, cfg, self.state), host=cfg.host, port=cfg.port,
                                log_level="warning", access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        sock = bind(cfg.host, cfg.port)  # here, so a port in use is this thread's typed error
        self.thread = threading.Thread(target=self.server.run, args=([sock],), name="inspector-http", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + cfg.start_timeout_s
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                self.server.should_exit = True
                raise HttpSettingsError(f"the HTTP API did not start on {cfg.host}:{cfg.port} "
                                        f"within {cfg.start_timeout_s} s")
            time.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://{cfg.host}:{self.port}"
        log.info("HTTP API on %s", self.url)

    def __call__(self, event: Any) -> None:
        self.state.hear(event)

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
