"""What an explanation must say: the facts of one inspection, and the deterministic template.

:func:`gather_facts` reduces (analysis, verdict, work order) to the few points an operator
needs: which finding decided the verdict, its type, where it is (image region and zone), its
size in mm or mm², the clause id and why the verdict follows. :func:`template_explanation`
turns them into 1-3 plain sentences; the language model paraphrases the same facts and
:mod:`inspector.model.faithfulness` checks its text against them.
"""

from __future__ import annotations

from dataclasses import dataclass

from inspector.domain import Analysis, Outcome, SpecClause, Verdict, VerdictKind, WorkOrder

SIZE_MEASURES = ("length", "width", "diameter", "area", "depth")
# Types whose canonical word is not a countable noun: (singular, plural) used in sentences.
_NOUNS = {
    "pitting": ("pit", "pits"),
    "porosity": ("pore", "pores"),
    "corrosion": ("corrosion", "corrosion"),
    "crazing": ("crazing", "crazing"),
    "rolled-in scale": ("rolled-in scale", "rolled-in scale"),
    "weld spatter": ("weld spatter", "weld spatter"),
    "foreign material": ("foreign material", "foreign material"),
    "unknown": ("unidentified defect", "unidentified defects"),
    "defect": ("defect", "defects"),
}
MASS_NOUNS = frozenset(k for k, (s, p) in _NOUNS.items() if s == p)
# Image regions of a 3 x 3 grid: (row, column) -> name.
_GRID = {
    (0, 0): "top left", (0, 1): "top", (0, 2): "top right",
    (1, 0): "left", (1, 1): "centre", (1, 2): "right",
    (2, 0): "bottom left", (2, 1): "bottom", (2, 2): "bottom right",
}
_WHERE = {
    "top": "at the top of the image", "bottom": "at the bottom of the image",
    "left": "on the left of the image", "right": "on the right of the image",
    "centre": "near the centre of the image",
}
_MEASURE_AFTER = {"length": " long", "width": " wide", "diameter": " in diameter", "depth": " deep", "area": ""}
VERDICT_PHRASE = {
    VerdictKind.NG: "so the part is rejected (NG)",
    VerdictKind.REVIEW: "so the part needs review (REVIEW)",
    VerdictKind.OK: "so the part is accepted (OK)",
}


def type_key(defect_type: str | None) -> str:
    """Canonical type as used here: lower case, '_' as space, '' -> 'unknown'."""
    t = " ".join((defect_type or "unknown").replace("_", " ").lower().split())
    return t or "unknown"


def nouns(defect_type: str) -> tuple[str, str]:
    """(singular, plural) noun phrase for a canonical type: 'pitting' -> ('pit', 'pits')."""
    t = type_key(defect_type)
    if t in _NOUNS:
        return _NOUNS[t]
    if t.endswith(("ch", "sh", "s", "x", "z")):
        return t, t + "es"
    return t, t + "s"


def with_article(noun: str, defect_type: str) -> str:
    """'a scratch', 'an inclusion', 'corrosion' (mass nouns take none)."""
    if type_key(defect_type) in MASS_NOUNS:
        return noun
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def region_name(box: tuple[int, int, int, int], image_size: tuple[int, int] | None) -> str | None:
    """Which ninth of the image holds the box centre: 'top left', 'centre', ... (None: size unknown)."""
    if not image_size or image_size[0] <= 0 or image_size[1] <= 0:
        return None
    x, y, w, h = box
    fx, fy = (x + w / 2) / image_size[0], (y + h / 2) / image_size[1]
    col = 0 if fx < 1 / 3 else 1 if fx < 2 / 3 else 2
    row = 0 if fy < 1 / 3 else 1 if fy < 2 / 3 else 2
    return _GRID[(row, col)]


def where_phrase(name: str | None) -> str:
    """'in the top left of the image', 'near the centre of the image', ... ('' when unknown)."""
    if not name:
        return ""
    return _WHERE.get(name, f"in the {name} of the image")


def fmt_value(value: float, unit: str | None) -> str:
    """A measured value as written in explanations: '1.35 mm', '0.62 mm²', '3'."""
    if unit == "count":
        return f"{value:g}"
    if unit == "mm2":
        return f"{value:.2f} mm²"
    return f"{value:.2f} mm"


def fmt_limit(clause: SpecClause) -> str:
    """A clause limit as written: its own text when it has a number ('1.0 mm'), else formatted."""
    if clause.limit is None:
        return clause.limit_text
    lt = clause.limit_text.strip()
    if lt and any(ch.isdigit() for ch in lt):
        return lt.replace("mm2", "mm²")
    return fmt_value(clause.limit, clause.unit)


