"""Entry-point plugins: one group per kind. A broken plugin is logged and skipped, never fatal.

Groups: ``inspector.sources``, ``inspector.backends``, ``inspector.publishers`` (a factory
``f(settings)`` or ``f(settings, station) -> callable(event)``, subscribed to the line's event
bus on its own thread; ``station`` is the ``Inspector`` facade, for plugins that also control
the line (triggers, order selection); an optional ``close()`` on the callable is called at
shutdown; a factory returns None when the station has not configured it: ``settings.plugin(name)``), ``inspector.exporters``,
``inspector.commands`` (a module with ``register(subparsers)``: an ``inspector`` subcommand). Built-ins register the same way (see pyproject.toml), with a
fallback table so a source checkout that was never pip-installed still works.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
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


GROUPS = tuple(BUILTINS)


@dataclass(frozen=True)
class PluginStatus:
    """One registered plugin as ``inspector plugins`` lists it."""

    group: str
    name: str
    target: str  # "module:attr"
    distribution: str  # the installed distribution that registers it ("built-in" for the fallback table)
    version: str
    loaded: bool
    error: str = ""


@cache
def _origins(group: str) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    try:
        for ep in entry_points(group=group):
            dist = getattr(ep, "dist", None)
            out[ep.name] = (dist.metadata["Name"], dist.version) if dist is not None else ("?", "")
    except Exception:  # listed as unknown origin; _table logs the failure
        pass
    return out


def status(groups: tuple[str, ...] = GROUPS) -> list[PluginStatus]:
    """Every registered plugin with whether it loads; a broken one carries its error, never raises."""
    rows = []
    for group in groups:
        origins = _origins(group)
        for name in names(group):
            dist, version = origins.get(name, ("built-in", ""))
            try:
                get(group, name)
                rows.append(PluginStatus(group, name, _table(group)[name], dist, version, True))
            except PluginError as exc:
                rows.append(PluginStatus(group, name, _table(group)[name], dist, version, False, str(exc)))
    return rows


@cache
def _table(group: str) -> dict[str, str]:
    table = dict(BUILTINS.get(group, {}))
    try:
        for ep in entry_points(group=group):
            table[ep.name] = ep.value
    except Exception as exc:  # a broken distribution's metadata must not stop the station
        log.warning("cannot list plugins of %s: %s", group, exc)
    return table


def call_factory(factory: Any, settings: Any, station: Any) -> Any:
    """Build a publisher: ``factory(settings, station)`` when it takes two arguments, else ``factory(settings)``."""
    import inspect

    try:
        params = [p for p in inspect.signature(factory).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return factory(settings, station) if len(params) >= 2 else factory(settings)


def call_backend(factory: Any, reference_dir: Any, device: str = "auto", settings: Any = None, **options: Any) -> Any:
    """Build a model backend: ``factory(reference_dir, device=device)``, plus ``settings=`` when the
    factory takes it (a plugin backend reads its ``settings.plugin(name)`` section) and ``options``
    (e.g. ``model_dir`` from ``inspector eval --model-dir``). An option the factory does not take is a
    :class:`PluginError`, never silently dropped."""
    import inspect

    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        params = {}
    anything = any(p.kind is p.VAR_KEYWORD for p in params.values())
    refused = [k for k in options if k not in params and not anything]
    if refused:
        raise PluginError(f"backend {getattr(factory, '__name__', factory)} takes no {', '.join(refused)} option")
    extra = {"settings": settings} if settings is not None and ("settings" in params or anything) else {}
    return factory(reference_dir, device=device, **extra, **options)


def start_publishers(settings: Any, station: Any) -> list[Any]:
    """Build every configured publisher and subscribe it to ``station.events`` on its own thread.

    A factory that returns None is not configured (off); one that raises is logged and skipped.
    """
    started = []
    for name, factory in load_all("inspector.publishers").items():
        try:
            publisher = call_factory(factory, settings, station)
            if publisher is None:
                continue
            station.events.subscribe(publisher, background=True)
            started.append(publisher)
        except Exception:  # a broken publisher never stops the station
            log.exception("publisher %s failed to start", name)
    return started


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
