"""The ``modbus`` settings section, checked into a :class:`ModbusConfig` (bad values: a typed error).

Example (``settings.yaml``; addresses are Modbus protocol addresses, 0-based)::

    plugins:
      modbus:
        host: 192.168.10.20      # the PLC's Modbus TCP server
        reject_coil: 0           # pulsed for NG     (null: no output)
        accept_coil: 1           # pulsed for OK
        review_coil: 2           # pulsed for REVIEW
        pulse_ms: 200
        heartbeat: coil          # coil (toggled) | register (incremented) | off
        heartbeat_address: 10
        trigger_input: discrete_input   # discrete_input | coil | off; a rising edge triggers a part
        trigger_address: 0
        part_id_register: 100    # optional: the part id as ASCII in holding registers 100..107
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inspector.errors import InspectorError

KEYS = ("enabled", "host", "port", "device_id", "timeout_s", "reject_coil", "accept_coil", "review_coil",
        "failed_output", "pulse_ms", "signal_at", "heartbeat", "heartbeat_address", "heartbeat_ms",
        "trigger_input", "trigger_address", "poll_ms", "part_id_register", "part_id_words", "reconnect_max_s")
VERDICT_OUTPUT = {"OK": "accept", "NG": "reject", "REVIEW": "review"}


class ModbusError(InspectorError):
    """The PLC link cannot be configured (a bad setting in ``plugins.modbus``)."""


@dataclass(frozen=True)
class ModbusConfig:
    host: str
    port: int = 502
    device_id: int = 1
    timeout_s: float = 0.5  # one request; the line never waits for it
    reject_coil: int | None = 0
    accept_coil: int | None = 1
    review_coil: int | None = 2
    failed_output: str = "review"  # a part with no verdict (PartFailed): review | reject | none
    pulse_ms: int = 200
    signal_at: str = "judged"  # judged: at PartJudged (before the record is written) | stored: at PartStored
    heartbeat: str = "coil"  # coil | register | off
    heartbeat_address: int = 10
    heartbeat_ms: int = 500
    trigger_input: str = "off"  # discrete_input | coil | off
    trigger_address: int = 0
    poll_ms: int = 20
    part_id_register: int | None = None  # holding registers with the part id (ASCII, 2 chars a register)
    part_id_words: int = 8
    reconnect_max_s: float = 5.0

    def coil_of(self, output: str) -> int | None:
        return {"reject": self.reject_coil, "accept": self.accept_coil, "review": self.review_coil}.get(output)

    @property
    def coils(self) -> dict[str, int]:
        """The configured outputs by name."""
        return {n: a for n in ("reject", "accept", "review") if (a := self.coil_of(n)) is not None}

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> ModbusConfig:
        unknown = sorted(set(section) - set(KEYS))
        if unknown:
            raise ModbusError(f"plugins.modbus: unknown setting(s) {', '.join(unknown)}; known: {', '.join(KEYS)}")
        if not str(section.get("host") or "").strip():
            raise ModbusError("plugins.modbus.host: the PLC's address is needed (e.g. 192.168.10.20)")
        v: dict[str, Any] = {"host": str(section["host"]).strip()}
        ints = {"port": (1, 65535), "device_id": (0, 255), "pulse_ms": (1, 60_000), "heartbeat_ms": (10, 600_000),
                "heartbeat_address": (0, 65535), "trigger_address": (0, 65535), "poll_ms": (1, 60_000),
                "part_id_words": (1, 64)}
        for key, (lo, hi) in ints.items():
            if key in section:
                v[key] = _int(key, section[key], lo, hi)
        for key in ("reject_coil", "accept_coil", "review_coil", "part_id_register"):
            if key in section:
                v[key] = None if section[key] is None else _int(key, section[key], 0, 65535)
        for key in ("timeout_s", "reconnect_max_s"):
            if key in section:
                try:
                    v[key] = float(section[key])
                except (TypeError, ValueError):
                    raise ModbusError(f"plugins.modbus.{key} must be a number of seconds") from None
                if not 0 < v[key] <= 600:
                    raise ModbusError(f"plugins.modbus.{key} must be > 0 and <= 600 seconds")
        choices = {"signal_at": ("judged", "stored"), "heartbeat": ("coil", "register", "off"),
                   "trigger_input": ("discrete_input", "coil", "off"), "failed_output": ("review", "reject", "none")}
        for key, allowed in choices.items():
            if key in section:
                text = "off" if section[key] in (None, False) and "off" in allowed else str(section[key]).strip()
                if text not in allowed:
                    raise ModbusError(f"plugins.modbus.{key} must be one of {', '.join(allowed)}, not {section[key]!r}")
                v[key] = text
        cfg = cls(**v)
        used = list(cfg.coils.values())
        if cfg.heartbeat == "coil":
            used.append(cfg.heartbeat_address)
        if cfg.trigger_input == "coil":
            used.append(cfg.trigger_address)
        if len(used) != len(set(used)):
            raise ModbusError(f"plugins.modbus: two signals share a coil ({sorted(used)}); give each its own address")
        return cfg


def _int(key: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool):
        raise ModbusError(f"plugins.modbus.{key} must be a whole number, not {value!r}")
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise ModbusError(f"plugins.modbus.{key} must be a whole number, not {value!r}") from None
    if not lo <= n <= hi:
        raise ModbusError(f"plugins.modbus.{key} must be {lo}..{hi}, not {n}")
    return n