def scope_phrase(clause: SpecClause | None) -> str:
    """' inside zone A' / ' outside zone A' / ''."""
    if clause is None or clause.zone_mode == "anywhere" or not clause.zone:
        return ""
    return f" {clause.zone_mode} zone {clause.zone}"


@dataclass(frozen=True)
class Point:
    """One flagged fact: a finding (or a part-level count) with the check that flagged it.

    ``kind``: 'size' (a size limit), 'ban' (none allowed), 'count' (too many per part) or
    'review' (cannot be decided). ``value``/``unit`` is what the check measured ('mm', 'mm2',
    'count'); ``size_value``/``size_unit`` the size stated for the finding (may be the same).
    """

    kind: str
    outcome: Outcome
    defect_type: str
    index: int | None = None
    members: tuple[int, ...] = ()
    where: str | None = None
    zones: tuple[str, ...] = ()
    clause: SpecClause | None = None
    clause_id: str = ""
    measure: str | None = None
    value: float | None = None
    unit: str | None = None
    size_measure: str | None = None
    size_value: float | None = None
    size_unit: str | None = None
    doubt: str = ""  # why a person must decide (REVIEW points), a clause of a sentence


@dataclass(frozen=True)
class Facts:
    """Everything an explanation may state, for one inspection."""

    verdict: VerdictKind
    order_id: str
    points: tuple[Point, ...]
    n_findings: int
    image_size: tuple[int, int] | None = None
    clause_ids: tuple[str, ...] = ()

    @property
    def main(self) -> Point | None:
        return self.points[0] if self.points else None


def _finding_size(f, preferred: str | None) -> tuple[str | None, float | None, str | None]:
    """The size to state for a finding: the clause's measure, else the type's usual one."""
    from inspector.workorder.vocabulary import default_measure

    order = [m for m in (preferred, default_measure(type_key(f.defect_type)), "length", "area") if m]
    for m in order:
        if m in SIZE_MEASURES and f.measure(m) is not None:
            return m, float(f.measure(m)), "mm2" if m == "area" else "mm"
    return None, None, None


def _doubt(check, clause: SpecClause | None, finding, work_order: WorkOrder, type_min: float) -> str:
    if not check.clause_id:
        return "the spec does not name this defect type"
    if clause is not None and not clause.checkable:
        return f"{check.clause_id} needs a person to judge it"
    if clause is not None and clause.zone and clause.zone_mode != "anywhere":
        try:
            z = work_order.zone(clause.zone)
            located = z.unit != "mm" or bool(work_order.pixel_size_mm)
        except KeyError:
            located = False
        if not located:
            return f"zone {clause.zone} of {check.clause_id} cannot be located"
    if check.measure in SIZE_MEASURES and check.measured is None:
        return f"its {check.measure} could not be measured"
    why = []
    if finding is not None and finding.uncertain:
        why.append("the detection is uncertain")
    if finding is not None and (finding.type_uncertain or finding.type_score < type_min):
        why.append("its type is uncertain")
    return " and ".join(why) or "a person must decide"


