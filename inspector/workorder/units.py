"""Numbers and units: lengths to mm, areas to mm², pixel size, quantity.

Accepted lengths: mm, µm/um/micron, cm, in/inch/", mil/thou, px (needs the pixel size).
Accepted areas: mm², mm2, mm^2, sq mm, square mm(s), µm², cm², in²/sq in, px².
A decimal comma is accepted ("0,5 mm").
"""

from __future__ import annotations

import math
import re

from inspector.workorder.errors import WorkOrderError

_WORD_NUMBERS = {
    "zero": 0,
    "one": 1,
    "a single": 1,
    "single": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}

#: A number as written: 12, 0.5, .5, 0,5 (decimal comma) or a number word up to twelve.
NUM = (
    r"(?:(?:\d+[ -])?\d{1,2}/(?:2|4|8|16|32|64)(?![\d/])|\d+(?:[.,]\d+)?|[.,]\d+|(?:zero|one|a\s+single|single|two|three|four|five|six|seven|eight"
    r"|nine|ten|eleven|twelve)(?![\w]))"
)

# unit spelling (regex) -> (kind, factor to canonical); kind: length (mm), area (mm2), px, px2, percent
_UNITS: list[tuple[str, str, float]] = [
    (
        r"mm\s*²|mm\^?2(?!\d)|sq\.?\s*mm|square\s+mm|square\s+millimet(?:er|re)s?|millimet(?:er|re)s?\s*²",
        "area",
        1.0,
    ),
    (r"(?:µm|μm|um)\s*²|(?:µm|μm|um)\^?2(?!\d)|square\s+micro(?:n|met(?:er|re))s?", "area", 1e-6),
    (r"cm\s*²|cm\^?2(?!\d)|sq\.?\s*cm|square\s+centimet(?:er|re)s?", "area", 100.0),
    (r"in\s*²|in\^?2(?!\d)|sq\.?\s*in(?:ch(?:es)?)?\.?|square\s+inch(?:es)?", "area", 645.16),
    (r"px\s*²|px\^?2(?!\d)|sq\.?\s*px|square\s+pixels?", "px2", 1.0),
    (r"millimet(?:er|re)s?|mm(?![a-z])", "length", 1.0),
    (r"micromet(?:er|re)s?|microns?|(?:µm|μm|um)(?![a-z])|[µμ](?![a-z])", "length", 1e-3),
    (r"centimet(?:er|re)s?|cm(?![a-z])", "length", 10.0),
    (r"inch(?:es)?|in\.?(?![a-z])|\"|″|''", "length", 25.4),
    (r"mils?(?![a-z])|thou(?![a-z])", "length", 0.0254),
    (r"pixels?|px(?![a-z])", "px", 1.0),
    (r"%|per\s*cent|percent", "percent", 1.0),
]
UNIT = "(?:" + "|".join(u for u, _, _ in _UNITS) + ")"
_UNIT_RES = [(re.compile(u + r"\Z", re.IGNORECASE), kind, f) for u, kind, f in _UNITS]

#: Words that look like units but are not accepted: reported as "unknown unit".
FOREIGN_UNITS = frozenset(
    "m meter meters metre metres km nm ft feet foot yd yard yards mile miles furlong furlongs "
    "pt pts deg degree degrees rad cc ml l litre liter hand hands league leagues chain chains "
    "rod rods angstrom angstroms".split()
)


def parse_number(text: str) -> float:
    """'0,5' -> 0.5, 'three' -> 3.0. Raises ValueError when not a number."""
    t = " ".join(text.strip().lower().split())
    if t in _WORD_NUMBERS:
        return float(_WORD_NUMBERS[t])
    frac = re.fullmatch(r"(?:(\d+)[ -])?(\d+)/(\d+)", t)
    if frac:  # inch fractions: '1/8', '1-1/2'
        whole, num, den = frac.groups()
        return int(whole or 0) + int(num) / int(den)
    t = t.replace(",", ".")
    if t.startswith("."):
        t = "0" + t
    value = float(t)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def unit_kind(unit: str) -> tuple[str, float] | None:
    """(kind, factor) of a unit as written, or None when it is not a known unit.

    kind is 'length' (factor to mm), 'area' (factor to mm²), 'px', 'px2' or 'percent'.
    """
    u = " ".join(unit.strip().split())
    for rx, kind, factor in _UNIT_RES:
        if rx.match(u):
            return kind, factor
    return None


