"""RawOrder -> WorkOrder: header fields, clause ids, rules, and the checks across clauses."""

from __future__ import annotations

import re
import string

from inspector.domain import SpecClause, WorkOrder, Zone
from inspector.workorder.errors import Collector, WorkOrderError
from inspector.workorder.raw import RawOrder
from inspector.workorder.rules import ParseContext, parse_rules
from inspector.workorder.units import parse_pixel_size, parse_quantity
from inspector.workorder.zones import check_unique

_ORDER_ID_RE = re.compile(r"^[\w][\w.\-/#: ]{0,63}$")
#: A clause is a sentence or two; longer text is refused rather than parsed slowly.
MAX_CLAUSE_CHARS = 1000
MAX_CLAUSES = 500


def _text_field(raw: RawOrder, name: str) -> str:
    value = raw.fields.get(name, ("", None))[0]
    return " ".join(str(value).split())


def _pixel_size(raw: RawOrder) -> float | None:
    if "pixel_size" not in raw.fields:
        return None
    value, line = raw.fields["pixel_size"]
    if not str(value).strip():
        raise WorkOrderError("pixel size is empty", line=line)
    return parse_pixel_size(str(value), line=line)


def build_work_order(raw: RawOrder, source_text: str, problems: Collector | None = None) -> WorkOrder:
    """Build and check the WorkOrder.

    Every problem is collected (``problems`` may hold some from reading already) and raised
    together as one WorkOrderError, each with its line.
    """
    bad = problems or Collector()
    for err in raw.problems:
        bad.add(err)
    order_id = ""
    if "order" not in raw.fields or not _text_field(raw, "order"):
        line = raw.fields.get("order", ("", None))[1]
        hint = "a line 'Order: WO-1234'" if raw.fmt == "text" else "a key 'order: WO-1234'"
        bad.add(WorkOrderError(f"no order id (add {hint})", line=line))
    else:
        order_id = _text_field(raw, "order")
        if not _ORDER_ID_RE.match(order_id):
            bad.add(
                WorkOrderError(
                    f"order id {order_id!r} has characters other than letters, digits and . - / # :",
                    line=raw.fields["order"][1],
                )
            )
    quantity = None
    if "quantity" in raw.fields:
        value, line = raw.fields["quantity"]
        quantity = _try(bad, lambda: parse_quantity(str(value), line=line))
    pixel = _try(bad, lambda: _pixel_size(raw))
    _try(bad, lambda: check_unique(raw.zones))
    for zd in raw.zones:
        if zd.zone.unit == "mm" and not pixel and "pixel_size" not in raw.fields:
            bad.add(
                WorkOrderError(
                    f"zone {zd.zone.name!r} is in mm but the work order has no pixel size "
                    "(add 'Pixel size: 0.05 mm/px', or give the zone in px or %)",
                    line=zd.line,
                )
            )
    ctx_zones = {zd.zone.name.lower(): zd.zone.name for zd in raw.zones if zd.zone.defined}
    labels = {zd.label.lower(): zd.zone.name for zd in raw.zones if zd.label}
    # zones the order names (with a label) for the QE to draw: 'Zone BB "busbars": to be drawn'
    undrawn: dict[str, str] = {zd.zone.name.lower(): zd.zone.name for zd in raw.zones if not zd.zone.defined}
    drawn_labels = {zd.zone.name: zd.label for zd in raw.zones if zd.label}
    part_words = frozenset(w for w in re.findall(r"[a-z]+", _text_field(raw, "part").lower()) if len(w) > 2)
    recent: dict[str, tuple[str, tuple[str, ...]]] = {}
    if not raw.items and not raw.problems:  # items that could not be read are reported already
        hint = "after the header, e.g. '1. No cracks.'" if raw.fmt == "text" else "under 'spec:'"
        bad.add(WorkOrderError(f"no spec clauses (write the acceptance rules {hint})"))
    if len(raw.items) > MAX_CLAUSES:
        bad.add(WorkOrderError(f"{len(raw.items)} spec clauses; at most {MAX_CLAUSES} are accepted"))
        raw.items = raw.items[:MAX_CLAUSES]
    clauses: list[SpecClause] = []
    ids: dict[str, int | None] = {}
    written = {int(it.number.split(".")[0]) for it in raw.items if it.number}
    last = 0
    for item in raw.items:
        if item.number:
            number = int(item.number.split(".")[0])
            base = f"§{item.number}"
        else:  # sequential, skipping numbers written elsewhere in the spec
            number = last + 1
            while number in written:
                number += 1
            base = f"§{number}"
        last = max(last, number)
        if base in ids:
            bad.add(
                WorkOrderError(f"clause {base} is numbered twice (first on line {ids[base]})", line=item.line)
            )
            continue
        ids[base] = item.line
        if len(item.text) > MAX_CLAUSE_CHARS:
            bad.add(
                WorkOrderError(
                    f"clause {base} is {len(item.text)} characters long; split it (at most {MAX_CLAUSE_CHARS})",
                    line=item.line,
                )
            )
            continue
        ctx = ParseContext(
            ctx_zones,
            labels,
            pixel,
            item.line,
            undrawn,
            recent,
            section=item.section,
            rejects=item.rejects,
            part_words=part_words,
        )
        drafts = _try(
            bad,
            lambda item=item, ctx=ctx: parse_rules(
                item.text, ctx, severity=item.severity, zone=item.zone, zone_mode=item.zone_mode
            ),
        )
        for k, d in enumerate(drafts or ()):
            cid = base if len(drafts) == 1 else base + _suffix(k)
            clauses.append(
                SpecClause(
                    id=cid,
                    number=number,
                    text=item.text,
                    line=item.line or 0,
                    checkable=d.checkable,
                    defect_type=d.defect_type,
                    type_words=d.type_words,
                    measure=d.measure,
                    comparison=d.comparison,
                    limit=d.limit,
                    unit=d.unit,
                    limit_text=d.limit_text,
                    zone=d.zone,
                    zone_mode=d.zone_mode,
                    severity=d.severity,
                    note=d.note,
                    catch_all=d.catch_all,
                    count_per=d.count_per,
                    count_base=d.count_base,
                    flags=d.flags,
                )
            )
    for err in check_consistency(clauses):
        bad.add(err)
    bad.raise_if_any()
    to_draw = tuple(
        Zone(name=name, box=(0.0, 0.0, 0.0, 0.0), unit="%", label=drawn_labels.get(name, ""))
        for name in undrawn.values()
    )
    return WorkOrder(
        order_id=order_id,
        part_number=_text_field(raw, "part"),
        lot=_text_field(raw, "lot"),
        quantity=quantity,
        pixel_size_mm=pixel,
        customer=_text_field(raw, "customer"),
        revision=_text_field(raw, "revision"),
        clauses=tuple(clauses),
        zones=tuple(zd.zone for zd in raw.zones if zd.zone.defined) + to_draw,
        header=dict(raw.header),
        source_text=source_text,
        source_format=raw.fmt,
    )


