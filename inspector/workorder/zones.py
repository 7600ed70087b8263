"""Zone definitions ('Zone A: x 5-20 mm, y 5-20 mm') and zone references in clauses."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from inspector.domain import Zone
from inspector.workorder.errors import WorkOrderError
from inspector.workorder.units import NUM, parse_number

_ZUNIT = r"(?:mm|px|pixels?|%|µm|μm|um|in(?:ch(?:es)?)?|cm)"
_SEP = r"\s*(?:-|–|—|\.\.|to)\s*"
_X_FIRST = re.compile(
    rf"\b(?P<axis>[xy])\s*[:=]?\s*(?P<a>{NUM})\s*(?P<ua>{_ZUNIT})?{_SEP}(?P<b>{NUM})\s*(?P<ub>{_ZUNIT})?(?![\w])",
    re.IGNORECASE,
)
_X_LAST = re.compile(
    rf"(?P<a>{NUM})\s*(?P<ua>{_ZUNIT})?{_SEP}(?P<b>{NUM})\s*(?P<ub>{_ZUNIT})?\s*(?:in\s+|of\s+|along\s+)?(?P<axis>[xy])\b",
    re.IGNORECASE,
)
_BOX = re.compile(
    rf"(?:box\s*[:=]?\s*)?[(\[]?\s*(?P<x0>{NUM})\s*[,;]\s*(?P<y0>{NUM})\s*[,;]\s*(?P<x1>{NUM})\s*[,;]\s*"
    rf"(?P<y1>{NUM})\s*[)\]]?\s*(?P<u>{_ZUNIT})",
    re.IGNORECASE,
)
#: Zone names: letters, digits, '_' and '-', starting with a letter or digit.
ZONE_NAME = r"[A-Za-z0-9][\w-]*"


@dataclass(frozen=True)
class ZoneDef:
    """A parsed zone definition with its optional human label ('sealing face')."""

    zone: Zone
    label: str = ""
    line: int | None = None


def _unit(u: str | None) -> str | None:
    if not u:
        return None
    u = u.lower()
    if u.startswith("pixel"):
        return "px"
    if u in ("μm", "um"):
        return "µm"
    if u.startswith("inch"):
        return "in"
    return u


_TO_MM = {"mm": 1.0, "µm": 1e-3, "cm": 10.0, "in": 25.4}


def parse_zone_spec(name: str, spec: str, *, line: int | None = None) -> ZoneDef:
    """Zone from 'x 5-20 mm, y 5-20 mm', '10%-90% x, 0%-30% y', 'box 0,0,20,10 mm'.

    Text before the coordinates (or in quotes) is the zone's label. Units: mm, px, %,
    and µm/cm/in (converted to mm). Raises WorkOrderError on unreadable or empty boxes.
    """
    label_text = spec
    ranges: dict[str, tuple[float, float, str | None]] = {}
    first = len(spec)
    box = _BOX.search(spec)
    if box:
        u = _unit(box.group("u"))
        vals = [parse_number(box.group(k)) for k in ("x0", "y0", "x1", "y1")]
        ranges["x"] = (vals[0], vals[2], u)
        ranges["y"] = (vals[1], vals[3], u)
        first = box.start()
    else:
        for rx in (_X_FIRST, _X_LAST):
            for m in rx.finditer(spec):
                axis = m.group("axis").lower()
                if axis in ranges:
                    continue
                ua, ub = _unit(m.group("ua")), _unit(m.group("ub"))
                if ua and ub and ua != ub:
                    raise WorkOrderError(
                        f"zone {name!r}: {axis} range mixes units {ua!r} and {ub!r}", line=line
                    )
                ranges[axis] = (parse_number(m.group("a")), parse_number(m.group("b")), ua or ub)
                first = min(first, m.start())
    if set(ranges) != {"x", "y"}:
        missing = " and ".join(sorted({"x", "y"} - set(ranges)))
        raise WorkOrderError(
            f"zone {name!r}: cannot read the {missing} range in {spec.strip()!r} "
            "(write e.g. 'Zone A: x 5-20 mm, y 5-20 mm' or 'Zone seal: 10%-90% x, 0%-30% y')",
            line=line,
        )
    ux, uy = ranges["x"][2], ranges["y"][2]
    if ux and uy and ux != uy:
        raise WorkOrderError(f"zone {name!r}: x is in {ux!r} but y in {uy!r}; use one unit", line=line)
    unit = ux or uy
    if unit is None:
        raise WorkOrderError(f"zone {name!r}: give a unit for the ranges (mm, px or %)", line=line)
    x0, x1 = ranges["x"][:2]
    y0, y1 = ranges["y"][:2]
    if unit in _TO_MM:
        f = _TO_MM[unit]
        x0, x1, y0, y1 = (round(v * f, 6) for v in (x0, x1, y0, y1))
        unit = "mm"
    if x1 <= x0 or y1 <= y0:
        raise WorkOrderError(f"zone {name!r}: empty box (each range must go from low to high)", line=line)
    if unit == "%" and (x1 > 100 or y1 > 100):
        raise WorkOrderError(f"zone {name!r}: percentages above 100", line=line)
    label = label_text[:first].strip(" \t:,;-–\"'()")
    return ZoneDef(Zone(name=name, box=(x0, y0, x1, y1), unit=unit), label=label, line=line)


def zone_from_data(item: Any, *, key_name: str | None = None, line: int | None = None) -> ZoneDef:
    """Zone from JSON/YAML: {'name','x':[a,b],'y':[a,b],'unit'} or {'name','box':[x0,y0,x1,y1]} or text."""
    if isinstance(item, str):
        if key_name is None:
            m = re.match(rf"^\s*(?:zone\s+)?({ZONE_NAME})\s*:\s*(.+)$", item, re.IGNORECASE | re.DOTALL)
            if not m:
                raise WorkOrderError(f"zone {item!r}: write 'A: x 5-20 mm, y 5-20 mm'", line=line)
            return parse_zone_spec(m.group(1), m.group(2), line=line)
        return parse_zone_spec(key_name, item, line=line)
    if not isinstance(item, Mapping):
        raise WorkOrderError(f"zone entry must be a mapping or text, got {type(item).__name__}", line=line)
    allowed = {"name", "label", "x", "y", "box", "unit", "description"}
    unknown = set(map(str, item)) - allowed
    if unknown:
        raise WorkOrderError(
            f"zone: unknown key(s) {sorted(unknown)} (allowed: {sorted(allowed)})", line=line
        )
    name = str(item.get("name", key_name or "")).strip()
    if not name or not re.fullmatch(ZONE_NAME, name):
        raise WorkOrderError(
            f"zone name {name!r} is missing or not a plain word (letters, digits, - or _)", line=line
        )
    unit = str(item.get("unit", "mm"))
    label = str(item.get("label", item.get("description", "")) or "")

    def pair(v: Any, what: str) -> Sequence[float]:
        if not isinstance(v, Sequence) or isinstance(v, str) or not all(_is_num(n) for n in v):
            raise WorkOrderError(f"zone {name!r}: {what} must be a list of numbers", line=line)
        return [float(n) for n in v]

    if "box" in item:
        b = pair(item["box"], "box")
        if len(b) != 4:
            raise WorkOrderError(f"zone {name!r}: box needs 4 numbers [x0, y0, x1, y1]", line=line)
        spec = f"box {b[0]}, {b[1]}, {b[2]}, {b[3]} {unit}"
    elif "x" in item and "y" in item:
        x, y = pair(item["x"], "x"), pair(item["y"], "y")
        if len(x) != 2 or len(y) != 2:
            raise WorkOrderError(f"zone {name!r}: x and y need 2 numbers each", line=line)
        spec = f"x {x[0]}-{x[1]} {unit}, y {y[0]}-{y[1]} {unit}"
    else:
        raise WorkOrderError(f"zone {name!r}: give 'x' and 'y' ranges or a 'box'", line=line)
    zd = parse_zone_spec(name, spec, line=line)
    return ZoneDef(zd.zone, label=label, line=line)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_unique(defs: Iterable[ZoneDef]) -> None:
    seen: dict[str, ZoneDef] = {}
    for d in defs:
        key = d.zone.name.lower()
        if key in seen:
            raise WorkOrderError(
                f"zone {d.zone.name!r} is defined twice (first on line {seen[key].line})", line=d.line
            )
        seen[key] = d


# ---- references in clause text -------------------------------------------------------

_OUTSIDE = r"(?:outside(?:\s+of)?|beyond|except(?:\s+(?:in|on|within|at))?|other\s+than(?:\s+(?:in|on))?|not\s+(?:in|on|within|at))"
_INSIDE = r"(?:in|inside|within|on|at|along|into|touching|touches|touch|entering|reaching)"


@dataclass(frozen=True)
class ZoneRef:
    mode: str  # inside|outside|anywhere
    names: tuple[str, ...]  # as written
    start: int
    end: int


def find_zone_refs(text: str, labels: Mapping[str, str], defined: Iterable[str] = ()) -> list[ZoneRef]:
    """Zone references in a clause: 'in zone A', 'outside zone A', 'except zone A', 'in zones A and B',
    'zone A:', 'in the seal zone', 'on the sealing face' (a zone label), 'anywhere'.

    ``labels`` maps lower-case zone labels to zone names; ``defined`` are the defined zone
    names (a list 'zones A and B' continues only with defined names, so 'in zone A and
    dents' is not read as two zones). Names are returned as written.
    """
    refs: list[ZoneRef] = []
    more = "|".join(re.escape(n) for n in sorted(defined, key=len, reverse=True))
    cont = rf"(?:\s*(?:,|\band\b|\bor\b|&)\s*(?:zone\s+)?(?:{more})(?![\w-]))*" if more else ""
    names_list = rf"(?P<names>{ZONE_NAME}{cont})"

    def split(names: str) -> tuple[str, ...]:
        parts = re.split(r"\s*(?:,|\band\b|\bor\b|&)\s*(?:zone\s+)?", names, flags=re.I)
        return tuple(n for n in parts if n)

    for mode, pre in (("outside", _OUTSIDE), ("inside", _INSIDE)):
        for m in re.finditer(rf"\b{pre}\s+(?:the\s+)?zones?\s+{names_list}", text, re.IGNORECASE):
            if not _overlaps(refs, m.start(), m.end()):
                refs.append(ZoneRef(mode, split(m.group("names")), m.start(), m.end()))
        for m in re.finditer(rf"\b{pre}\s+(?:the\s+)?(?P<name>{ZONE_NAME})\s+zone\b", text, re.IGNORECASE):
            if not _overlaps(refs, m.start(), m.end()):
                refs.append(ZoneRef(mode, (m.group("name"),), m.start(), m.end()))
        for label, name in labels.items():
            for m in re.finditer(rf"\b{pre}\s+(?:the\s+)?{re.escape(label)}\b", text, re.IGNORECASE):
                if not _overlaps(refs, m.start(), m.end()):
                    refs.append(ZoneRef(mode, (name,), m.start(), m.end()))
    m = re.match(rf"^\s*zones?\s+{names_list}\s*[:\-–]", text, re.IGNORECASE)
    if m and not _overlaps(refs, m.start(), m.end()):
        refs.append(ZoneRef("inside", split(m.group("names")), m.start(), m.end()))
    for m in re.finditer(
        r"\b(?:anywhere|everywhere|on\s+the\s+(?:whole|entire)\s+(?:part|surface)|all\s+zones)\b", text, re.I
    ):
        if not _overlaps(refs, m.start(), m.end()):
            refs.append(ZoneRef("anywhere", (), m.start(), m.end()))
    return sorted(refs, key=lambda r: r.start)


def _overlaps(refs: list[ZoneRef], a: int, b: int) -> bool:
    return any(r.start < b and a < r.end for r in refs)
