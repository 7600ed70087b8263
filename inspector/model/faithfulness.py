"""Checking an explanation against the facts it must state, and measuring how often it holds.

:func:`check_explanation` lists every way a text contradicts or misses the inspection record:
a missing or wrong defect type, a type no finding has, a size that matches no finding (or
limit) within the rounding it is written with, a count that is not the count, a clause id
that is not among the verdict's, a missing clause id, a missing or contradicting verdict
word, an image location the finding is not at, an appearance (dark/bright) the pixels do
not show, and more than three sentences. An empty list means the text passed.

:func:`inspector.training.eval_faithfulness.evaluate_faithfulness` runs the explainer on
generated cases and reports how often the check passes (it lives in training: it needs the
case generator, and the model never imports training).
"""

from __future__ import annotations

import re

import numpy as np

from inspector.domain import Analysis, Region, Verdict, VerdictKind, WorkOrder
from inspector.model.explain_text import (
    Facts,
    fmt_value,
    gather_facts,
    nouns,
    type_key,
)
from inspector.model.explain_vision import appearance

_NUM_UNIT = re.compile(
    r"(?<![\w.])(\d+(?:\.\d+)?)\s*(mm²|mm2|mm\^2|sq\.?\s?mm|square\s+millimet(?:re|er)s?|µm|um|microns?|"
    r"mm|millimet(?:re|er)s?)(?![\w²])",
    re.IGNORECASE,
)
_BARE_DECIMAL = re.compile(r"(?<![\w.§])(\d+\.\d+)(?!\s*(?:mm|millimet|µm|um|micron|square|sq))(?![\d\w])")
_CLAUSE = re.compile(r"§\s?(\d+[a-z]?)\b|\bclause\s+(\d+[a-z]?)\b", re.IGNORECASE)
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "no": 0}
_COUNT = re.compile(r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten)\s+(?:possible\s+|more\s+|other\s+|"
                    r"further\s+|separate\s+)?([a-z][a-z-]*(?:\s[a-z-]+)?)", re.IGNORECASE)
_SAYS = {
    VerdictKind.NG: re.compile(r"\bNG\b|(?i:\breject(?:s|ed|ion)?\b|\bfail(?:s|ed)?\b|\bnot\s+acceptable\b|"
                               r"\bscrap(?:ped)?\b|\bnon-?conforming\b)"),
    VerdictKind.OK: re.compile(r"(?<!not )(?<!no )(?:\bOK\b|(?i:\baccept(?:s|ed|able)?\b|\bpass(?:es|ed)?\b|"
                               r"\bconform(?:s|ing)?\b))"),
    VerdictKind.REVIEW: re.compile(r"\bREVIEW\b|\breview\b|\bperson must decide\b|\bneeds a person\b",
                                   re.IGNORECASE),
}
_LOCATION = {
    "top": re.compile(r"\b(?:top|upper)\b", re.IGNORECASE),
    "bottom": re.compile(r"\b(?:bottom|lower)\b", re.IGNORECASE),
    "left": re.compile(r"\bleft\b", re.IGNORECASE),
    "right": re.compile(r"\bright\b", re.IGNORECASE),
    "centre": re.compile(r"\b(?:centre|center|central|middle)\b", re.IGNORECASE),
}
_APPEARANCE = {
    "dark": re.compile(r"\bdark(?:er)?\b", re.IGNORECASE),
    "bright": re.compile(r"\bbright(?:er)?\b", re.IGNORECASE),
}
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=\S)")


def sentences(text: str) -> list[str]:
    """Split into sentences at '.', '!' or '?' followed by white space (so '1.35 mm' stays whole)."""
    return [s for s in _SENTENCE.split(text.strip()) if s.strip()]


