"""Inspector plugin: PLC I/O over Modbus TCP (the station is the client, the PLC the server).

Registered in the entry-point group ``inspector.publishers`` as ``modbus``. Off unless the
station's settings have a ``plugins.modbus`` section (``inspector_modbus.config``). For each
part it pulses the reject / accept / review coil, it writes a heartbeat, and a rising edge on
the trigger input calls ``station.trigger(part_id, origin="modbus")``. See docs/integrations.md
for the register map and the measured verdict-to-output latency.
"""

from __future__ import annotations

from typing import Any

from inspector_modbus.config import ModbusConfig, ModbusError
from inspector_modbus.link import PlcLink, decode_part_id

__all__ = ["ModbusConfig", "ModbusError", "PlcLink", "decode_part_id", "publisher"]
__version__ = "0.1.0"


def publisher(settings: Any, station: Any) -> PlcLink | None:
    """The publisher factory: None when ``plugins.modbus`` is absent, else a link that connects in the
    background (a PLC that is down at start is retried; the station never waits for it)."""
    section = settings.plugin("modbus")
    if section is None:
        return None
    return PlcLink(ModbusConfig.from_section(section), station)