def gather_facts(
    analysis: Analysis, verdict: Verdict, work_order: WorkOrder, image_size: tuple[int, int] | None = None
) -> Facts:
    """The flagged points of one inspection, most important first (FAIL before REVIEW).

    One point per finding (its first non-passing check) and one per failing part-level count
    check. ``image_size`` = (width, height) px lets points name an image region.
    """
    findings = analysis.findings
    type_min = float(analysis.thresholds.get("type_min", 0.0)) if analysis.thresholds else 0.0
    clauses = {c.id: c for c in work_order.clauses}
    checks = [c for c in verdict.checks if c.outcome is not Outcome.PASS]
    checks.sort(key=lambda c: 0 if c.outcome is Outcome.FAIL else 1)
    points: list[Point] = []
    seen: set[int] = set()
    for ch in checks:
        clause = clauses.get(ch.clause_id)
        if ch.finding_index is None:  # part-level count check
            t = type_key(clause.defect_type if clause else None)
            members = tuple(i for i, f in enumerate(findings) if type_key(f.defect_type) == t) or tuple(
                range(len(findings)))
            names = {region_name(findings[i].region.box, image_size) for i in members}
            doubt = "" if ch.outcome is Outcome.FAIL else "some of them are uncertain"
            points.append(Point(kind="count", outcome=ch.outcome, defect_type=t, members=members,
                                where=names.pop() if len(names) == 1 else None, clause=clause,
                                clause_id=ch.clause_id, measure="count", value=ch.measured, unit="count",
                                doubt=doubt))
            continue
        i = ch.finding_index
        if i in seen or not 0 <= i < len(findings):
            continue
        seen.add(i)
        f = findings[i]
        sm, sv, su = _finding_size(f, ch.measure)
        if ch.outcome is Outcome.REVIEW:
            kind, doubt = "review", _doubt(ch, clause, f, work_order, type_min)
        elif ch.measure == "count":
            kind, doubt = "ban", ""
        else:
            kind, doubt = "size", ""
        value = ch.measured if ch.measure in SIZE_MEASURES else None
        unit = ("mm2" if ch.measure == "area" else "mm") if value is not None else None
        points.append(Point(kind=kind, outcome=ch.outcome, defect_type=type_key(f.defect_type), index=i,
                            members=(i,), where=region_name(f.region.box, image_size), zones=f.region.zones,
                            clause=clause, clause_id=ch.clause_id, measure=ch.measure, value=value, unit=unit,
                            size_measure=sm, size_value=sv, size_unit=su, doubt=doubt))
    return Facts(verdict=verdict.kind, order_id=work_order.order_id, points=tuple(points),
                 n_findings=len(findings), image_size=image_size, clause_ids=verdict.clause_ids)


def size_phrase(p: Point) -> str:
    """' 1.35 mm long' / ' of 0.62 mm²' / '' for the finding's stated size."""
    if p.size_value is None:
        return ""
    v = fmt_value(p.size_value, p.size_unit)
    return f" of {v}" if p.size_measure == "area" else f" {v}{_MEASURE_AFTER.get(p.size_measure or '', '')}"


def place_phrase(p: Point) -> str:
    """' in the top left of the image, in zone A' / ' in zone A' / ''."""
    parts = [where_phrase(p.where)] if p.where else []
    if p.zones:
        parts.append("in zone " + " and ".join(p.zones))
    return (" " + ", ".join(parts)) if parts else ""


def limit_clause(p: Point) -> str:
    """'§2a allows scratches up to 1.0 mm long outside zone A' (without verdict)."""
    c = p.clause
    plural = nouns(p.defect_type)[1]
    if c is None:
        return ""
    lim = fmt_limit(c)
    if p.kind == "ban" or (c.measure == "count" and (c.limit or 0) == 0):
        return f"{p.clause_id} allows no {plural}{scope_phrase(c)}"
    if p.kind == "count":
        return f"{p.clause_id} allows at most {lim} {plural if (c.limit or 0) != 1 else nouns(p.defect_type)[0]}" \
               f"{scope_phrase(c) or ' per part'}"
    if c.comparison in (">=", ">"):
        return f"{p.clause_id} requires at least {lim}{_MEASURE_AFTER.get(c.measure or '', '')}{scope_phrase(c)}"
    return f"{p.clause_id} allows {plural} up to {lim}{_MEASURE_AFTER.get(c.measure or '', '')}{scope_phrase(c)}"


def _first_sentence(p: Point) -> str:
    sing, plural = nouns(p.defect_type)
    if p.kind == "count":
        n = int(p.value or len(p.members))
        possible = "possible " if p.outcome is Outcome.REVIEW else ""
        return f"{n} {possible}{plural if n != 1 else sing} were found{place_phrase(p)}."
    what = with_article(sing, p.defect_type)
    return f"{what[0].upper()}{what[1:]}{size_phrase(p)} was found{place_phrase(p)}."


def _second_sentence(p: Point, verdict: VerdictKind) -> str:
    tail = VERDICT_PHRASE[verdict]
    if p.kind == "review" or p.outcome is Outcome.REVIEW:
        doubt = p.doubt or "a person must decide"
        rule = f"; {limit_clause(p)}" if p.kind == "count" and p.clause else ""
        s = f"{doubt[0].upper()}{doubt[1:]}{rule}, {tail}."
        if p.clause_id and p.clause_id not in s:
            s = f"{doubt[0].upper()}{doubt[1:]} under {p.clause_id}{rule}, {tail}."
        return s
    return f"{limit_clause(p)}, {tail}."


