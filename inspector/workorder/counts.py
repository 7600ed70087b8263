"""What a count limit counts per: the part (default), the image, the panel, the frame, an area or a length.

"at most 3 pits per part", "max. 2 per panel", "≤ 5 per 100 cm²", "no more than 4 pores in any
100 mm of weld", "2 holes per linear metre". Per area and per length are densities: the judge
scales the count of one image by its area or length in mm (docs/workorders.md, "Counts per unit").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from inspector.workorder.units import NUM, parse_number

_AREA_UNITS: list[tuple[str, float]] = [
    (r"mm\s*²|mm\^?2|sq\.?\s*mm|square\s+millimet(?:er|re)s?", 1.0),
    (r"cm\s*²|cm\^?2|sq\.?\s*cm|square\s+centimet(?:er|re)s?", 100.0),
    (r"dm\s*²|dm\^?2|sq\.?\s*dm|square\s+decimet(?:er|re)s?", 1e4),
    (r"m\s*²|m\^?2|sq\.?\s*m|square\s+met(?:er|re)s?", 1e6),
    (r"in\s*²|in\^?2|sq\.?\s*in(?:ch(?:es)?)?|square\s+inch(?:es)?", 645.16),
    (r"ft\s*²|ft\^?2|sq\.?\s*f(?:ee|oo)?t|square\s+f(?:ee|oo)t", 92903.04),
    (r"yd\s*²|yd\^?2|sq\.?\s*yd|square\s+yards?", 836127.36),
]
_LENGTH_UNITS: list[tuple[str, float]] = [
    (r"mm|millimet(?:er|re)s?", 1.0),
    (r"cm|centimet(?:er|re)s?", 10.0),
    (r"m|met(?:er|re)s?", 1000.0),
    (r"in(?:ch(?:es)?)?|\"", 25.4),
    (r"ft|f(?:ee|oo)t", 304.8),
    (r"yds?|yards?", 914.4),
]
_AREA = "|".join(f"(?:{u})" for u, _ in _AREA_UNITS)
_LEN = "|".join(f"(?:{u})" for u, _ in _LENGTH_UNITS)
_PER = r"(?:per|every|(?<!\d)/|for\s+each|for\s+every|in\s+any|in\s+every|within\s+any|over\s+any)"
_LENGTH_OF = (
    r"(?:\s+(?:of\s+)?(?:the\s+)?(?:weld|seam|strip|coil|web|fabric|cloth|material|edge|tube|pipe|wire|"
    r"cable|profile|bead|run|length)(?:\s+(?:length|seam|run))?(?![\w-]))?"
)
_AREA_RE = re.compile(rf"{_PER}\s*(?P<num>{NUM})?\s*(?P<unit>{_AREA})(?![\w])", re.I)
_LENGTH_RE = re.compile(
    rf"{_PER}\s*(?:(?P<num>{NUM})\s*)?(?:(?:linear|running|lineal)\s+)?(?P<unit>{_LEN})(?![\w²^]){_LENGTH_OF}"
    rf"|{_PER}\s*(?:(?:linear|running|lineal)\s+)(?P<unit2>{_LEN})(?![\w²^])",
    re.I,
)
_NAMED: list[tuple[str, str]] = [
    (
        r"part|piece|pc|pcs|unit|item|component|sample|workpiece|work\s+piece|casting|moulding|molding|"
        r"assembly|article|board|pcb|pcba|cell|wafer|lens|sheet|plate|bracket|housing|shaft|weld|module|"
        r"product|bottle|container|cap|die|section|spindle\s+section|wheel|blade|body|valve|pane|lite|"
        r"preform|barrel|string|tube|pipe|bar|rod|disc|disk|ring|gear|nut|screw|bolt|towel|garment|roll",
        "part",
    ),
    (r"image|picture|photo|view|field\s+of\s+view|fov|shot", "image"),
    (r"panel|array|multi-?panel", "panel"),
    (r"frame|camera\s+frame|video\s+frame", "frame"),
]
_NAMED_RE = re.compile(
    rf"\b(?:per|each|every|/|for\s+each|on\s+any\s+one|in\s+any\s+one|in\s+one)\s+(?:single\s+)?"
    rf"(?:(?:[a-z-]+\s+)?(?P<n>{'|'.join(f'(?:{p})' for p, _ in _NAMED)})s?)(?![\w-])"
    r"|\bin\s+total\b|\b(?:on\s+)?the\s+(?:whole|entire)\s+part\b",
    re.I,
)
_OTHER_RE = re.compile(r"\b(?:per|each|every)\s+([a-z][\w-]*(?:\s+[a-z][\w-]*)?)", re.I)


@dataclass(frozen=True)
class CountUnit:
    """What a count is per: ``per`` is part|image|panel|frame|area|length, or '' for an unsupported one."""

    per: str
    base: float | None  # mm² per counted area, mm per counted length
    start: int
    end: int
    written: str  # as written: 'per 100 cm²', 'per panel', 'per lot'


_MANY_RE = re.compile(rf"\b(?:per|in\s+every|for\s+every)\s+(?P<num>{NUM})\s+(?P<what>[a-z][\w-]*)", re.I)


def find_count_unit(text: str, part_words: frozenset[str] = frozenset()) -> CountUnit | None:
    """The count unit a segment names, or None (a count is then per part).

    ``part_words`` are the nouns of the part's name: 'per towel' counts per part for a bath towel.
    'per 1000 caps' (a count over many parts) is not supported (``per`` '').
    """
    for rx, table, kind in ((_AREA_RE, _AREA_UNITS, "area"), (_LENGTH_RE, _LENGTH_UNITS, "length")):
        m = rx.search(text)
        if not m:
            continue
        unit = m.group("unit") if kind == "area" or m.group("unit") else m.group("unit2")
        factor = next(f for u, f in table if re.fullmatch(u, unit.strip(), re.I))
        amount = parse_number(m.group("num")) if m.group("num") else 1.0
        if amount <= 0:
            continue
        return CountUnit(kind, amount * factor, m.start(), m.end(), m.group(0).strip())
    m = _MANY_RE.search(text)
    if m and parse_number(m.group("num")) > 1:
        return CountUnit("", None, m.start(), m.end(), m.group(0).strip())
    m = _NAMED_RE.search(text)
    if m:
        word = (m.group("n") or "part").lower()
        per = next((p for rx, p in _NAMED if re.fullmatch(rx, word, re.I)), "")
        per = per or next((p for rx, p in _NAMED if re.fullmatch(rx, word[:-1], re.I)), "part")
        return CountUnit(per, None, m.start(), m.end(), m.group(0).strip())
    m = _OTHER_RE.search(text)
    if m:
        noun = m.group(1).lower().split()[0]
        if noun in part_words or noun.rstrip("s") in part_words:
            return CountUnit("part", None, m.start(), m.start(1) + len(noun), m.group(0).strip())
        return CountUnit("", None, m.start(), m.end(), m.group(0).strip())
    return None