def _type_patterns(analysis: Analysis, work_order: WorkOrder) -> list[tuple[str, re.Pattern]]:
    """Patterns for types the shared vocabulary may not know (custom words of this order/findings)."""
    from inspector.workorder.vocabulary import is_known_form

    out = []
    words: dict[str, set[str]] = {}
    for c in work_order.clauses:
        if c.defect_type:
            words.setdefault(type_key(c.defect_type), set()).update(w.lower() for w in c.type_words)
    for f in analysis.findings:
        words.setdefault(type_key(f.defect_type), set())
    for t, forms in words.items():
        forms = {w for w in forms | set(nouns(t)) | {t} if w and not is_known_form(w)}
        if t in ("unknown", "defect") or not forms:
            continue
        alt = "|".join(re.escape(w) for w in sorted(forms, key=len, reverse=True))
        out.append((t, re.compile(rf"(?<![\w-])(?:{alt})(?![\w-])", re.IGNORECASE)))
    return out


def _types_in(text: str, custom: list[tuple[str, re.Pattern]]) -> set[str]:
    from inspector.workorder.vocabulary import GENERIC_TYPE, find_known_types

    found = {type_key(t) for _, _, t, _ in find_known_types(text)}
    found |= {"unknown"} if re.search(r"\bunidentified\b|\bunknown\b", text, re.IGNORECASE) else set()
    for t, pat in custom:
        if pat.search(text):
            found.add(t)
    found.discard(GENERIC_TYPE)
    return found


def _close(written: str, true: float) -> bool:
    """Is ``written`` the true value within the rounding it is written with?"""
    decimals = len(written.split(".")[1]) if "." in written else 0
    return abs(float(written) - true) <= 0.5 * 10 ** (-decimals) + 1e-9


def _to_canonical(value: str, unit: str) -> tuple[str, str]:
    """(number as written in canonical units, 'mm' | 'mm2')."""
    u = unit.lower()
    if u in ("µm", "um", "micron", "microns"):
        v = float(value) / 1000.0
        decimals = (len(value.split(".")[1]) if "." in value else 0) + 3
        return f"{v:.{decimals}f}", "mm"
    if "2" in u or "²" in u or "sq" in u or "square" in u:
        return value, "mm2"
    return value, "mm"


def _where_ok(claim: str, region: Region, image_size: tuple[int, int]) -> bool:
    x, y, w, h = region.box
    fx, fy = (x + w / 2) / image_size[0], (y + h / 2) / image_size[1]
    return {
        "top": fy <= 0.55, "bottom": fy >= 0.45, "left": fx <= 0.55, "right": fx >= 0.45,
        "centre": not ((fx < 1 / 3 or fx > 2 / 3) and (fy < 1 / 3 or fy > 2 / 3)),
    }[claim]


def _mask_names(text: str, analysis: Analysis, work_order: WorkOrder) -> str:
    """Blank out zone names, order id and part number so their words are not read as claims."""
    names = {z.name for z in work_order.zones} | {z for f in analysis.findings for z in f.region.zones}
    for n in sorted(names, key=len, reverse=True):
        text = re.sub(rf"\bzones?\s+{re.escape(n)}\b", " zone ", text, flags=re.IGNORECASE)
    for s in (work_order.order_id, work_order.part_number):
        if s:
            text = text.replace(s, " ")
    return text


def check_explanation(
    text: str,
    analysis: Analysis,
    verdict: Verdict,
    work_order: WorkOrder,
    *,
    image_size: tuple[int, int] | None = None,
    image: np.ndarray | None = None,
) -> list[str]:
    """Problems of ``text`` as an explanation of this inspection; empty when it is faithful.

    ``image_size`` = (width, height) px enables the location check (top/left/centre words
    against the finding's place); ``image`` also enables the appearance check (dark/bright).
    """
    if image is not None and image_size is None:
        image_size = (int(image.shape[1]), int(image.shape[0]))
    facts = gather_facts(analysis, verdict, work_order, image_size)
    problems: list[str] = []
    if not text or not text.strip():
        return ["empty explanation"]
    sents = sentences(text)
    if len(re.findall(r"[A-Za-z]{2,}", text)) < 6:
        problems.append("too short: fewer than six words")
    if len(sents) > 3:
        problems.append(f"too long: {len(sents)} sentences (at most 3)")
    masked = _mask_names(text, analysis, work_order)
    problems += _check_clauses(masked, facts, work_order)
    problems += _check_verdict(masked, facts)
    custom = _type_patterns(analysis, work_order)
    problems += _check_types(masked, facts, analysis, work_order, custom)
    problems += _check_numbers(masked, facts, analysis, verdict, work_order, custom)
    if image_size:
        problems += _check_places(_mask_names(text, analysis, work_order), facts, analysis, custom, image_size,
                                  image)
    return list(dict.fromkeys(problems))


