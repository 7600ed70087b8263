"""Find any inspected part by what a quality engineer has in hand: an inspection id (or a unique
prefix), the part id (serial, as read or given; or its beginning), the image name, or an image
hash prefix. Used to pull a part the
machine passed into review (escape correction); read-only.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, or_, select

from inspector.store.tables import InspectionRow
from inspector.trace import _db

_HEX = re.compile(r"^[0-9a-f]{4,64}$")


def find_parts(store: Any, text: str, *, order_id: str | None = None, limit: int = 50) -> list[str]:
    """Inspection ids matching ``text``, best matches first (at most ``limit``).

    Matches, in this order: the exact inspection id; an inspection id or image sha256 starting
    with ``text`` (4+ hex characters); the exact part id, or image name (case-insensitive); a
    part id starting with ``text``; an image name containing ``text`` (case-insensitive). Newest inspection first within each kind. ``order_id``
    restricts to one work order. Raises ``ValueError`` for an empty or over-long ``text``.
    """
    needle = (text or "").strip()
    if not needle or len(needle) > 200:
        raise ValueError("give an inspection id (or its first characters), an image/part name or an image hash")
    t = InspectionRow
    low = needle.lower()
    like = "%" + low.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    conds = [t.id == low, func.lower(t.frame_name) == low, func.lower(t.frame_name).like(like, escape="\\"),
             func.lower(t.part_id).startswith(low, autoescape=True)]
    if _HEX.match(low):
        conds += [t.id.startswith(low), t.image_sha256.startswith(low)]
    stmt = select(t.id, t.frame_name, t.image_sha256, t.part_id).where(or_(*conds))
    if order_id is not None:
        stmt = stmt.where(t.order_id == order_id)
    stmt = stmt.order_by(t.inspected_at.desc(), t.id).limit(max(1, limit) * 4)
    with _db.read_session(_db.engine_of(store)) as s:
        rows = s.execute(stmt).all()

    def rank(row: Any) -> int:
        iid, name, sha, part = row
        if iid == low:
            return 0
        if _HEX.match(low) and (iid.startswith(low) or (sha or "").startswith(low)):
            return 1
        if low in ((part or "").lower(), (name or "").lower()):
            return 2
        return 3 if (part or "").lower().startswith(low) else 4

    ranked = sorted(enumerate(rows), key=lambda kv: (rank(kv[1]), kv[0]))  # stable: newest first per rank
    return [row[0] for _, row in ranked][:limit]
