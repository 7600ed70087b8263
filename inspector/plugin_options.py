"""What plugin sources share for their options: typed values from settings or spec text, and the
station's settings section when no settings were handed over.

A plugin's options are a dataclass; a value arrives as YAML (typed) or as text from a source spec
(``?exposure_us=900``, ``#read_timeout_s=3``). :func:`convert` turns it into the field's type or
raises a non-recoverable :class:`SourceError` naming the plugin, the option and the value.
"""

from __future__ import annotations

import logging
from typing import Any

from inspector.sources.base import SourceError

_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")
_WHAT = {"float": "a number", "int": "a whole number", "bool": "true or false"}


def convert(plugin: str, name: str, kind: str, value: Any) -> Any:
    """``value`` as a field of type ``kind`` (the dataclass field's type as text: ``float``,
    ``int | None``, ``bool``, ``str``...). Empty, ``none`` or ``null`` is None where the field
    allows it; anything not a ``float``/``int``/``bool`` field is stripped text."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "null")):
        if "None" in kind:
            return None
        raise SourceError(f"{plugin} {name} needs a value", recoverable=False)
    base = kind.split(" ")[0]
    try:
        if base == "float":
            return float(value)
        if base == "int":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            return int(value)
        if base == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text not in _TRUE + _FALSE:
                raise ValueError(value)
            return text in _TRUE
    except (TypeError, ValueError):
        raise SourceError(f"{plugin} {name} must be {_WHAT[base]}, not {value!r}", recoverable=False) from None
    return str(value).strip()


def station_section(plugin: str) -> dict[str, Any] | None:
    """The station's ``plugins.<plugin>`` section from its settings file (``$INSPECTOR_CONFIG`` or
    the default), for a source opened without settings; None when absent or unreadable (the
    station reports broken settings itself; the spec still works)."""
    try:
        from inspector.settings import Settings

        return Settings.load().plugin(plugin)
    except Exception as exc:
        logging.getLogger(f"inspector_{plugin}").warning(
            "%s: station settings not read (%s); using the spec's options only", plugin, exc)
        return None
