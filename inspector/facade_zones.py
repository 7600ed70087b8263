"""The facade's zones door: zones a work order names but leaves to draw, drawn per part and used in judging.

A mixin of :class:`inspector.pipeline.Inspector`. A work order may name a zone without
geometry ("no scratches on the mating face"); the quality engineer draws it on the taught
image in the Teach tab. The drawn zones are kept per part number, like the part's reference,
in ``<data dir>/zones/<part>.json`` (and the image they were drawn on beside it as PNG), written
atomically, and every save is audited (``zones.drawn``). When a part is inspected, each zone
still to draw in its work order is replaced by the drawn zone of the same name (any case).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from inspector.domain import WorkOrder, Zone, utcnow
from inspector.errors import UsageError

ZONES_FORMAT = 1
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


class ZoneError(UsageError):
    """Zones that cannot be saved: no part number, an empty or unnamed box, a duplicate name."""


def zones_file(data_dir: Path, part_number: str) -> Path:
    """``<data_dir>/zones/<part>.json``; unsafe characters are replaced and a hash keeps names apart."""
    if not part_number or not part_number.strip():
        raise ZoneError("part number is empty: zones are kept per part number")
    safe = _SAFE.sub("_", part_number.strip())
    if safe != part_number or safe in (".", ".."):
        safe = f"{safe}-{hashlib.sha256(part_number.encode()).hexdigest()[:8]}"
    return Path(data_dir) / "zones" / f"{safe}.json"


def _atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary name, fsync, rename: a crash leaves the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _zone_data(z: Zone) -> dict[str, Any]:
    return {"name": z.name, "label": z.label, "box": [round(float(v), 4) for v in z.box], "unit": z.unit}


@functools.lru_cache(maxsize=64)
def _read_zones(path: str, mtime_ns: int, size: int) -> tuple[Zone, ...]:
    """Zones of one file version (cached by modification time: judging reads them for every part)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return tuple(
        Zone(
            str(z["name"]),
            tuple(float(v) for v in z["box"]),
            str(z.get("unit", "%")),
            str(z.get("label", "")),
        )
        for z in data.get("zones", ())
    )


def _check(zones: Sequence[Zone], image_size: tuple[int, int] | None) -> None:
    seen: set[str] = set()
    for z in zones:
        name = z.name.strip()
        if not name:
            raise ZoneError("a zone needs a name")
        if name.casefold() in seen:
            raise ZoneError(f"zone {name!r} is drawn twice: one box per zone")
        seen.add(name.casefold())
        if z.unit not in ("px", "%"):
            raise ZoneError(f"zone {name!r}: unit {z.unit!r}; draw zones in px or % of the image")
        if len(z.box) != 4 or not all(math.isfinite(v) and v >= 0 for v in z.box) or not z.defined:
            raise ZoneError(f"zone {name!r}: empty box {tuple(z.box)}; drag a rectangle on the image")
        limit = (100.0, 100.0) if z.unit == "%" else image_size
        if limit is not None and (z.box[2] > limit[0] + 1e-6 or z.box[3] > limit[1] + 1e-6):
            raise ZoneError(f"zone {name!r}: box {tuple(z.box)} {z.unit} leaves the image")


class ZonesDoor:
    """Zones drawn in the Teach tab: save, read back, and apply to a work order before judging."""

    settings: Any
    actor: str
    require: Callable[[str], None]
    _record: Callable[..., None]

    def drawn_zones(self, part_number: str) -> tuple[Zone, ...]:
        """The zones drawn for a part (box in ``px`` or ``%`` of the image); empty when none are."""
        path = zones_file(self.settings.data_dir, part_number)
        try:
            st = path.stat()
            return _read_zones(str(path), st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            return ()

    def zone_image(self, part_number: str) -> np.ndarray | None:
        """The image the part's zones were drawn on (RGB), None when none was saved."""
        from inspector.sources import read_image

        path = zones_file(self.settings.data_dir, part_number).with_suffix(".png")
        return read_image(path) if path.is_file() else None

    def save_zones(
        self, part_number: str, zones: Sequence[Zone], image: np.ndarray | None = None
    ) -> tuple[Zone, ...]:
        """Save the zones drawn for a part, replacing the earlier set; ``image``: what they were drawn on.

        Needs the 'teach' right (like teaching). Each zone needs a name and a non-empty box in
        ``px`` or ``%`` of the image. Audited as ``zones.drawn`` with the zones before and after.
        Raises ``ZoneError`` (a ``UsageError``) for zones that cannot be saved.
        """
        self.require("teach")
        path = zones_file(self.settings.data_dir, part_number)
        zones = tuple(replace(z, name=z.name.strip(), box=tuple(float(v) for v in z.box)) for z in zones)
        size = None if image is None else (int(image.shape[1]), int(image.shape[0]))
        _check(zones, size)
        before = [_zone_data(z) for z in self.drawn_zones(part_number)]
        image_sha = None
        if image is not None:
            import cv2

            ok, png = cv2.imencode(
                ".png", np.ascontiguousarray(image[..., ::-1]) if image.ndim == 3 else image
            )
            if not ok:
                raise ZoneError("the image the zones were drawn on cannot be encoded as PNG")
            image_sha = hashlib.sha256(png.tobytes()).hexdigest()
            _atomic_write(path.with_suffix(".png"), png.tobytes())
        doc = {
            "format": ZONES_FORMAT,
            "part_number": part_number,
            "saved_at": utcnow().isoformat(),
            "saved_by": self.actor,
            "image_size": list(size) if size else None,
            "image_sha256": image_sha,
            "zones": [_zone_data(z) for z in zones],
        }
        _atomic_write(path, json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8"))
        _read_zones.cache_clear()
        after = {"zones": doc["zones"], "image_size": doc["image_size"], "image_sha256": image_sha}
        self._record("zones.drawn", "part", part_number, {"zones": before} if before else None, after)
        return zones

    def with_drawn_zones(self, work_order: WorkOrder) -> WorkOrder:
        """``work_order`` with every zone still to draw replaced by the zone drawn for its part.

        Names match case-insensitively; the order's label is kept. Zones the order defines
        itself are never replaced. Returns the same object when nothing changes.
        """
        if not work_order.part_number or all(z.defined for z in work_order.zones):
            return work_order
        drawn = {z.name.casefold(): z for z in self.drawn_zones(work_order.part_number)}
        if not drawn:
            return work_order
        zones = tuple(
            replace(z, box=d.box, unit=d.unit, label=z.label or d.label)
            if not z.defined and (d := drawn.get(z.name.casefold())) is not None
            else z
            for z in work_order.zones
        )
        return replace(work_order, zones=zones)