def _check_clauses(text: str, facts: Facts, work_order: WorkOrder) -> list[str]:
    out = []
    said = set()
    for m in _CLAUSE.finditer(text):
        said.add("§" + (m.group(1) or m.group(2)))
    for c in work_order.clauses:
        if not c.id.startswith("§") and re.search(rf"(?<![\w§]){re.escape(c.id)}(?!\w)", text):
            said.add(c.id)
    allowed = {c for c in facts.clause_ids if c}
    for cid in sorted(said - allowed):
        out.append(f"clause {cid} is not among the verdict's clauses ({', '.join(sorted(allowed)) or 'none'})")
    main = facts.main
    if main is not None and main.clause_id and main.clause_id not in said:
        out.append(f"missing clause {main.clause_id}")
    return out


def _check_verdict(text: str, facts: Facts) -> list[str]:
    out = []
    v = facts.verdict
    if not _SAYS[v].search(text):
        out.append(f"missing verdict: the text does not say {v.value}")
    others = {VerdictKind.NG: (VerdictKind.OK,), VerdictKind.OK: (VerdictKind.NG, VerdictKind.REVIEW),
              VerdictKind.REVIEW: (VerdictKind.NG, VerdictKind.OK)}[v]
    for o in others:
        m = _SAYS[o].search(text)
        if m:
            out.append(f"wrong verdict word {m.group(0)!r}: the verdict is {v.value}")
    return out


def _allowed_types(facts: Facts, analysis: Analysis, work_order: WorkOrder) -> set[str]:
    allowed = {"unknown"}
    for p in facts.points:
        allowed.add(p.defect_type)
        for i in p.members:
            f = analysis.findings[i]
            allowed.add(type_key(f.defect_type))
            allowed.update(type_key(t) for t, _ in f.type_candidates)
        if p.clause is not None and p.clause.defect_type:
            allowed.add(type_key(p.clause.defect_type))
    return allowed


def _check_types(text, facts, analysis, work_order, custom) -> list[str]:
    out = []
    said = _types_in(text, custom)
    allowed = _allowed_types(facts, analysis, work_order)
    for t in sorted(said - allowed):
        out.append(f"invented defect type {t!r}: no flagged finding is one")
    main = facts.main
    if main is not None and main.defect_type not in ("unknown", "defect") and main.defect_type not in said:
        wrong = sorted(said - {main.defect_type, "unknown"})
        if wrong:
            out.append(f"wrong defect type: says {', '.join(wrong)}, the finding is {main.defect_type}")
        else:
            out.append(f"missing defect type {main.defect_type}")
    if main is not None and main.defect_type in ("unknown", "defect") and not re.search(
            r"\b(?:unidentified|unknown|defects?|anomal(?:y|ies)|flaws?|findings?)\b", text, re.IGNORECASE):
        out.append("missing defect: the text does not say what was found")
    if main is not None and main.defect_type == "unknown" and said - {"unknown"}:
        out.append(f"wrong defect type: says {', '.join(sorted(said - {'unknown'}))}, the finding is unidentified")
    return out


def _sentence_findings(sent: str, facts: Facts, analysis: Analysis, custom) -> list[int]:
    """Findings a sentence talks about: those of the types it names, else all flagged ones."""
    types = _types_in(sent, custom)
    flagged = sorted({i for p in facts.points for i in p.members})
    named = [i for i in range(len(analysis.findings)) if type_key(analysis.findings[i].defect_type) in types]
    return named or flagged or list(range(len(analysis.findings)))


