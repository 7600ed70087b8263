"""The MQTT plugin's settings: the ``mqtt`` section of ``Settings.plugins``, checked once at start.

Every key is optional; a present but empty section (``mqtt: {}``) connects to a broker on
127.0.0.1:1883. Unknown keys and wrong types are refused with :class:`MqttSettingsError`
naming the key, never a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from inspector.errors import InspectorError


class MqttSettingsError(InspectorError):
    """The ``mqtt`` settings section cannot be used (unknown key, wrong type, bad value)."""


@dataclass(frozen=True)
class MqttSettings:
    host: str = "127.0.0.1"
    port: int = 1883
    topic_prefix: str = "inspector"  # topics are <topic_prefix>/<station>/...
    client_id: str = ""  # default: inspector-<station>
    username: str = ""
    password: str = ""
    tls: bool = False
    ca_certs: str = ""  # CA bundle for TLS (empty: the system's)
    certfile: str = ""  # client certificate (mutual TLS)
    keyfile: str = ""
    tls_insecure: bool = False  # skip the host-name check (test brokers only)
    keepalive: int = 30  # seconds; the broker sends the last will after 1.5x this without traffic
    qos: int = 1
    outbox: str = ""  # default: <data_dir>/mqtt-outbox.sqlite
    outbox_max: int = 100_000  # results waiting for the broker; beyond, the oldest waiting is dropped
    commands: bool = True  # subscribe to the trigger and work-order topics
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 10.0
    close_timeout_s: float = 10.0  # at shutdown, how long to wait for the outbox to drain

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> MqttSettings:
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(section) - set(known))
        if unknown:
            raise MqttSettingsError(f"plugins.mqtt: unknown key(s) {', '.join(unknown)}; known: "
                                    f"{', '.join(known)}")
        values: dict[str, Any] = {}
        for name, value in section.items():
            default = getattr(cls, name)
            kind = type(default)
            try:
                if kind is bool:
                    if not isinstance(value, bool):
                        raise TypeError
                    values[name] = value
                elif kind in (int, float):
                    if isinstance(value, bool):
                        raise TypeError
                    values[name] = kind(value)
                else:
                    values[name] = "" if value is None else str(value)
            except (TypeError, ValueError):
                raise MqttSettingsError(f"plugins.mqtt.{name} must be a {kind.__name__}, not {value!r}") from None
        out = cls(**values)
        out.check()
        return out

    def check(self) -> None:
        if not 0 < self.port < 65536:
            raise MqttSettingsError(f"plugins.mqtt.port {self.port} is not a TCP port (1..65535)")
        if self.qos not in (1, 2):
            raise MqttSettingsError("plugins.mqtt.qos must be 1 or 2: results are never sent at most once")
        if not self.topic_prefix or re.search(r"[#+\x00]", self.topic_prefix):
            raise MqttSettingsError(f"plugins.mqtt.topic_prefix {self.topic_prefix!r} must be a plain topic "
                                    "(no '#', '+')")
        if self.keepalive < 5 or self.outbox_max < 1 or self.reconnect_min_s <= 0 \
                or self.reconnect_max_s < self.reconnect_min_s:
            raise MqttSettingsError("plugins.mqtt: keepalive >= 5, outbox_max >= 1 and "
                                    "0 < reconnect_min_s <= reconnect_max_s")

    def topics(self, station: str) -> dict[str, str]:
        """The station's topics (``#`` and ``+`` in a station name become ``_``)."""
        base = f"{self.topic_prefix.rstrip('/')}/{re.sub(r'[#+/]', '_', station)}"
        return {"result": f"{base}/result", "status": f"{base}/status", "trigger": f"{base}/cmd/trigger",
                "order": f"{base}/cmd/order", "reply": f"{base}/cmd/reply"}

    def outbox_path(self, data_dir: Path) -> Path:
        return Path(self.outbox).expanduser() if self.outbox else Path(data_dir) / "mqtt-outbox.sqlite"
