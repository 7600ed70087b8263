"""One spec clause (a sentence) -> its machine-checkable rules, or a non-checkable note.

See docs/workorders.md for the grammar. The entry point is :func:`parse_rules`; what one
segment says is read by :mod:`inspector.workorder.analyse`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from inspector.workorder.analyse import ParseContext, Seg, analyse, zone_of
from inspector.workorder.errors import WorkOrderError
from inspector.workorder.limits import LimitProblem, check_magnitude, measure_words_between
from inspector.workorder.segments import clause_prefix_severity, segments
from inspector.workorder.units import to_canonical
from inspector.workorder.vocabulary import GENERIC_TYPE, default_measure, measure_of_word

__all__ = ["ParseContext", "RuleDraft", "parse_rules"]


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
    catch_all: bool = False
    count_per: str = "part"
    count_base: float | None = None
    flags: tuple[str, ...] = ()


def unknown_word_flag(word: str) -> str:
    """The flag of a defect type that is not in the vocabulary."""
    return f"{word!r} is not a defect term I know: checked only by taught examples"


def undrawn_zone_flag(name: str) -> str:
    """The flag of a zone the spec names but does not define."""
    return f"zone {name!r} is not defined: draw it in the Teach tab (until then its clauses go to REVIEW)"


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
    override what the text says. A zone named in a sentence applies to that sentence
    only. Raises WorkOrderError on unknown units and bad numbers.
    """
    prefix_sev, body = clause_prefix_severity(text)
    drafts: list[RuleDraft] = []
    prev_types: list[tuple[str, str]] = []
    prev_zone: tuple[str | None, tuple[str, ...]] = (None, ())
    spans = segments(text, body)
    segs = [analyse(text[a:b], replace(ctx, first=k == 0)) for k, (a, b) in enumerate(spans)]
    for k, seg in enumerate(segs):
        if k and text[spans[k - 1][0] : spans[k - 1][1]].rstrip().endswith((".", "!", "?")):
            prev_zone = (None, ())  # a new sentence: the zone of the last one does not carry over
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
        if zmode is None and ctx.section:  # under a heading that names a place
            zmode, znames = "inside", (zone_of(ctx.section, ctx),)
        if ctx.rejects and not seg.permitted:  # a list of rejected defects: naming one rejects it
            seg.negated = True
        if seg.only_on and not seg.limits and zmode == "inside":  # 'acceptable only on the underside'
            seg.negated, seg.permitted, zmode = True, False, "outside"
        if seg.elsewhere and "zone" in ctx.recent:  # 'elsewhere': outside the zone named last
            zmode, znames = "outside", ctx.recent["zone"][1]
            prev_zone = (zmode, znames)
        if zmode in ("inside", "outside") and znames:
            ctx.recent["zone"] = (zmode, znames)
        if zone is not None:
            if zmode not in (None, "anywhere") and [n.lower() for n in znames] != [zone.lower()]:
                raise WorkOrderError(
                    f"clause gives zone {zone!r} but its text says {zmode} zone {', '.join(znames)}",
                    line=ctx.line,
                )
            zname = ctx.zones.get(zone.lower()) or ctx.undrawn.setdefault(zone.lower(), zone)
            zmode = zmode if zmode not in (None, "anywhere") else (zone_mode or "inside")
            znames = (zname,)
        sev = severity or seg.severity or prefix_sev
        flags = [unknown_word_flag(w) for c, w in types if (c, w) in seg.open_types]
        flags += [undrawn_zone_flag(z) for z in znames if z.lower() in ctx.undrawn]
        found = _rules_of(seg, types, zmode or "anywhere", znames, sev, ctx)
        drafts.extend(_with(d, flags=tuple(dict.fromkeys(d.flags + tuple(flags)))) for d in found)
    drafts = _distinct(drafts)
    if not drafts:
        drafts.append(
            RuleDraft(checkable=False, note="empty clause", severity=severity or prefix_sev or "major")
        )
    if all(not d.checkable for d in drafts):
        notes = "; ".join(dict.fromkeys(d.note for d in drafts if d.note))
        first = next((d for d in drafts if d.defect_type), drafts[0])
        flags = tuple(dict.fromkeys(f for d in drafts for f in d.flags))
        return [_with(first, note=notes, segment=text, flags=flags, measure=None, limit=None)]
    return drafts


def _distinct(drafts: list[RuleDraft]) -> list[RuleDraft]:
    """Each rule once: 'Bubbles ≤ 1 mm: max 3 per m²; bubbles > 1 mm: not permitted' states ≤ 1 mm twice."""
    seen, out = set(), []
    for d in drafts:
        key = (
            d.checkable,
            d.defect_type,
            d.measure,
            d.comparison,
            d.limit,
            d.zone,
            d.zone_mode,
            d.count_per,
            d.count_base,
            d.catch_all,
        )
        if not d.checkable or key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _with(d: RuleDraft, **changes) -> RuleDraft:
    return replace(d, **changes)


def _rules_of(
    seg: Seg,
    types: list[tuple[str, str]],
    zmode: str,
    znames: tuple[str, ...],
    sev: str | None,
    ctx: ParseContext,
) -> list[RuleDraft]:
    known_type = next(((c, w) for c, w in seg.types or types if c != GENERIC_TYPE), None) if types else None
    zones: tuple[str | None, ...] = znames if zmode != "anywhere" and znames else (None,)
    zm = zmode if zones != (None,) else "anywhere"
    count_per = seg.count.per if seg.count and seg.count.per else "part"
    base = seg.count.base if seg.count else None

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

    def rule(canon: str, word: str, z: str | None, **kw) -> RuleDraft:
        return RuleDraft(
            checkable=True,
            defect_type=canon,
            type_words=(word,),
            zone=z,
            zone_mode=zm,
            segment=seg.text,
            catch_all=seg.catch_all,
            **kw,
        )

    if seg.zone_note:
        return nc(seg.zone_note)
    if seg.condition:
        return nc(seg.condition)
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
                    rule(
                        canon,
                        word,
                        z,
                        measure="count",
                        comparison="<=",
                        limit=0.0,
                        unit="count",
                        limit_text="none",
                        severity=sev or ("major" if seg.catch_all else "critical"),
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
        if lim.kind == "count" and seg.count and not seg.count.per:
            return nc(
                f"counts {seg.count.written!r} are not supported; counts are per part, image, panel, "
                "frame, area (per 100 cm²) or length (per metre)"
            )
        if lim.kind == "count" and zm != "anywhere" and len(zones) > 1:
            return nc("a count over several zones is not supported; one zone per count rule")
        mword = lim.measure_word or measure_words_between(seg.light or seg.text, prev_end, lim.start)
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
            try:
                check_magnitude(value, unit, limit_text)
            except LimitProblem as exc:
                raise WorkOrderError(str(exc), line=ctx.line) from None
            per = {"count_per": count_per, "count_base": base} if measure == "count" else {}
            for z in zones:
                drafts.append(
                    rule(
                        canon,
                        word,
                        z,
                        measure=measure,
                        comparison=lim.rule_op(),
                        limit=value,
                        unit=unit,
                        limit_text=limit_text,
                        severity=sev or "major",
                        **per,
                    )
                )
    return drafts
