"""One rule segment -> what it says: types, limits, zone, count unit, ban/permission, catch-all.

The pieces are read in an order that keeps them apart: severity words, zone references and
place phrases, count units, then defect words and limits in what is left, so a place such as
"on the mounting holes" never becomes a defect type and "per 100 cm²" never a limit.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from dataclasses import dataclass, field

from inspector.workorder.counts import CountUnit, find_count_unit
from inspector.workorder.errors import WorkOrderError
from inspector.workorder.limits import Limit, LimitProblem, check_numbers, find_limits
from inspector.workorder.opentypes import open_types as find_open_types
from inspector.workorder.places import find_places, prefix_place
from inspector.workorder.segments import NEG_RE, PERMIT_RE, find_severity
from inspector.workorder.vocabulary import GENERIC_TYPE, find_known_types, singularize
from inspector.workorder.zones import ZONE_NAME, ZoneRef, find_zone_refs


@dataclass(frozen=True)
class ParseContext:
    """What a clause needs from the rest of the order. ``undrawn`` collects zones named but not defined."""

    zones: MutableMapping[str, str] = field(default_factory=dict)  # lower-case name -> name
    labels: MutableMapping[str, str] = field(default_factory=dict)  # lower-case label -> zone name
    pixel_size_mm: float | None = None
    line: int | None = None
    undrawn: MutableMapping[str, str] = field(default_factory=dict)  # lower-case name -> name
    recent: MutableMapping[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # last zone named
    first: bool = True  # reading the clause's first segment (where 'Journals: ...' may open it)
    section: str = ""  # the place a heading above the clause names ('Class A (visible in car):')
    rejects: bool = False  # under a heading that lists rejected defects ('Critical defects (reject):')
    part_words: frozenset[str] = frozenset()  # nouns of the part's name: 'per towel' is per part


_ZONE_WORD_RE = re.compile(rf"\bzones?\s+({ZONE_NAME})", re.IGNORECASE)
_ELSEWHERE_RE = re.compile(
    r"\b(?:elsewhere|everywhere\s+else|anywhere\s+else|(?:on|in)\s+(?:all\s+)?(?:other|remaining)\s+"
    r"(?:areas|surfaces|faces|regions|locations)|(?:all\s+)?(?:other|remaining)\s+(?:areas|surfaces))\b",
    re.IGNORECASE,
)
_GENERIC_WORDS = (
    r"(?:defects?|flaws?|imperfections?|anomal(?:y|ies)|irregularit(?:y|ies)|blemish(?:es)?|damages?|"
    r"discontinuit(?:y|ies)|non-?conformit(?:y|ies)|faults?|indications?|features?|deviations?)"
)
_CATCH_ALL_RE = re.compile(
    rf"\b(?:any|all|no|every|each)\s+(?:(?:other|further|additional|remaining)\s+)(?:[a-z-]+\s+){{0,2}}?"
    rf"{_GENERIC_WORDS}|\b{_GENERIC_WORDS}\s+(?:which\s+are\s+|that\s+are\s+)?(?:not\s+(?:listed|covered|"
    r"mentioned|specified|described|named|addressed|defined)|other\s+than\s+(?:those|the\s+above|above))"
    r"|\b(?:anything|everything)\s+else\b|\bother\s+(?:visible\s+|cosmetic\s+|surface\s+)?defects?\b",
    re.IGNORECASE,
)


def mask(s: str, spans: list[tuple[int, int]]) -> str:
    """``s`` with the given spans blanked out (same length, so positions stay valid)."""
    chars = list(s)
    for a, b in spans:
        for i in range(max(0, a), min(len(chars), b)):
            chars[i] = " "
    return "".join(chars)


@dataclass
class Seg:
    """What one segment says."""

    text: str
    types: list[tuple[str, str]]  # (canonical, as written)
    open_types: list[tuple[str, str]]
    zone_mode: str | None
    zones: tuple[str, ...]
    zone_note: str
    severity: str | None
    limits: list[Limit]
    negated: bool
    permitted: bool
    count: CountUnit | None
    catch_all: bool = False
    only_severity: bool = False
    sentence_start: bool = False
    undrawn: tuple[str, ...] = ()
    elsewhere: bool = False  # 'elsewhere': outside the zone named last
    condition: str = ""  # why the segment's rule depends on something the image cannot show
    only_on: bool = False  # 'acceptable only on the underside': a ban everywhere else
    light: str = ""  # the text with zones, places, severity and count units blanked out

    @property
    def is_rule(self) -> bool:
        """States a limit or a ban (or a permission): something that can carry a defect type."""
        return bool(self.limits or self.negated or self.permitted)


def zone_of(name: str, ctx: ParseContext) -> str:
    """The zone a written name means: a defined zone, a label, or a zone to be drawn (registered)."""
    key = " ".join(name.lower().split())
    if key in ctx.zones:
        return ctx.zones[key]
    for label, zname in ctx.labels.items():
        if key in (label, " ".join(singularize(w) for w in label.split())):
            return zname
    if key.startswith("class ") and key[6:] in ctx.zones:
        return ctx.zones[key[6:]]
    return ctx.undrawn.setdefault(key, " ".join(name.split()))


_QUANTITY_RE = re.compile(
    r"\b(?:Ra|Rz|Rq|Rt|Rmax)\s*[=:]?\s*\d[\d.,]*(?:\s*(?:µm|um|μm))?"
    r"|\d[\d.,]*\s*(?:°\s*C?|lux\b|lx\b|mT\b|GU\b|N\b|bar\b|Hz\b|kV\b|%\s*RH\b)",
)
_CONDITION_RES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            r"\bvisible\s+(?:(?:at|from)\s+(?:a\s+)?\d|from\b|with(?:out)?\s+(?:an?\s+)?\w*\s*(?:loupe|"
            r"magnif|microscope|eye)|under\b|against\b|through\b|to\s+the\s+(?:naked|unaided))",
            re.I,
        ),
        "depends on what is visible under given viewing conditions, judged by a person",
    ),
    (
        re.compile(
            r"\b(?:through|exposing|down\s+to|into|deeper\s+than)\s+(?:to\s+)?(?:the\s+)?(?:substrate|coating|"
            r"base\s+(?:metal|material)|primer|paint|plating|nickel|copper|chrome|clearcoat|topcoat|"
            r"anodic\s+layer|layer)\b",
            re.I,
        ),
        "depends on the depth reached in a layer, which an image cannot show",
    ),
    (
        re.compile(
            r"\b(?:darker|lighter|brighter|duller|worse|better|rougher)\s+than\b|"
            r"\b(?:beyond|exceeding)\s+(?!\d|[.,]\d|zone\b|the\b|a\b)[a-z]+\b(?!\s*(?:mm|µm|in)\b)",
            re.I,
        ),
        "compares with a reference sample or scale, judged by a person",
    ),
    (
        re.compile(
            r"\bmeasured\s+(?:by|with|on)\b|\b(?:with|by|using|on)\s+(?:a\s+|the\s+)?(?:feeler\s+)?(?:gauge|gage|caliper|micrometer|"
            r"lensmeter|eddy|xrf|zebra|fixture|flatness\s+table)",
            re.I,
        ),
        "is measured with an instrument, not from the image",
    ),
]
_ONLY_ON_RE = re.compile(
    r"\b(?:acceptable|allowed|permitted|tolerated)\s+only\b|\bonly\s+(?:acceptable|allowed|"
    r"permitted)\b",
    re.I,
)
_IS_CLASS_RE = re.compile(r"\b(?:is|are)\s+(?:an?\s+|always\s+)?(?:critical|major)\b", re.I)


def analyse(seg: str, ctx: ParseContext) -> Seg:
    """Read one segment. Raises WorkOrderError on bad numbers and units."""
    severity, sev_spans = find_severity(seg)
    light = mask(seg, sev_spans)
    known_all = find_known_types(light)
    explained = []  # 'Burns (dark spots from current density)': the brackets explain the word before
    for m in re.finditer(r"\(([^)]*)\)", light):
        if any(
            e <= m.start() and not light[e : m.start()].strip()
            for _, e, c, _ in known_all
            if c != GENERIC_TYPE
        ):
            explained.append((m.start(), m.end()))
    for (_, e1, _, _), (s2, e2, _, _) in zip(known_all, known_all[1:], strict=False):
        if re.fullmatch(r"\s+", light[e1:s2]):
            explained.append((s2, e2))  # 'rust spots', 'corrosion spots': the first word is the kind
    light = mask(light, explained)
    condition = ""
    quantities = [(m.start(), m.end()) for m in _QUANTITY_RE.finditer(light)]
    if quantities:  # 'less than 360°', 'below 0.3 mT', 'Ra 3.2 max': a condition, not a defect size
        light = mask(light, quantities)
        condition = "states a condition in other units (angle, light, field, roughness), judged by a person"
    for rx, why in _CONDITION_RES:
        if not condition and rx.search(light):
            condition = why
    if severity and not re.sub(r"[\W_]+", "", light):
        return Seg(seg, [], [], None, (), "", severity, [], False, False, None, only_severity=True)
    elsewhere = _ELSEWHERE_RE.search(light)
    if elsewhere:
        light = mask(light, [(elsewhere.start(), elsewhere.end())])
    refs = find_zone_refs(light, ctx.labels, ctx.zones.values())
    light = mask(light, [(r.start, r.end) for r in refs])
    kinds = tuple(dict.fromkeys(c for _, _, c, _ in find_known_types(light)))
    found = find_places(light, kinds)
    opening = prefix_place(light) if ctx.first else None
    if (
        opening
        and not any(r.start < opening.end for r in refs)
        and not any(p.start < opening.end for p in found)
    ):
        found.insert(0, opening)
    places = [p for p in found if not p.loose]
    light = mask(light, [(p.start, p.end) for p in found])
    for m in _ZONE_WORD_RE.finditer(light):  # 'crossing zone C2': a zone named outside a zone phrase
        name = m.group(1)
        if len(name) > 3 and name.islower():
            continue  # 'zone boundaries': an ordinary word
        refs.append(ZoneRef("inside", (name,), m.start(), m.end()))
        light = mask(light, [(m.start(), m.end())])
    pairs = [(r.mode, r.names) for r in refs] + [(p.mode, p.names) for p in places]
    specific = [(mode, names) for mode, names in pairs if mode != "anywhere"]
    zone_note, zone_mode, zones = "", None, ()
    if specific:
        modes = {mode for mode, _ in specific}
        zones = tuple(dict.fromkeys(zone_of(n, ctx) for _, names in specific for n in names))
        if len(modes) > 1:
            zone_note = "mixes 'in' and 'outside' zones in one rule; write one rule per zone"
        elif "outside" in modes and len(zones) > 1:
            zone_note = "a rule outside several zones is not supported; define one zone covering them"
        zone_mode = modes.pop()
    elif pairs:
        zone_mode = "anywhere"
    count = find_count_unit(light, ctx.part_words)
    if count is not None:
        light = mask(light, [(count.start, count.end)])
    catch = _CATCH_ALL_RE.search(light)
    try:
        check_numbers(light)
        known = find_known_types(light)
        limits = find_limits(light, {w.lower() for _, _, _, w in known})
    except LimitProblem as exc:
        raise WorkOrderError(f"{exc} in {seg.strip(' .;,')!r}", line=ctx.line) from None
    bare = mask(light, [(lim.start, lim.end) for lim in limits])
    types: list[tuple[str, str]] = []
    for _, _, canon, word in known:
        if canon not in [c for c, _ in types]:
            types.append((canon, word))
    specific_types = [t for t in types if t[0] != GENERIC_TYPE]
    if specific_types and not catch:
        types = specific_types
    if catch:
        types = [(GENERIC_TYPE, catch.group(0).strip())]
    open_types = [] if types else find_open_types(light, limits)
    undrawn = tuple(z for z in zones if z.lower() in ctx.undrawn)
    cond = re.search(r"\b(?:if|unless|provided|as\s+long\s+as)\b(?P<rest>.*)", light, re.I | re.S)
    if cond and not condition and re.search(r"[a-z]{3,}", re.sub(r"\bnot\b", "", cond.group("rest"))):
        condition = "allowed only under a condition a person judges"
    negated = bool(NEG_RE.search(bare)) or (
        bool(types or open_types)
        and not limits
        and bool(_IS_CLASS_RE.search(seg))
        and severity in ("critical", "major")
    )
    return Seg(
        seg,
        types,
        open_types,
        zone_mode,
        zones,
        zone_note,
        severity,
        limits,
        negated,
        bool(PERMIT_RE.search(bare)),
        count,
        catch_all=bool(catch),
        undrawn=undrawn,
        elsewhere=bool(elsewhere) and zone_mode is None,
        condition=condition if (types or open_types) else "",
        only_on=bool(_ONLY_ON_RE.search(bare)) and zone_mode == "inside",
        light=light,
    )
