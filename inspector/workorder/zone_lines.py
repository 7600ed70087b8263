"""Zones as people write them besides 'Zone A: x 5-20 mm, y 5-20 mm': tables, prose, zones to draw.

| Zone | Description  | x (mm) | y (mm) |        a pipe (markdown) table, one zone per row
|------|--------------|--------|--------|
| A    | sealing face | 5-20   | 5-20   |

Zone A is the sealing face, x 5-20 mm, y 5-20 mm.              prose with coordinates
Zone BB "busbars": to be drawn on the golden image.            named, left for the QE to draw
Zone A = face, Zone B = spokes, Zone C = back side.            several named zones on one line

A zone without coordinates is a zone *to be drawn* (``Zone.defined`` False) that keeps its label.
Headings above spec items may name a place ('Top side:', 'Class A (visible in car):') or list
rejected defects ('Critical defects (reject 100 %):'); :func:`heading_section` reads them.
"""

from __future__ import annotations

import re

from inspector.domain import Zone
from inspector.workorder.errors import WorkOrderError
from inspector.workorder.places import PLACE_NOUNS, WHOLE
from inspector.workorder.zones import ZONE_NAME, ZoneDef, parse_zone_spec

_GEOMETRY_RE = re.compile(
    r"\d\s*(?:mm|px|pixels?|%|µm|μm|um|in|cm)?\s*(?:-|–|—|\.\.|to|,)\s*\d|\bbox\b", re.I
)
_LABEL_RE = re.compile(r"^\s*[\"“”'(\[](?P<label>[^\"“”')\]]+)[\"“”')\]]")
_DRAW_RE = re.compile(
    r"\b(?:to\s+be\s+drawn|draw(?:n)?\b|marked\s+on|see\s+(?:the\s+)?drawing|per\s+drawing|tbd)\b", re.I
)
_PROSE_RE = re.compile(
    rf"^\s*zone\s+(?P<name>{ZONE_NAME})\s*(?P<label>[\"“(][^\"”)]*[\"”)])?\s*"
    r"(?:(?:is|=|means|covers|denotes|[-–—])\s+(?P<rest>.*?)|(?P<draw>(?:to\s+be\s+drawn|tbd)\b.*?))\s*\.?\s*$",
    re.I,
)
_SEVERITY_HEADING_RE = re.compile(
    r"^\s*(?P<sev>critical|major|minor|cosmetic)\s+(?:defects?|imperfections?|faults?|nonconformit(?:y|ies))\b",
    re.I,
)


def _clean_label(text: str) -> str:
    text = re.sub(r"\([^)]*\)", " ", text)
    text = _DRAW_RE.split(text)[0]
    text = re.sub(r"^\s*(?:the|a|an)\s+", "", text.strip(), flags=re.I)
    return " ".join(text.strip(" \t:;,.-–\"'“”").split())


def zone_to_draw(name: str, label: str, line: int | None) -> ZoneDef:
    """A named zone without coordinates: the QE draws it in the Teach tab."""
    return ZoneDef(Zone(name=name, box=(0.0, 0.0, 0.0, 0.0), unit="%", label=label), label=label, line=line)


def zones_without_geometry(name: str, label: str, spec: str, line: int | None) -> list[ZoneDef] | None:
    """'Zone BB "busbars": to be drawn', 'Zone A = face, Zone B = spokes': zones to draw; None if
    ``spec`` has coordinates (then it is an ordinary zone line, or a mistake in one)."""
    if _GEOMETRY_RE.search(spec):
        return None
    parts = re.split(rf",?\s*\bzone\s+(?={ZONE_NAME}\s*[=:\"“(])", spec, flags=re.I)
    out = [zone_to_draw(name, label or _clean_label(parts[0]), line)]
    for part in parts[1:]:
        m = re.match(rf"({ZONE_NAME})\s*[=:]?\s*(.*)$", part.strip())
        if m:
            out.append(zone_to_draw(m.group(1), _clean_label(m.group(2)), line))
    return out


