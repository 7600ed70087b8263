"""The GenICam source's options: settings section ``plugins.genicam``, then the spec's query.

``genicam:<device id or address>?exposure_us=5000&gain=2&pixel_format=BayerRG8`` overrides the
station's ``plugins: {genicam: {...}}`` section key by key; keyword arguments to the source
override both. Unknown keys and values of the wrong kind are refused with a
:class:`~inspector.sources.SourceError` (not recoverable) that lists the known keys.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from inspector import plugin_options
from inspector.sources import SourceError

log = logging.getLogger(__name__)

CAMERA_MODES = ("free-run", "software", "hardware")  # what the camera is set to (the line's every-frame: free-run)


@dataclass
class GenICamOptions:
    """What the source sets on the camera when it connects (and again after every reconnect)."""

    exposure_us: float | None = None  # ExposureTime(Abs) in microseconds; None: leave as the camera has it
    gain: float | None = None  # Gain (dB) or GainRaw, as the camera defines it
    pixel_format: str | None = None  # Mono8, Mono10/12/16, RGB8, BGR8, BayerRG8/GR8/GB8/BG8
    frame_rate: float | None = None  # free-run frames per second, where the camera has the feature
    trigger: str = "free-run"  # free-run | software | hardware (the line's trigger mode overrides it)
    trigger_line: str | None = None  # hardware trigger input, e.g. Line0 (default: the camera's first Line*)
    trigger_activation: str | None = None  # e.g. RisingEdge, where the camera offers a choice
    buffers: int = 8  # stream buffers queued to the camera
    packet_size: int | None = None  # GigE Vision stream packet size (None: negotiated by Aravis)
    stall_s: float = 3.0  # free-run: no frame for this long -> the camera is reconnected
    probe_s: float = 2.0  # triggered: how often an idle camera is checked (a register read)
    trigger_timeout_s: float = 2.0  # software trigger: no frame within this -> counted dropped, camera probed
    max_backoff_s: float = 5.0  # longest wait between two reconnect attempts
    max_reconnects: int | None = None  # give up (not recoverable) after this many; None: never
    features: dict[str, Any] = field(default_factory=dict)  # any other GenICam feature, set by name

    def __post_init__(self) -> None:
        self.trigger = str(self.trigger).strip().lower()
        if self.trigger == "every-frame":
            self.trigger = "free-run"
        if self.trigger not in CAMERA_MODES:
            raise SourceError(f"genicam trigger {self.trigger!r}: use one of {', '.join(CAMERA_MODES)}",
                              recoverable=False)
        if self.buffers < 2:
            raise SourceError("genicam buffers must be at least 2", recoverable=False)
        for name in ("stall_s", "probe_s", "trigger_timeout_s", "max_backoff_s"):
            if getattr(self, name) <= 0:
                raise SourceError(f"genicam {name} must be positive", recoverable=False)
        for name in ("exposure_us", "frame_rate"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise SourceError(f"genicam {name} must be positive, not {value}", recoverable=False)
        if not isinstance(self.features, dict):
            raise SourceError("genicam features must be a mapping of feature name to value", recoverable=False)


FIELDS = {f.name: f for f in dataclasses.fields(GenICamOptions)}
_ALIASES = {"exposure": "exposure_us", "format": "pixel_format", "fps": "frame_rate", "line": "trigger_line",
            "trigger_mode": "trigger"}


def _convert(name: str, value: Any) -> Any:
    if name == "features" and value is not None:
        return value
    return plugin_options.convert("genicam", name, str(FIELDS[name].type), value)


def merge(section: dict[str, Any] | None, query: str = "", overrides: dict[str, Any] | None = None) -> GenICamOptions:
    """Options from a settings section, a spec query string and keyword overrides (later wins)."""
    values: dict[str, Any] = {}
    layers = [("plugins.genicam", dict(section or {})), ("the source spec", dict(parse_qsl(query, True))),
              ("the source options", dict(overrides or {}))]
    for where, layer in layers:
        layer.pop("enabled", None)
        for key, value in layer.items():
            name = _ALIASES.get(key, key)
            if name not in FIELDS:
                raise SourceError(f"unknown genicam option {key!r} in {where}; known: {', '.join(sorted(FIELDS))}",
                                  recoverable=False)
            if name == "features" and where == "the source spec":
                raise SourceError("genicam features are set in plugins.genicam.features, not in the spec",
                                  recoverable=False)
            values[name] = _convert(name, value)
    return GenICamOptions(**values)


def station_section() -> dict[str, Any] | None:
    """The station's ``plugins.genicam`` section (None when absent or when settings cannot be read)."""
    return plugin_options.station_section("genicam")