def _check_numbers(text, facts, analysis, verdict, work_order, custom) -> list[str]:
    out = []
    clauses = {c.id: c for c in work_order.clauses}
    limits = {"mm": [], "mm2": []}
    counts: dict[str, set[int]] = {}
    for cid in facts.clause_ids:
        c = clauses.get(cid)
        if c is None or c.limit is None:
            continue
        if c.unit in ("mm", "mm2"):
            limits[c.unit].append(c.limit)
        elif c.unit == "count" and c.defect_type:
            counts.setdefault(type_key(c.defect_type), set()).add(int(c.limit))
    for ch in verdict.checks:
        if ch.measure == "count" and ch.measured is not None and ch.clause_id in clauses:
            t = type_key(clauses[ch.clause_id].defect_type)
            counts.setdefault(t, set()).add(int(ch.measured))
    for f in analysis.findings:
        t = type_key(f.defect_type)
        counts.setdefault(t, set()).add(sum(type_key(g.defect_type) == t for g in analysis.findings))
    seen_main = False
    main = facts.main
    for sent in sentences(text):
        idx = _sentence_findings(sent, facts, analysis, custom)
        values = {"mm": [], "mm2": []}
        for i in idx:
            f = analysis.findings[i]
            values["mm"] += [v for v in (f.length_mm, f.width_mm, f.diameter_mm) if v is not None]
            values["mm2"] += [f.area_mm2] if f.area_mm2 is not None else []
        for m in _NUM_UNIT.finditer(sent):
            written, unit = _to_canonical(m.group(1), m.group(2))
            ok = any(_close(written, v) for v in values[unit] + limits[unit])
            if not ok:
                shown = ", ".join(f"{v:.2f}" for v in values[unit][:4]) or "none"
                out.append(f"size {m.group(0)!r} matches no finding or limit (measured {unit}: {shown})")
            if main is not None and main.value is not None and unit == main.unit and _close(written, main.value):
                seen_main = True
        for m in _BARE_DECIMAL.finditer(sent):
            v = m.group(1)
            pool = values["mm"] + values["mm2"] + limits["mm"] + limits["mm2"]
            if not any(_close(v, x) for x in pool):
                out.append(f"number {v} (no unit) matches no finding or limit")
        for m in _COUNT.finditer(sent):
            n = _NUMBER_WORDS.get(m.group(1).lower())
            n = int(m.group(1)) if n is None else n
            noun = m.group(2).lower()
            t = _noun_type(noun, custom)
            if t is None or t in ("defect", "unknown") or n == 0:
                continue
            if n not in counts.get(t, set()):
                out.append(f"count '{m.group(0)}' is wrong: {sorted(counts.get(t, {0}))} {t} counted or allowed")
    if main is not None and main.kind == "size" and main.value is not None and not seen_main:
        out.append(f"missing size {fmt_value(main.value, main.unit)} of the deciding {main.defect_type}")
    return out


def _noun_type(phrase: str, custom) -> str | None:
    from inspector.workorder.vocabulary import find_known_types

    for cand in (phrase, phrase.split(" ")[0]):
        hits = find_known_types(cand)
        if hits and hits[0][0] == 0:
            return type_key(hits[0][2])
        for t, pat in custom:
            m = pat.match(cand)
            if m:
                return t
    return None


def _check_places(text, facts, analysis, custom, image_size, image) -> list[str]:
    out = []
    for sent in sentences(text):
        idx = _sentence_findings(sent, facts, analysis, custom)
        if not idx:
            continue
        regions = [analysis.findings[i].region for i in idx]
        for claim, pat in _LOCATION.items():
            if pat.search(sent) and not any(_where_ok(claim, r, image_size) for r in regions):
                out.append(f"location '{claim}' contradicts where the finding is")
        if image is None:
            continue
        for claim, pat in _APPEARANCE.items():
            if pat.search(sent):
                seen = {appearance(image, r) for r in regions}
                if claim not in seen:
                    out.append(f"appearance '{claim}' is not what the image shows ({', '.join(map(str, seen))})")
    return out