def to_canonical(value: float, unit: str, pixel_size_mm: float | None) -> tuple[float, str]:
    """Convert ``value unit`` to (value, 'mm'|'mm2'). Raises ValueError with the reason."""
    kind = unit_kind(unit)
    if kind is None:
        raise ValueError(f"unknown unit {unit!r}")
    k, factor = kind
    if k == "length":
        return _clean(value * factor), "mm"
    if k == "area":
        return _clean(value * factor), "mm2"
    if k in ("px", "px2"):
        if not pixel_size_mm:
            raise ValueError(
                f"a limit in {unit!r} needs the pixel size; add 'Pixel size: 0.05 mm/px' to the header"
            )
        if k == "px":
            return _clean(value * pixel_size_mm), "mm"
        return _clean(value * pixel_size_mm * pixel_size_mm), "mm2"
    raise ValueError(f"percent limits ({unit!r}) are not supported")


def _clean(x: float) -> float:
    return float(f"{x:.10g}")


_PIXEL_RE = re.compile(
    r"^\s*(?P<sign>[-+−]?)\s*(?P<num>" + NUM + r")\s*(?P<unit>" + UNIT + r"|dpi|ppi)?\s*"
    r"(?:(?:/|per)\s*(?P<per>px|pixels?|pixel|mm|millimet(?:er|re)s?|in|inch(?:es)?|µm|um))?\s*\.?\s*$",
    re.IGNORECASE,
)


def parse_pixel_size(text: str, *, line: int | None = None) -> float:
    """Pixel size in mm per pixel from '0.02 mm/px', '20 µm', '0.001 in', '50 px/mm', '1270 dpi'.

    A bare number is read as mm per pixel. Raises WorkOrderError when it is not a
    positive size with a known unit.
    """
    m = _PIXEL_RE.match(text)
    if not m:
        raise WorkOrderError(
            f"pixel size {text.strip()!r} is not a number with a unit (e.g. '0.02 mm/px', '20 µm', '0.001 in')",
            line=line,
        )
    try:
        value = parse_number(m.group("num"))
    except ValueError:
        raise WorkOrderError(f"pixel size {text.strip()!r} is not a number", line=line) from None
    unit = (m.group("unit") or "").strip()
    per = (m.group("per") or "").lower()
    if value <= 0 or m.group("sign") in ("-", "−"):
        raise WorkOrderError(f"pixel size must be positive, got {text.strip()!r}", line=line)
    if unit.lower() in ("dpi", "ppi"):
        return _clean(25.4 / value)
    if unit.lower() in ("px", "pixel", "pixels"):
        # "50 px/mm": pixels per length unit
        per_kind = unit_kind(per) if per else None
        if per_kind is None or per_kind[0] != "length":
            raise WorkOrderError(
                f"pixel size {text.strip()!r}: write e.g. '50 px/mm' or '0.02 mm/px'", line=line
            )
        return _clean(per_kind[1] / value)
    if per and per not in ("px", "pixel", "pixels"):
        raise WorkOrderError(
            f"pixel size {text.strip()!r}: expected a length per pixel, e.g. '0.02 mm/px'", line=line
        )
    if not unit:
        return _clean(value)
    kind = unit_kind(unit)
    if kind is None or kind[0] != "length":
        raise WorkOrderError(f"pixel size {text.strip()!r}: unit {unit!r} is not a length", line=line)
    return _clean(value * kind[1])


_QTY_RE = re.compile(
    r"^\s*(?P<num>[+-]?\d{1,3}(?:[,' ]\d{3})+|[+-]?\d+(?:\.\d+)?)\s*(?:pcs\.?|pieces?|parts?|units?|ea\.?|x)?\s*$",
    re.I,
)


def parse_quantity(text: str, *, line: int | None = None) -> int:
    """Order quantity from '12', '12 pcs', '1,200'. Raises WorkOrderError unless a positive whole number."""
    m = _QTY_RE.match(text)
    if not m:
        raise WorkOrderError(f"quantity {text.strip()!r} is not a number", line=line)
    raw = re.sub(r"[,' ]", "", m.group("num"))
    if len(raw.lstrip("+-").split(".")[0]) > 9:
        raise WorkOrderError(
            f"quantity {text.strip()[:20]!r}... is absurdly large (at most 9 digits)", line=line
        )
    value = float(raw)
    if value != int(value):
        raise WorkOrderError(f"quantity must be a whole number of parts, got {text.strip()!r}", line=line)
    if value <= 0:
        raise WorkOrderError(f"quantity must be positive, got {text.strip()!r}", line=line)
    return int(value)


def format_mm(value: float, unit: str = "mm", digits: int = 2) -> str:
    """'0.80 mm', '0.12 mm²', '3' (count): the way reasons print values."""
    if unit == "count":
        return f"{value:g}"
    sym = "mm²" if unit == "mm2" else unit
    return f"{value:.{digits}f} {sym}"