def more_sentence(rest: list[Point]) -> str:
    """'2 more findings also fail §3, §4.' / '1 more finding also fails §2; 1 needs review (§3).'"""
    if not rest:
        return ""

    def ids(ps: list[Point]) -> str:
        return ", ".join(dict.fromkeys(p.clause_id for p in ps if p.clause_id))

    fails = [p for p in rest if p.outcome is Outcome.FAIL]
    reviews = [p for p in rest if p.outcome is not Outcome.FAIL]
    out = []
    if fails:
        k = len(fails)
        out.append(f"{k} more finding{'s also fail' if k != 1 else ' also fails'} {ids(fails) or 'the spec'}")
    if reviews:
        k = len(reviews)
        lead = f"{k} more finding{'s' if k != 1 else ''}" if not fails else f"{k}"
        tail = f" ({ids(reviews)})" if ids(reviews) else ""
        out.append(f"{lead} need{'s' if k == 1 else ''} review{tail}")
    return "; ".join(out) + "."


def explain_facts(facts: Facts) -> str:
    """The template text for already gathered facts (see :func:`template_explanation`)."""
    if facts.verdict is VerdictKind.OK or not facts.points:
        if facts.verdict is not VerdictKind.OK:
            return f"The inspection flagged this part against {facts.order_id}, {VERDICT_PHRASE[facts.verdict]}."
        if facts.n_findings:
            k = facts.n_findings
            return f"{k} finding{'s are' if k != 1 else ' is'} within the limits of {facts.order_id}, " \
                   f"{VERDICT_PHRASE[VerdictKind.OK]}."
        return f"No defect was found against {facts.order_id}, {VERDICT_PHRASE[VerdictKind.OK]}."
    p = facts.points[0]
    out = [_first_sentence(p), _second_sentence(p, facts.verdict)]
    more = more_sentence(list(facts.points[1:]))
    if more:
        out.append(more)
    return " ".join(out)


def template_explanation(
    analysis: Analysis, verdict: Verdict, work_order: WorkOrder, *, image_size: tuple[int, int] | None = None
) -> str:
    """A correct, deterministic 1-3 sentence explanation of the verdict.

    What was found, where (image region when ``image_size`` = (width, height) px is given,
    and zone), how big (mm or mm²), which clause, and why the verdict follows. Example:
    "A scratch 1.35 mm long was found in the top left of the image, in zone A. §2b allows no
    scratches inside zone A, so the part is rejected (NG)."
    """
    return explain_facts(gather_facts(analysis, verdict, work_order, image_size))


# --- the prompt the language model reads -------------------------------------------------

SYSTEM = ("You explain automatic inspection results to machine operators in at most three short "
          "sentences, using only the facts given.")
MAX_POINTS = 3  # points (and visual regions) described in a prompt


def _point_line(k: int, p: Point, work_order: WorkOrder) -> str:
    sing, plural = nouns(p.defect_type)
    bits = [f"F{k}: {sing if p.kind != 'count' else plural}"]
    if p.kind == "count":
        bits.append(f"count {fmt_value(p.value or len(p.members), 'count')}")
    if p.size_value is not None:
        bits.append(size_phrase(p).strip())
    if p.where:
        bits.append(f"{p.where} of image")
    if p.zones:
        bits.append("zone " + " and ".join(p.zones))
    rule = limit_clause(p) if p.clause is not None else ""
    if p.outcome.value == "fail":
        bits.append(f"FAIL: {rule}" if rule else "FAIL")
    else:
        bits.append(f"REVIEW: {p.doubt}" + (f"; {rule}" if rule else ""))
    return " | ".join(bits)


def build_prompt(facts: Facts, work_order: WorkOrder) -> tuple[str, str]:
    """(text before the visual tokens, text after them) of the chat prompt for these facts.

    The visual tokens (one group per described point, in order) go between the two parts.
    """
    head = f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\nImage regions:"
    lines = [f"Order {facts.order_id}. Verdict: {facts.verdict.value}."]
    pts = facts.points[:MAX_POINTS]
    for k, p in enumerate(pts, 1):
        lines.append(_point_line(k, p, work_order))
    if len(facts.points) > MAX_POINTS:
        rest = facts.points[MAX_POINTS:]
        ids = ", ".join(dict.fromkeys(p.clause_id for p in rest if p.clause_id))
        lines.append(f"Also flagged: {len(rest)} more" + (f" ({ids})" if ids else ""))
    main = facts.main
    if main is not None and main.clause is not None:
        text = " ".join(main.clause.text.split())
        lines.append(f"{main.clause_id} says: {text[:160]}")
    tail = "\n" + "\n".join(lines) + "\nExplain the verdict.<|im_end|>\n<|im_start|>assistant\n"
    return head, tail
