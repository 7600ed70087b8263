"""Inspector's MQTT plugin (paho-mqtt 2.x): verdicts, station status and commands.

Entry point ``inspector.publishers: mqtt``. Off unless the station's settings carry a
``plugins: {mqtt: {...}}`` section (:mod:`inspector_mqtt.config`). Topics, with
``<base> = <topic_prefix>/<station>``:

- ``<base>/result``: one JSON verdict per stored part, QoS 1, delivered in order through a
  persistent outbox (:mod:`inspector_mqtt.outbox`) that keeps them while the broker is away;
- ``<base>/status``: retained station status (online/offline, line, order, counters); the
  last will sets it offline when the connection drops;
- ``<base>/cmd/trigger``, ``<base>/cmd/order``: a software trigger and a work-order change
  (:mod:`inspector_mqtt.commands`), answered on ``<base>/cmd/reply``.

See docs/integrations.md, "MQTT".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inspector_mqtt.config import MqttSettings, MqttSettingsError
from inspector_mqtt.publisher import MqttPublisher

__all__ = ["MqttPublisher", "MqttSettings", "MqttSettingsError", "publisher"]


def publisher(settings: Any, station: Any = None) -> MqttPublisher | None:
    """The ``inspector.publishers`` factory: None when the station has no ``mqtt`` section."""
    section = settings.plugin("mqtt")
    if section is None:
        return None
    return MqttPublisher(MqttSettings.from_section(section), settings.station, Path(settings.data_dir), station)
