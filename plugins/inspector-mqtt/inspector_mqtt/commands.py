"""Commands the station takes over MQTT: a software trigger and a work-order change.

Payloads (``<prefix>/<station>/cmd/trigger`` and ``.../cmd/order``):

- trigger: empty (no part id), the part id as plain text, or JSON
  ``{"part_id": "SN-1", "request_id": "..."}`` -> ``station.trigger(part_id, origin="mqtt")``.
- order: the order id as plain text, or JSON ``{"order_id": "WO-1001", "request_id": "..."}``
  -> ``station.select_work_order(order_id)`` where the facade offers it, else
  ``station.find_work_order(order_id)`` (the store, then ``<data_dir>/workorders``; loading
  from that folder stores and audits it). The plugin reports the selected order in its status.

Every command is answered on ``.../cmd/reply`` with ``{"command", "ok", "error", ...}`` and the
caller's ``request_id``; a bad one is answered with the reason and never stops the station.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from inspector.errors import InspectorError, describe

log = logging.getLogger(__name__)

MAX_PAYLOAD = 4096  # bytes; a command is small


class CommandError(InspectorError):
    """A command message that cannot be carried out (bad payload, unknown order, no trigger)."""


def parse(payload: bytes, key: str) -> tuple[str | None, str]:
    """``(value of key or None, request_id)`` from a plain-text or JSON payload."""
    if len(payload) > MAX_PAYLOAD:
        raise CommandError(f"command payload is {len(payload)} bytes; at most {MAX_PAYLOAD}")
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise CommandError("command payload is not UTF-8 text") from None
    if not text:
        return None, ""
    if text[0] in "{[\"":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CommandError(f"command payload is not valid JSON: {exc.msg} at character {exc.pos}") from None
        if isinstance(data, str):
            return data.strip() or None, ""
        if not isinstance(data, dict):
            raise CommandError(f"command payload must be a JSON object or text, not {type(data).__name__}")
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise CommandError(f"{key} must be a string, not {value!r}")
        return (value.strip() or None) if value else None, str(data.get("request_id") or "")
    return text, ""


def trigger(station: Any, payload: bytes) -> dict[str, Any]:
    part_id, request_id = parse(payload, "part_id")
    fire = getattr(station, "trigger", None)
    if not callable(fire):
        raise CommandError("this station has no software trigger (Inspector.trigger)")
    fire(part_id, origin="mqtt")
    return {"command": "trigger", "part_id": part_id, "request_id": request_id}


def select_order(station: Any, payload: bytes) -> dict[str, Any]:
    order_id, request_id = parse(payload, "order_id")
    if not order_id:
        raise CommandError("an order command needs the order id (text, or JSON {\"order_id\": ...})")
    select = getattr(station, "select_work_order", None)
    try:
        wo = select(order_id) if callable(select) else station.find_work_order(order_id)
    except KeyError as exc:  # find_work_order: neither in the store nor in the work-order folder
        raise CommandError(str(exc.args[0]) if exc.args else f"no work order {order_id!r}") from None
    return {"command": "order", "order_id": wo.order_id, "version": wo.version, "part_number": wo.part_number,
            "lot": wo.lot, "request_id": request_id}


def run(name: str, fn: Any, station: Any, payload: bytes) -> dict[str, Any]:
    """Carry out one command; the reply says ok or why not (never raises)."""
    try:
        return {"ok": True, "error": "", **fn(station, payload)}
    except InspectorError as exc:
        log.warning("MQTT %s command refused: %s", name, describe(exc))
        return {"command": name, "ok": False, "error": describe(exc), "request_id": _request_id(payload)}
    except Exception as exc:  # a command never stops the station
        log.exception("MQTT %s command failed", name)
        return {"command": name, "ok": False, "error": f"{type(exc).__name__}: {exc}",
                "request_id": _request_id(payload)}


def _request_id(payload: bytes) -> str:
    try:
        data = json.loads(payload)
        return str(data.get("request_id") or "") if isinstance(data, dict) else ""
    except (ValueError, UnicodeDecodeError):
        return ""
