"""Inspector plugin: the station as an OPC UA server, modelled on OPC 40100 (Machine Vision).

Registered in the entry-point group ``inspector.publishers`` as ``opcua``. Off unless the
station's settings have a ``plugins.opcua`` section (``inspector_opcua.config``); then the
facade calls :func:`publisher`, which starts the server (its own thread and event loop) and
returns the callable that hears the line's events. The node map is ``inspector_opcua.nodes``
and docs/integrations.md.
"""

from __future__ import annotations

from typing import Any

from inspector_opcua.config import OpcuaConfig, OpcuaError
from inspector_opcua.server import VisionServer

__all__ = ["OpcuaConfig", "OpcuaError", "VisionServer", "publisher"]
__version__ = "0.1.0"


def publisher(settings: Any, station: Any) -> VisionServer | None:
    """The publisher factory: None when ``plugins.opcua`` is absent, else a started server."""
    section = settings.plugin("opcua")
    if section is None:
        return None
    return VisionServer(OpcuaConfig.from_section(section), station, getattr(settings, "station", ""))
