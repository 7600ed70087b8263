"""Canonical JSON and its SHA-256 digest: the one definition behind every hash the core records.

Canonical JSON is ``to_data`` of the object (domain objects become dicts), keys sorted,
separators ``,`` and ``:`` without spaces, non-ASCII characters kept as they are, encoded as
UTF-8, floats as Python writes them (shortest round trip). NaN and infinity have no JSON
form: they are refused with :class:`CanonicalError` naming where they are, never written as
``NaN`` nor turned into ``null`` (a recorded value must not change without a trace).

``content_only=True`` leaves out fields that are not content (``WorkOrder.version``,
``Inspection.work_order_version``: numbers the store assigns), so equal content gives an
equal digest whatever number the store gave it.

Served to the audit chain (event hashes and their before/after texts), signatures and
retention manifests (``inspector.trace``), work-order content hashes (``inspector.store``)
and report document hashes (``inspector.reports``). Any change to these bytes changes every
digest: existing audit chains and printed reports would no longer verify.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from inspector.domain import to_data
from inspector.errors import InspectorError


class CanonicalError(InspectorError, ValueError):
    """The data has no canonical JSON form (NaN or infinity); the message says where."""


def non_finite_at(data: Any, path: str = "") -> str | None:
    """Where the first NaN/inf inside plain ``data`` (dicts, lists, floats) is, or None."""
    if isinstance(data, float) and not math.isfinite(data):
        return path or "top level"
    if isinstance(data, dict):
        items: Any = ((f"{path}.{k}" if path else str(k), v) for k, v in data.items())
    elif isinstance(data, (list, tuple)):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(data))
    else:
        return None
    for where, value in items:
        found = non_finite_at(value, where)
        if found is not None:
            return found
    return None


def canonical_text(obj: Any, *, content_only: bool = False) -> str:
    """The canonical JSON text of ``obj``. Raises :class:`CanonicalError` for NaN/inf."""
    data = to_data(obj, content_only=content_only)
    try:
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError:
        where = non_finite_at(data)
        if where is None:
            raise
        raise CanonicalError(f"the data holds NaN or infinity at {where}: it has no JSON form and "
                             "cannot be recorded or hashed; fix the producer or use None") from None


def canonical_bytes(obj: Any, *, content_only: bool = False) -> bytes:
    """:func:`canonical_text` encoded as UTF-8 (what digests are taken of)."""
    return canonical_text(obj, content_only=content_only).encode("utf-8")


def sha256_hex(data: bytes | str) -> str:
    """SHA-256 (lowercase hex) of bytes, or of a text's UTF-8 bytes."""
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def digest(obj: Any, *, content_only: bool = False) -> str:
    """SHA-256 (lowercase hex) of the canonical JSON of ``obj``. Raises :class:`CanonicalError`."""
    return sha256_hex(canonical_bytes(obj, content_only=content_only))
