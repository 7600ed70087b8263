"""The station settings a verdict depends on, recorded in the audit trail at every run that changed them.

Settings live in a YAML file that whoever runs the station may edit (it is configuration, not a
record), so an edit is not tampering in itself. What must hold is that every verdict's settings
are on record: ``record_settings`` (called at the start of every run) appends ``settings.recorded``
when the verdict-relevant values differ from the last ones recorded for this station, with the
fields that changed and those that changed **outside the app** (no ``settings.changed`` /
``threshold.changed`` event of the facade's ``save_settings`` covers them). ``check_settings``
gives ``verify``'s warnings: settings that differ from the last recorded (an edit since the last
run) and every recorded edit made outside the app.

Recorded: every field except paths and URLs (``data_dir``, ``database_url``, ``*_dir``: where,
not how), what a command line sets per run without changing a verdict (``device``, ``explain``,
``operator``: the operator is recorded with every inspection anyway), the spool's and the
database's tuning, display options, and ``plugins`` (whose sections may hold secrets such as a
bearer token: only a digest of each section is recorded).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from inspector.canonical import canonical_text, sha256_hex
from inspector.store.trace_tables import AuditEventRow
from inspector.trace import _db
from inspector.trace.audit import Audit

ACTION = "settings.recorded"
NOT_RECORDED = frozenset({"data_dir", "database_url", "image_dir", "reference_dir", "spool_dir", "plugins",
                          "station", "device", "explain", "operator", "floor_layout", "hold_flagged",
                          "torch_threads", "db_busy_timeout_ms"})


def settings_values(settings: Any) -> dict[str, Any]:
    """The recorded values of ``settings`` (plain JSON; plugin sections as digests)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(settings):
        if f.name in NOT_RECORDED or f.name.startswith("spool_"):
            continue
        value = getattr(settings, f.name)
        out[f.name] = str(value) if isinstance(value, Path) else value
    plugins = getattr(settings, "plugins", None) or {}
    out["plugins"] = {name: sha256_hex(canonical_text(section)) for name, section in sorted(plugins.items())}
    return json.loads(canonical_text(out))


def _last(s: Any, station: str) -> tuple[int, dict[str, Any]] | None:
    t = AuditEventRow
    row = s.execute(select(t.seq, t.after).where(t.action == ACTION, t.entity_id == station)
                    .order_by(t.seq.desc()).limit(1)).first()
    if row is None:
        return None
    try:
        after = json.loads(row[1] or "{}")
    except ValueError:
        after = {}
    return row[0], after if isinstance(after, dict) else {}


_MISSING = object()


def _changed(old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    """Fields of ``new`` whose value differs from ``old`` (fields no longer recorded are ignored)."""
    if old is None:
        return []
    return sorted(k for k in new if old.get(k, _MISSING) != new[k])


def record_settings(store: Any, settings: Any, actor: str) -> int | None:
    """Append ``settings.recorded`` when this station's settings differ from the last recorded ones.

    Returns the event's seq, or None when nothing changed (then nothing is written).
    """
    engine = _db.engine_of(store)
    values = settings_values(settings)
    digest = sha256_hex(canonical_text(values))
    station = str(settings.station)
    with _db.read_session(engine) as s:
        last = _last(s, station)
    if last is not None and not _changed(last[1].get("values") or {}, values):
        return None
    with _db.write_session(engine) as s:
        _db.lock_chain(s)
        last = _last(s, station)
        if last is not None and not _changed(last[1].get("values") or {}, values):
            return None
        changed = _changed(last[1].get("values") if last else None, values)
        covered: set[str] = set()
        if last is not None:
            t = AuditEventRow
            for action, eid, after in s.execute(select(t.action, t.entity_id, t.after).where(
                    t.seq > last[0], t.action.in_(("settings.changed", "threshold.changed")), t.entity == "settings")):
                covered |= set(json.loads(after or "{}")) if action == "settings.changed" else {eid}
        event = Audit(engine).append_in(s, actor, ACTION, "settings", station, None, {
            "digest": digest, "values": values, "changed": changed,
            "outside_app": [k for k in changed if k not in covered]})
        return event.seq


def check_settings(engine: Any, settings: Any) -> list[str]:
    """``verify``'s warnings about the settings: unrecorded differences and edits made outside the app."""
    warnings: list[str] = []
    values = settings_values(settings)
    station = str(settings.station)
    t = AuditEventRow
    with _db.read_session(engine) as s:
        for seq, eid, after_text in s.execute(select(t.seq, t.entity_id, t.after).where(t.action == ACTION)
                                              .order_by(t.seq)):
            outside = json.loads(after_text or "{}").get("outside_app") or []
            if outside:
                warnings.append(f"settings of station {eid} were changed outside the app before the run recorded in "
                                f"event #{seq}: {', '.join(outside)}")
        last = _last(s, station)
    fields = _changed(last[1].get("values") or {}, values) if last is not None else []
    if fields:
        warnings.append(f"the settings of station {station} differ from those recorded in event #{last[0]} "
                        f"({', '.join(fields)}): the next run records them")
    return warnings
