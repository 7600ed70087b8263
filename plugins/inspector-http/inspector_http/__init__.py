"""Inspector's HTTP plugin (FastAPI + uvicorn): a read-only API for the MES and a trigger.

Entry point ``inspector.publishers: http``. Off unless the station's settings carry a
``plugins: {http: {...}}`` section (:mod:`inspector_http.config`). The factory starts uvicorn
on a background thread (127.0.0.1:8088 by default) that lives while the station runs; the
station's ``close()`` stops it. Endpoints (:mod:`inspector_http.app`): ``GET /health``,
``GET /results`` (``order_id``, ``lot``, ``part_id``), ``/orders/{id}/results``,
``/parts/{part_id}/results``, ``/results/{inspection_id}``, ``/orders/{id}/report.pdf``,
``/results/{inspection_id}/certificate.pdf``, ``/parts/{part_id}/certificate.pdf`` and
``POST /trigger`` behind a bearer token. See docs/integrations.md, "HTTP API".
"""

from __future__ import annotations

from typing import Any

from inspector_http.config import HttpSettings, HttpSettingsError
from inspector_http.server import HttpServer

__all__ = ["HttpServer", "HttpSettings", "HttpSettingsError", "publisher"]


def publisher(settings: Any, station: Any = None) -> HttpServer | None:
    """The ``inspector.publishers`` factory: None when the station has no ``http`` section."""
    section = settings.plugin("http")
    if section is None:
        return None
    return HttpServer(HttpSettings.from_section(section), station, settings.station)
