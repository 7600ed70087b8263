"""One spec clause (a sentence) -> its machine-checkable rules, or a non-checkable note.

See docs/workorders.md for the grammar. The entry point is :func:`parse_rules`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from inspector.workorder.errors import WorkOrderError
from inspector.workorder.limits import Limit, LimitProblem, find_limits, measure_words_between
from inspector.workorder.opentypes import open_types as find_open_types
from inspector.workorder.segments import (
    NEG_RE,
    PERMIT_RE,
    clause_prefix_severity,
    find_severity,
    segments,
)
from inspector.workorder.units import NUM, UNIT, to_canonical
from inspector.workorder.vocabulary import (
    GENERIC_TYPE,
    default_measure,
    find_known_types,
    measure_of_word,
)
from inspector.workorder.zones import ZONE_NAME, find_zone_refs


@dataclass(frozen=True)
class ParseContext:
    """What a clause needs from the rest of the order."""

    zones: Mapping[str, str] = field(default_factory=dict)  # lower-case name -> name
    labels: Mapping[str, str] = field(default_factory=dict)  # lower-case label -> zone name
    pixel_size_mm: float | None = None
    line: int | None = None


@dataclass(frozen=True)
class RuleDraft:
    """A rule (or a non-checkable remark) read from one segment of a clause."""

    checkable: bool
    defect_type: str | None = None
    type_words: tuple[str, ...] = ()
    measure: str | None = None
    comparison: str | None = None
    limit: float | None = None
    unit: str | None = None
    limit_text: str = ""
    zone: str | None = None
    zone_mode: str = "anywhere"
    severity: str = "major"
    note: str = ""
    segment: str = ""


_PER_PART_RE = re.compile(
    r"\b(?:per|each|every)\s+(?:(?:ball[-\s]?screw|spindle|drive|screw|machined|stamped)\s+)?"
    r"(?:part|piece|pc|unit|item|image|picture|photo|section|component|spindle|plate|bracket|sample|frame|"
    r"workpiece|work\s+piece)s?\b|\bin\s+total\b|\b(?:on\s+)?the\s+(?:whole|entire)\s+part\b",
    re.IGNORECASE,
)
_DENSITY_RE = re.compile(rf"\bper\s+(?:{NUM}\s*)?(?:{UNIT}|square\s+\w+)", re.IGNORECASE)
_PER_OTHER_RE = re.compile(r"\bper\s+([a-z][\w-]*(?:\s+[a-z][\w-]*)?)", re.IGNORECASE)
_ZONE_WORD_RE = re.compile(rf"\bzones?\s+({ZONE_NAME})", re.IGNORECASE)


def _mask(s: str, spans: list[tuple[int, int]]) -> str:
    chars = list(s)
    for a, b in spans:
        for i in range(max(0, a), min(len(chars), b)):
            chars[i] = " "
    return "".join(chars)


@dataclass
class _Seg:
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
    density: bool
    per_other: str
    only_severity: bool = False

    @property
    def is_rule(self) -> bool:
        """States a limit or a ban (or a permission): something that can carry a defect type."""
        return bool(self.limits or self.negated or self.permitted)


def _analyse(seg: str, ctx: ParseContext) -> _Seg:
    severity, sev_spans = find_severity(seg)
    light = _mask(seg, sev_spans)
    if severity and not re.sub(r"[\W_]+", "", light):
        return _Seg(seg, [], [], None, (), "", severity, [], False, False, False, "", only_severity=True)
    refs = find_zone_refs(light, ctx.labels, ctx.zones.values())
    zone_note = ""
    zone_mode: str | None = None
    zones: tuple[str, ...] = ()
    for r in refs:
        for name in r.names:
            if name.lower() not in ctx.zones:
                raise _undefined_zone(name, ctx)
    specific = [r for r in refs if r.mode != "anywhere"]
    if specific:
        modes = {r.mode for r in specific}
        names = tuple(dict.fromkeys(ctx.zones[n.lower()] for r in specific for n in r.names))
        if len(modes) > 1:
            zone_note = "mixes 'in' and 'outside' zones in one rule; write one rule per zone"
        elif "outside" in modes and len(names) > 1:
            zone_note = "a rule outside several zones is not supported; define one zone covering them"
        zone_mode, zones = modes.pop(), names
    elif refs:
        zone_mode = "anywhere"
    light = _mask(light, [(r.start, r.end) for r in refs])
    per_part = [(m.start(), m.end()) for m in _PER_PART_RE.finditer(light)]
    if per_part and zone_mode is None:
        zone_mode = "anywhere"
    light = _mask(light, per_part)
    for m in _ZONE_WORD_RE.finditer(light):
        name = m.group(1)
        if name.lower() not in ctx.zones:
            if len(name) <= 3 or not name.islower():  # 'zone C', 'zone B2': a zone name, undefined
                raise _undefined_zone(name, ctx)
            continue  # 'zone boundaries': an ordinary word
        zone_note = zone_note or f"mentions zone {name} but not as 'in zone {name}' or 'outside zone {name}'"
    density = bool(_DENSITY_RE.search(light))
    per_other = ""
    if not density:
        pm = _PER_OTHER_RE.search(light)
        if pm:
            per_other = pm.group(1)
    known = find_known_types(light)
    type_words = {w.lower() for _, _, _, w in known}
    try:
        limits = find_limits(light, type_words)
    except LimitProblem as exc:
        raise WorkOrderError(f"{exc} in {seg.strip(' .;,')!r}", line=ctx.line) from None
    bare = _mask(light, [(lim.start, lim.end) for lim in limits])
    negated = bool(NEG_RE.search(bare))
    permitted = bool(PERMIT_RE.search(bare))
    types: list[tuple[str, str]] = []
    for _, _, canon, word in known:
        if canon not in [c for c, _ in types]:
            types.append((canon, word))
    specific_types = [t for t in types if t[0] != GENERIC_TYPE]
    if specific_types:
        types = specific_types
    open_types = [] if types else find_open_types(light, limits)
    return _Seg(
        seg,
        types,
        open_types,
        zone_mode,
        zones,
        zone_note,
        severity,
        limits,
        negated,
        permitted,
        density,
        per_other,
    )


def _undefined_zone(name: str, ctx: ParseContext) -> WorkOrderError:
    if ctx.zones:
        have = ", ".join(sorted(ctx.zones.values()))
        return WorkOrderError(f"zone {name!r} is referenced but not defined (defined: {have})", line=ctx.line)
    return WorkOrderError(
        f"zone {name!r} is referenced but not defined (add a header line like 'Zone {name}: x 0-20 mm, y 0-10 mm')",
        line=ctx.line,
    )


def parse_rules(
    text: str,
    ctx: ParseContext,
    *,
    severity: str | None = None,
    zone: str | None = None,
    zone_mode: str | None = None,
) -> list[RuleDraft]:
    """The rules of one clause, in order. Never empty: a clause without a rule gives one
    non-checkable draft whose ``note`` says why.

    ``severity``/``zone``/``zone_mode`` come from structured (JSON/YAML) clauses and
    override what the text says. Raises WorkOrderError on unknown units, undefined zones,
    limits of the wrong dimension.
    """
    prefix_sev, body = clause_prefix_severity(text)
    drafts: list[RuleDraft] = []
    prev_types: list[tuple[str, str]] = []
    prev_zone: tuple[str | None, tuple[str, ...]] = (None, ())
    segs = [_analyse(text[a:b], ctx) for a, b in segments(text, body)]
    for k, seg in enumerate(segs):
        if seg.only_severity:  # "Severity: minor." applies to the whole clause
            prefix_sev = seg.severity
            continue
        if seg.types and not seg.is_rule and not seg.zone_note and k + 1 < len(segs):
            prev_types = seg.types  # a heading like "Pits;" before the rules about pits
            if seg.zone_mode is not None:
                prev_zone = (seg.zone_mode, seg.zones)
            continue
        own = seg.types or (seg.open_types if seg.is_rule else [])
        types = own or (prev_types if seg.is_rule else [])
        if own:
            prev_types = own
        if seg.zone_mode is not None:
            prev_zone = (seg.zone_mode, seg.zones)
        zmode, znames = (seg.zone_mode, seg.zones) if seg.zone_mode is not None else prev_zone
        if zone is not None:
            if zmode not in (None, "anywhere") and [n.lower() for n in znames] != [zone.lower()]:
                raise WorkOrderError(
                    f"clause gives zone {zone!r} but its text says {zmode} zone {', '.join(znames)}",
                    line=ctx.line,
                )
            if zone.lower() not in ctx.zones:
                raise _undefined_zone(zone, ctx)
            zmode, znames = (
                (zmode if zmode not in (None, "anywhere") else (zone_mode or "inside")),
                (ctx.zones[zone.lower()],),
            )
        sev = severity or seg.severity or prefix_sev
        drafts.extend(_rules_of(seg, types, zmode or "anywhere", znames, sev, ctx))
    if not drafts:
        drafts.append(
            RuleDraft(checkable=False, note="empty clause", severity=severity or prefix_sev or "major")
        )
    if all(not d.checkable for d in drafts):
        notes = "; ".join(dict.fromkeys(d.note for d in drafts if d.note))
        first = next((d for d in drafts if d.defect_type), drafts[0])
        return [
            RuleDraft(
                checkable=False,
                defect_type=first.defect_type,
                type_words=first.type_words,
                zone=first.zone,
                zone_mode=first.zone_mode,
                severity=first.severity,
                note=notes,
                segment=text,
            )
        ]
    return drafts


def _rules_of(
    seg: _Seg,
    types: list[tuple[str, str]],
    zmode: str,
    znames: tuple[str, ...],
    sev: str | None,
    ctx: ParseContext,
) -> list[RuleDraft]:
    known_type = next(((c, w) for c, w in seg.types or types if c != GENERIC_TYPE), None) if types else None
    zones: tuple[str | None, ...] = znames if zmode != "anywhere" and znames else (None,)
    zm = zmode if zones != (None,) else "anywhere"

    def nc(note: str) -> list[RuleDraft]:
        keep = known_type if (seg.types and known_type) else None
        return [
            RuleDraft(
                checkable=False,
                defect_type=keep[0] if keep else None,
                type_words=(keep[1],) if keep else (),
                zone=zones[0],
                zone_mode=zm,
                severity=sev or "major",
                note=note,
                segment=seg.text,
            )
        ]

    if seg.zone_note:
        return nc(seg.zone_note)
    if seg.density:
        return nc("limits per area (density) are not supported; counts are per part")
    if any(lim.kind == "percent" for lim in seg.limits):
        return nc("percentage limits are not supported; give a size in mm or mm²")
    if not types:
        if seg.limits or seg.negated:
            return nc("states a limit but names no defect type")
        return nc(
            "states no defect limit or ban (an instruction or a visual requirement, judged by a person)"
        )
    drafts: list[RuleDraft] = []
    if not seg.limits:
        if not seg.negated:
            word = known_type[1] if known_type else types[0][1]
            if seg.permitted:
                return nc(f"allows {word} but states no limit")
            return nc(f"names {word} but states no limit or ban")
        for canon, word in types:
            for z in zones:
                drafts.append(
                    RuleDraft(
                        checkable=True,
                        defect_type=canon,
                        type_words=(word,),
                        measure="count",
                        comparison="<=",
                        limit=0.0,
                        unit="count",
                        limit_text="none",
                        zone=z,
                        zone_mode=zm,
                        severity=sev or "critical",
                        segment=seg.text,
                    )
                )
        return drafts
    prev_end = 0
    for lim in seg.limits:
        limit_text = seg.text[lim.num_start : lim.num_end].strip()
        if lim.side == "?":
            return nc(
                f"'{limit_text}' has no comparator; write 'up to {limit_text}' or "
                f"'larger than {limit_text} not permitted'"
            )
        if lim.side == "f" and not seg.negated:
            if seg.permitted or lim.op == ">=":
                return nc(f"sets a minimum ('{limit_text}'), not a defect limit")
            return nc(f"names sizes above {limit_text} but does not say they are rejected")
        if lim.kind == "count" and seg.per_other:
            return nc(f"counts per {seg.per_other!r} are not supported; counts are per part (per image)")
        if lim.kind == "count" and zm != "anywhere" and len(zones) > 1:
            return nc("a count over several zones is not supported; one zone per count rule")
        mword = lim.measure_word or measure_words_between(seg.text, prev_end, lim.start)
        prev_end = lim.end
        named = measure_of_word(mword.lower()) if mword else ""
        for canon, word in types:
            if lim.kind == "count":
                measure, value, unit = "count", lim.value, "count"
            else:
                try:
                    value, unit = to_canonical(lim.value, lim.unit, ctx.pixel_size_mm)
                except ValueError as exc:
                    raise WorkOrderError(f"{exc} in {seg.text.strip(' .;,')!r}", line=ctx.line) from None
                if unit == "mm2":
                    if named and named != "area":
                        raise WorkOrderError(
                            f"{named} limit {limit_text!r} is an area; use mm for a {named}", line=ctx.line
                        )
                    measure = "area"
                else:
                    if named == "area":
                        raise WorkOrderError(
                            f"area limit {limit_text!r} needs an area unit (mm²)", line=ctx.line
                        )
                    measure = named or default_measure(canon)
            for z in zones:
                drafts.append(
                    RuleDraft(
                        checkable=True,
                        defect_type=canon,
                        type_words=(word,),
                        measure=measure,
                        comparison=lim.rule_op(),
                        limit=value,
                        unit=unit,
                        limit_text=limit_text,
                        zone=z,
                        zone_mode=zm,
                        severity=sev or "major",
                        segment=seg.text,
                    )
                )
    return drafts
