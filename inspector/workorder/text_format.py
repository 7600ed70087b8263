"""Plain-text work orders: a 'Key: value' header, zone lines, then the spec.

Order: WO-1001
Part: BR-100
Pixel size: 0.05 mm/px
Zone A "sealing face": x 5-20 mm, y 5-20 mm

1. No cracks.
2. Scratches up to 1.0 mm long allowed outside zone A; none in zone A.
- Inspect under diffuse light.
"""

from __future__ import annotations

import re

from inspector.workorder.errors import WorkOrderError
from inspector.workorder.limits import LimitProblem, find_limits
from inspector.workorder.raw import ClauseItem, RawOrder, field_of_key
from inspector.workorder.segments import NEG_RE
from inspector.workorder.vocabulary import GENERIC_TYPE, find_known_types
from inspector.workorder.zone_lines import ZoneTable, heading_section, prose_zone, zones_without_geometry
from inspector.workorder.zones import ZONE_NAME, ZoneDef, parse_zone_spec

_KEY_RE = re.compile(r"^\s*(?P<key>[A-Za-z][A-Za-z0-9 ./#()_'-]{0,40}?)\s*[:=]\s*(?P<value>.*?)\s*$")
_ZONE_RE = re.compile(
    rf"^\s*zone\s+(?P<name>{ZONE_NAME})\s*(?:[\"“”'(\[](?P<label>[^\"“”')\]]*)[\"“”')\]])?\s*[:=]\s*(?P<spec>.*?)\s*$",
    re.IGNORECASE,
)
_HEADING_RE = re.compile(
    r"^\s*(?:inspection\s+)?(?:spec(?:ification)?s?|requirements?|acceptance\s+criteria|criteria|rules|"
    r"defect\s+limits|limits|inspection(?:\s+instructions)?|clauses|notes?)\s*(?:\([^)]*\))?\s*:?\s*$",
    re.IGNORECASE,
)
_TITLE_RE = re.compile(
    r"^\s*(?:[\w-]+\s+)?(?:work\s*order|inspection\s+order|job\s+sheet|order)\b[^:]*$", re.I
)
_ITEM_RE = re.compile(
    r"^\s*(?:§\s*(?P<s>\d+(?:\.\d+)*)[.):]?\s*|\(\s*(?P<p>\d+(?:\.\d+)*)\s*\)\s*|(?P<n>\d+)[.):]\s+|"
    r"(?P<sub>\d+(?:\.\d+)+)\.?\s+(?=[A-Z\"(§])|(?P<bullet>[-*•–·▪])\s+)"
)


def _looks_like_rule(text: str) -> bool:
    """True for 'Scratches: max 0.5 mm' or 'Flash: up to 0.2 mm'; False for 'Images: 512 x 512 px'."""
    try:
        limits = [lim for lim in find_limits(text, set()) if not lim.bare]
    except LimitProblem:
        return True
    return bool(limits or find_known_types(text) or NEG_RE.search(text))


def _only_names_kinds(text: str) -> bool:
    """'Casting defects:', 'Visual (radiographs not required):': a heading over a list, no rule of its own."""
    try:
        limits = [lim for lim in find_limits(text, set()) if not lim.bare]
    except LimitProblem:
        return False
    return not limits and all(c == GENERIC_TYPE for _, _, c, _ in find_known_types(text))