def _try(bad: Collector, fn):
    """``fn()``, or None after collecting its WorkOrderError."""
    try:
        return fn()
    except WorkOrderError as err:
        bad.add(err)
        return None


def _suffix(k: int) -> str:
    letters = string.ascii_lowercase
    return letters[k] if k < 26 else f"{letters[k // 26 - 1]}{letters[k % 26]}"


def _scope(c: SpecClause) -> str:
    if c.zone_mode == "anywhere" or not c.zone:
        return ""
    return f" {c.zone_mode} zone {c.zone}"


def _is_ban(c: SpecClause) -> bool:
    return c.measure == "count" and c.comparison == "<=" and c.limit == 0


def _covers(ban: SpecClause, other: SpecClause) -> bool:
    if ban.zone_mode == "anywhere" or not ban.zone:
        return True
    return ban.zone_mode == other.zone_mode and (ban.zone or "").lower() == (other.zone or "").lower()


def check_consistency(clauses: list[SpecClause]) -> list[WorkOrderError]:
    """Contradictory rules: two limits for the same type + measure + zone + count unit, or a ban
    of a type where another clause allows some of it (e.g. 'no cracks' and 'cracks up to 0.2 mm').
    Catch-all clauses ("no other defects") contradict nothing: they cover what the others do not."""
    out: list[WorkOrderError] = []
    rules = [c for c in clauses if c.checkable and not c.catch_all]
    seen: dict[tuple, SpecClause] = {}
    for c in rules:
        key = (
            c.defect_type,
            c.measure,
            c.zone_mode if c.zone else "anywhere",
            (c.zone or "").lower(),
            (c.count_per, c.count_base) if c.measure == "count" and c.limit else None,
        )
        old = seen.get(key)
        if old is None:
            seen[key] = c
            continue
        if (old.comparison, old.limit) != (c.comparison, c.limit):
            out.append(
                WorkOrderError(
                    f"contradictory limits for {c.defect_type} {c.measure}{_scope(c)}: {c.id} allows "
                    f"{_said(c)} but {old.id} (line {old.line}) allows {_said(old)}",
                    line=c.line or None,
                )
            )
    by_type: dict[str | None, list[SpecClause]] = {}
    for c in rules:
        by_type.setdefault(c.defect_type, []).append(c)
    for group in by_type.values():
        bans = [c for c in group if _is_ban(c)]
        others = [c for c in group if not _is_ban(c)]
        for ban in bans:
            for other in others:
                if _covers(ban, other):
                    second = other if (ban.line, ban.id) <= (other.line, other.id) else ban
                    first = ban if second is other else other
                    out.append(
                        WorkOrderError(
                            f"contradictory rules for {ban.defect_type}: {ban.id} allows none{_scope(ban)} but "
                            f"{other.id} allows {_said(other)}{_scope(other)}"
                            + (f" (line {first.line})" if first.line and first.line != second.line else ""),
                            line=second.line or None,
                        )
                    )
    return out


def _said(c: SpecClause) -> str:
    if _is_ban(c):
        return "none"
    words = {"<=": "up to", "<": "less than", ">=": "at least", ">": "more than"}
    return f"{words.get(c.comparison or '', c.comparison)} {c.limit_text}"
