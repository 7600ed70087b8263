"""Entry-point plugins: one group per kind. A broken plugin is logged and skipped, never fatal.

Groups: ``inspector.sources``, ``inspector.backends``, ``inspector.publishers`` (a factory
``f(settings) -> callable(event)``, subscribed to the line's event bus), ``inspector.exporters``,
``inspector.commands`` (a module with ``register(subparsers)``: an ``inspector`` subcommand). Built-ins register the same way (see pyproject.toml), with a
fallback table so a source checkout that was never pip-installed still works.
"""

from __future__ import annotations

import importlib
import logging
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from inspector.errors import InspectorError

log = logging.getLogger(__name__)

BUILTINS: dict[str, dict[str, str]] = {
    "inspector.sources": {
        "folder": "inspector.sources.builtin:FolderSource",
        "files": "inspector.sources.builtin:FileListSource",
        "hotfolder": "inspector.sources.builtin:HotFolderSource",
        "video": "inspector.sources.builtin:VideoSource",
        "camera": "inspector.sources.builtin:CameraSource",
    },
    "inspector.backends": {"embedded-vlm": "inspector.model.vlm:EmbeddedVLM"},
    "inspector.publishers": {},
    "inspector.exporters": {},
    "inspector.commands": {},
}


class PluginError(InspectorError, LookupError):
    """No plugin of that name in the group, or it failed to load."""


@cache
def _table(group: str) -> dict[str, str]:
    table = dict(BUILTINS.get(group, {}))
    try:
        for ep in entry_points(group=group):
            table[ep.name] = ep.value
    except Exception as exc:  # a broken distribution's metadata must not stop the station
        log.warning("cannot list plugins of %s: %s", group, exc)
    return table


def names(group: str) -> list[str]:
    """Names registered in ``group`` (built-ins included)."""
    return sorted(_table(group))


def get(group: str, name: str) -> Any:
    """Load the object registered as ``name`` in ``group``. Raises PluginError with the choices."""
    table = _table(group)
    if name not in table:
        raise PluginError(f"no {group.split('.')[-1][:-1]} named {name!r}; available: {', '.join(sorted(table))}")
    module, _, attr = table[name].partition(":")
    try:
        obj = importlib.import_module(module)
        for part in attr.split(".") if attr else ():
            obj = getattr(obj, part)
    except Exception as exc:
        raise PluginError(f"plugin {name!r} ({table[name]}) failed to load: {exc}") from exc
    return obj


def load_all(group: str) -> dict[str, Any]:
    """Every loadable plugin of a group; broken ones are logged and skipped."""
    out = {}
    for name in names(group):
        try:
            out[name] = get(group, name)
        except PluginError as exc:
            log.error("skipping broken plugin: %s", exc)
    return out