def read_text(text: str, *, spec_only: bool = False) -> RawOrder:
    """Split a plain-text work order into header fields, zones and spec items.

    Header lines ('Key: value') come first; a blank line, a heading such as 'Spec:',
    or the first line that is not a header line starts the spec. Known header keys and
    zone lines are still read further down. ``spec_only`` reads a spec block (no header
    section). Raises WorkOrderError on bad zone lines and repeated header keys.
    """
    raw = RawOrder(fmt="text")
    in_header = not spec_only
    seen_header = False
    numbered = False  # the spec uses numbers or bullets: unmarked lines continue the item above
    current: ClauseItem | None = None
    prev_blank = False
    current_indent = 0
    section: tuple[str, str | None, bool] = ("", None, False)  # what the heading above says
    table: ZoneTable | None = None
    lines = text.splitlines()
    for lineno, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith("|") and stripped.count("|") >= 3:  # a zone table
            try:
                if table is None:
                    fresh = ZoneTable()
                    if fresh.header(stripped):
                        table, seen_header, current = fresh, True, None
                        continue
                else:
                    zd_row = table.row(stripped, lineno)
                    if zd_row is not None:
                        raw.zones.append(zd_row)
                        raw.header[f"Zone {zd_row.zone.name}"] = stripped
                    continue
            except WorkOrderError as err:
                raw.problems.append(err)
                continue
        else:
            table = None
        if not stripped:
            if in_header and seen_header:
                in_header = False
            prev_blank = True
            current = None if not numbered else current
            continue
        blank_before, prev_blank = prev_blank, False
        item = _ITEM_RE.match(line)
        if not item:
            zm = _ZONE_RE.match(line)
            try:
                zd = _zone_line(zm, lineno) if zm else None
            except WorkOrderError as err:
                raw.problems.append(err)
                current = None
                continue
            if zd is None and not zm:
                try:
                    prose = prose_zone(stripped, lineno)
                except WorkOrderError as err:
                    raw.problems.append(err)
                    current = None
                    continue
                if prose:
                    raw.zones.extend(prose)
                    for p in prose:
                        raw.header[f"Zone {p.zone.name}"] = stripped
                    seen_header, current = True, None
                    continue
            if zd is not None:
                key, _, value = re.split(r"([:=])", line, maxsplit=1)
                raw.header[key.strip()] = value.strip()
                zds = zd if isinstance(zd, list) else [zd]
                raw.zones.extend(zds)
                for z in zds[1:]:
                    raw.header[f"Zone {z.zone.name}"] = value.strip()
                seen_header = True
                current = None
                continue
            km = _KEY_RE.match(line)
            if km:
                fld = field_of_key(km.group("key"))
                if fld is not None:
                    if fld in raw.fields:
                        raw.problems.append(
                            WorkOrderError(
                                f"{km.group('key').strip()!r} is given twice (first on line {raw.fields[fld][1]})",
                                line=lineno,
                            )
                        )
                        continue
                    raw.fields[fld] = (km.group("value"), lineno)
                    raw.header[km.group("key").strip()] = km.group("value")
                    seen_header = True
                    current = None
                    continue
                if in_header and not _looks_like_rule(line):
                    raw.header[km.group("key").strip()] = km.group("value")
                    seen_header = True
                    continue
            if _HEADING_RE.match(line) or (
                stripped.endswith(":")
                and len(stripped.split()) <= 14
                and (
                    not _looks_like_rule(stripped)
                    or _only_names_kinds(stripped)
                    or heading_section(stripped)[2]
                )
            ):
                in_header = False
                current = None
                section = heading_section(stripped)
                continue
            if in_header and not seen_header and _TITLE_RE.match(line) and not _looks_like_rule(line):
                raw.header.setdefault("Title", stripped)
                continue
        in_header = False
        if item:
            numbered = True
            number = item.group("s") or item.group("p") or item.group("n") or item.group("sub")
            body = line[item.end() :].strip()
            indent = len(line) - len(line.lstrip())
            if item.group("bullet") and current is not None and current.number and indent > current_indent:
                joiner = " " if current.text.endswith(":") else "; "
                current.text = f"{current.text.rstrip(' ;')}{joiner}{body}"  # a sub-bullet of a numbered item
                continue
            current = ClauseItem(body, lineno, number, section[1], section=section[0], rejects=section[2])
            current_indent = indent
            raw.items.append(current)
            continue
        continues = (
            current is not None
            and not blank_before
            and (
                numbered
                or (
                    not re.search(r"[.;:!?]$", current.text)
                    and stripped[:1].islower()
                    and not (find_known_types(stripped) and _looks_like_rule(stripped))  # its own rule
                )
            )
        )
        if continues and current is not None:
            current.text = f"{current.text} {stripped}"
        else:
            current = ClauseItem(stripped, lineno, None, section[1], section=section[0], rejects=section[2])
            raw.items.append(current)
    for it in raw.items:
        it.text = it.text.strip()
    raw.items = [it for it in raw.items if it.text]
    return raw


def _zone_line(zm: re.Match, lineno: int) -> ZoneDef | list[ZoneDef] | None:
    """The zone a 'Zone A: x 5-20 mm, y 5-20 mm' line defines (or the zones to draw a line without
    coordinates names); None for a rule like 'Zone A: no scratches'."""
    try:
        zd = parse_zone_spec(zm.group("name"), zm.group("spec"), line=lineno)
    except WorkOrderError:
        if _looks_like_rule(zm.group("spec")) and not re.search(r"\b[xy]\b", zm.group("spec"), re.I):
            return None
        to_draw = zones_without_geometry(
            zm.group("name"), (zm.group("label") or "").strip(), zm.group("spec"), lineno
        )
        if to_draw:
            return to_draw
        raise
    if zm.group("label") and not zd.label:
        zd = ZoneDef(zd.zone, label=zm.group("label").strip(), line=lineno)
    return zd


def split_spec_block(text: str, first_line: int | None, *, one_line: bool = False) -> list[ClauseItem]:
    """Spec items of a multi-line spec string (JSON/YAML 'spec: |').

    Item lines are counted from ``first_line``; ``one_line`` when the whole string sits
    on one source line (a JSON string with '\\n' escapes).
    """
    raw = read_text(text, spec_only=True)
    if raw.fields or raw.zones or raw.problems:
        what = "zone" if raw.zones else "header"
        raise WorkOrderError(f"a {what} line inside the spec text; give it as its own key", line=first_line)
    out = []
    for it in raw.items:
        if first_line is None or it.line is None:
            line = None
        else:
            line = first_line if one_line else first_line + it.line - 1
        out.append(ClauseItem(it.text, line, it.number))
    return out