def prose_zone(text: str, line: int | None) -> list[ZoneDef] | None:
    """'Zone A is the sealing face, x 5-20 mm, y 5-20 mm' or 'Zone A (driver's vision area) to be drawn
    per ECE R43'; None when the line is no such sentence. Raises WorkOrderError on bad coordinates."""
    m = _PROSE_RE.match(text)
    if not m:
        return None
    name = m.group("name")
    label = (m.group("label") or "").strip('"“”() ')
    rest = m.group("rest") or ""
    if m.group("draw") is not None or not _GEOMETRY_RE.search(rest):
        if rest and re.search(r"\b(?:no|not|none|max|up\s+to|allowed|permitted|reject)", rest, re.I):
            return None  # 'Zone A - no scratches': a rule about the zone, not a definition
        return [zone_to_draw(name, label or _clean_label(rest), line)]
    zd = parse_zone_spec(name, rest, line=line)
    return [ZoneDef(zd.zone, label=label or _clean_label(zd.label), line=line)]


class ZoneTable:
    """Reads a pipe table whose header has a 'Zone' column, row by row."""

    def __init__(self) -> None:
        self.columns: list[str] = []

    @staticmethod
    def cells(line: str) -> list[str]:
        return [c.strip() for c in line.strip().strip("|").split("|")]

    def header(self, line: str) -> bool:
        """Takes a header row ('| Zone | Description | x (mm) | y (mm) |'); False for other rows."""
        cols = [c.lower() for c in self.cells(line)]
        if not cols or not re.match(r"zone|name|area|region", cols[0]):
            return False
        self.columns = cols
        return True

    def row(self, line: str, lineno: int) -> ZoneDef | None:
        """The zone of a data row; None for the separator row. Raises WorkOrderError on bad coordinates."""
        cells = self.cells(line)
        if all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
            return None
        name = re.sub(r"^zone\s+", "", cells[0], flags=re.I).strip()
        if not re.fullmatch(ZONE_NAME, name):
            raise WorkOrderError(
                f"zone table: {cells[0]!r} is not a zone name (letters, digits, - or _)", line=lineno
            )
        label, geometry = "", []
        for col, cell in zip(self.columns[1:], cells[1:], strict=False):
            unit = re.search(r"\((mm|px|%|µm|um|in|cm)\)", col)
            axis = re.match(r"^\s*([xy])\b", col)
            if axis and cell:
                geometry.append(f"{axis.group(1)} {cell} {unit.group(1) if unit else ''}".strip())
            elif re.match(r"box|position|coordinates|extent|where|location", col) and _GEOMETRY_RE.search(
                cell
            ):
                geometry.append(
                    cell + (f" {unit.group(1)}" if unit and not re.search(r"[a-z%]\s*$", cell) else "")
                )
            elif cell and not label:
                label = cell
        if not geometry or all(_DRAW_RE.search(g) or not _GEOMETRY_RE.search(g) for g in geometry):
            return zone_to_draw(name, _clean_label(label), lineno)
        zd = parse_zone_spec(name, ", ".join(geometry), line=lineno)
        return ZoneDef(zd.zone, label=_clean_label(label), line=lineno)


def heading_section(heading: str) -> tuple[str, str | None, bool]:
    """What a heading says about the items under it: (place, severity, rejects).

    'Top side:' -> ('top side', None, False); 'Class A (visible in car):' -> ('class A', ...);
    'Critical defects (reject 100 %):' -> ('', 'critical', True); 'Visual criteria:' -> ('', None, False).
    """
    text = heading.strip().rstrip(":").strip()
    m = _SEVERITY_HEADING_RE.match(text)
    if m:
        sev = m.group("sev").lower()
        return "", "minor" if sev == "cosmetic" else sev, True
    m = re.match(r"^\s*class\s+([A-D])\b", text, re.I)
    if m:
        return f"class {m.group(1).upper()}", None, False
    m = re.match(rf"^\s*zone\s+({ZONE_NAME})\b", text, re.I)
    if m:
        return m.group(1), None, False
    words = re.sub(r"\([^)]*\)", " ", text).lower().split()
    if 1 <= len(words) <= 3 and words[-1] in PLACE_NOUNS and words[-1] not in WHOLE:
        if all(re.fullmatch(r"[a-z][a-z-]*", w) for w in words):
            return " ".join(words), None, False
    return "", None, False
