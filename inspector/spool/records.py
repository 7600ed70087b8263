"""One spooled record: a part's complete inspection (with its image bytes) or a late explanation.

A record file is written once and never changed::

    INSPECTOR-SPOOL/1\\n
    <header: one line of JSON>\\n
    <image bytes, exactly header["image_len"] of them>
    \\n<sha256 hex of every byte above>\\n

The trailer proves the file is whole and unchanged; :func:`decode` refuses anything else
with :class:`SpoolCorrupt`. The header holds the record kind, the inspection id (the key
that makes draining idempotent), when and why it was spooled, and the data itself
(``inspector.domain.to_data`` of the inspection, or of the explanation).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from inspector.domain import (
    Explanation,
    Inspection,
    ModelInfo,
    finding_from_data,
    to_data,
    utcnow,
    verdict_from_data,
)
from inspector.errors import InspectorError

MAGIC = b"INSPECTOR-SPOOL/1\n"
KINDS = ("inspection", "explanation")


class SpoolError(InspectorError):
    """The spool cannot take or give a record (full, no space, folder not writable, damaged file).

    Exit code 3, as a line that cannot go on: the operator must free space or fix the folder.
    """

    exit_code = 3


class SpoolCorrupt(SpoolError):
    """A record file is not whole (bad magic, header or checksum): it is held, never drained."""


@dataclass
class SpoolRecord:
    """What the spool keeps for one part (``kind`` inspection) or one late explanation."""

    kind: str
    inspection_id: str
    fault: str  # the storage fault that sent it here, as the user saw it
    station: str
    spooled_at: datetime = dataclasses.field(default_factory=utcnow)
    inspection: Inspection | None = None
    explanation: Explanation | None = None
    explained_at: datetime | None = None  # when the explanation was made (its row's created_at)
    image: bytes = b""
    image_ext: str = ""

    @property
    def size(self) -> int:
        return len(self.image)


def inspection_from_data(d: dict[str, Any]) -> Inspection:
    """The inverse of ``to_data(inspection)``; fields it does not know are passed through as they are."""
    convert = {
        "captured_at": datetime.fromisoformat,
        "inspected_at": datetime.fromisoformat,
        "model": lambda v: ModelInfo(**v),
        "findings": lambda v: [finding_from_data(f) for f in v],
        "verdict": verdict_from_data,
        "image_size": tuple,
        "explanation": lambda v: None if v is None else explanation_from_data(v),
        "thresholds": dict,
        "timings_ms": dict,
    }
    kwargs = {f.name: convert.get(f.name, lambda v: v)(d[f.name])
              for f in dataclasses.fields(Inspection) if f.name in d}
    return Inspection(**kwargs)


def explanation_from_data(d: dict[str, Any]) -> Explanation:
    return Explanation(text=d["text"], fallback=bool(d["fallback"]), generator=d.get("generator", ""),
                       problems=tuple(d.get("problems", ())))


def encode(record: SpoolRecord) -> bytes:
    """The record file's bytes (header, image, checksum trailer)."""
    if record.kind not in KINDS:
        raise SpoolError(f"unknown spool record kind {record.kind!r}")
    header = {
        "kind": record.kind,
        "inspection_id": record.inspection_id,
        "fault": record.fault,
        "station": record.station,
        "spooled_at": record.spooled_at.isoformat(),
        "image_ext": record.image_ext,
        "image_len": len(record.image),
        "image_sha256": hashlib.sha256(record.image).hexdigest() if record.image else "",
        "inspection": None if record.inspection is None else to_data(record.inspection),
        "explanation": None if record.explanation is None else to_data(record.explanation),
        "explained_at": None if record.explained_at is None else record.explained_at.isoformat(),
    }
    try:
        head = json.dumps(header, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode()
    except ValueError as exc:  # NaN/inf: the store would refuse it too; say which record
        raise SpoolError(f"inspection {record.inspection_id}: cannot be spooled: {exc}") from exc
    body = MAGIC + head + b"\n" + record.image
    return body + b"\n" + hashlib.sha256(body).hexdigest().encode() + b"\n"


def decode(data: bytes, name: str = "record") -> SpoolRecord:
    """A record from its file's bytes. Raises :class:`SpoolCorrupt` naming what is wrong."""
    if not data.startswith(MAGIC):
        raise SpoolCorrupt(f"{name}: not an Inspector spool record (no {MAGIC.strip().decode()} header)")
    if len(data) < len(MAGIC) + 66 or data[-66:-65] != b"\n" or data[-1:] != b"\n":
        raise SpoolCorrupt(f"{name}: the record is cut short (no checksum trailer)")
    body, digest = data[:-66], data[-65:-1]
    if hashlib.sha256(body).hexdigest().encode() != digest:
        raise SpoolCorrupt(f"{name}: checksum mismatch: the file was damaged or changed after it was written")
    end = body.find(b"\n", len(MAGIC))
    try:
        h = json.loads(body[len(MAGIC):end])
        image = body[end + 1:]
        if len(image) != h["image_len"]:
            raise ValueError(f"image is {len(image)} bytes, the header says {h['image_len']}")
        return SpoolRecord(
            kind=h["kind"], inspection_id=h["inspection_id"], fault=h["fault"], station=h["station"],
            spooled_at=datetime.fromisoformat(h["spooled_at"]),
            inspection=None if h["inspection"] is None else inspection_from_data(h["inspection"]),
            explanation=None if h["explanation"] is None else explanation_from_data(h["explanation"]),
            explained_at=None if h["explained_at"] is None else datetime.fromisoformat(h["explained_at"]),
            image=bytes(image), image_ext=h["image_ext"],
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise SpoolCorrupt(f"{name}: unreadable header: {exc}") from exc
