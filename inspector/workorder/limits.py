"""Finding limit expressions in one rule segment: 'up to 0.5 mm', 'at most 3', 'larger than 0.3 mm'.

A limit is *allowed-side* ("up to 0.5 mm": sizes up to it pass) or *forbidden-side*
("larger than 0.3 mm": sizes beyond it are the problem; needs a negation such as "no"
or "not permitted" to become a rule). Both end up as the comparison a measured value
must satisfy to pass: '<=' or '<'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from inspector.workorder.units import FOREIGN_UNITS, NUM, UNIT, parse_number, unit_kind
from inspector.workorder.vocabulary import MEASURE_WORD_RE, find_known_types, is_known_form

_B = r"(?<![\w])"  # word start
# (regex, side, op) -- side 'a' allowed, 'f' forbidden; op is the comparator as written
_COMPARATORS: list[tuple[str, str, str]] = [
    (r"<=|=<|≤|⩽|≦", "a", "<="),
    (r">=|=>|≥|⩾|≧", "f", ">="),
    (r"<(?![=>])", "a", "<"),
    (r">(?!=)", "f", ">"),
    (_B + r"(?:up\s+to(?:\s+and\s+including)?(?:\s+(?:a\s+)?max(?:imum)?\.?(?:\s+of)?)?)", "a", "<="),
    (_B + r"(?:not|no)\s+(?:more|greater|larger|bigger|longer|wider|deeper)\s+than", "a", "<="),
    (_B + r"(?:(?:shall|must|may|should|does|do|will|can)\s+)?not\s+(?:to\s+)?exceed(?:ing)?", "a", "<="),
    (
        _B
        + r"(?:shall|must|may|should|will|can)\s+(?:not\s+)?be\s+(?:at\s+most|max(?:imum)?\.?|no\s+more\s+than)",
        "a",
        "<=",
    ),
    (_B + r"(?:at\s+most|(?:a\s+)?max(?:imum)?\.?(?:\s+of)?)", "a", "<="),
    (_B + r"(?:(?:less|smaller|shorter|narrower|shallower|fewer)\s+than|under|below)", "a", "<"),
    (
        _B
        + r"(?:(?:more|greater|larger|bigger|longer|wider|deeper)\s+than|exceed(?:s|ing)?|in\s+excess\s+of|over|above|beyond)",
        "f",
        ">",
    ),
    (_B + r"(?:at\s+least|min(?:imum)?\.?(?:\s+of)?)", "f", ">="),
]
_MFILL = (
    r"(?:(?:an?\s+)?(?:total\s+)?(?:length|width|diameter|diam\.?|dia\.?|depth|area|size|[ø⌀])\s*(?:of\s+)?)?"
)
_PREFIX_RE = re.compile(
    "(?:"
    + "|".join(f"(?P<c{i}>{rx})" for i, (rx, _, _) in enumerate(_COMPARATORS))
    + r")\s*"
    + _MFILL
    + rf"\s*(?P<num>{NUM})(?:\s*(?P<unit>{UNIT}))?",
    re.IGNORECASE,
)
_POSTFIX_RE = re.compile(
    rf"(?<![\w.,])(?P<num>{NUM})\s*(?P<unit>{UNIT})?\s*(?:(?:in\s+)?(?:long|length|wide|width|diameter|dia\.?|deep|depth)\s+)?"
    r"(?:(?P<le>max(?:imum)?\.?|at\s+most|or\s+(?:less|smaller|shorter|under|below))|"
    r"(?P<ge>or\s+(?:more|larger|longer|greater|bigger|above|over)|and\s+(?:above|over|larger|longer|greater)|min(?:imum)?\.?))(?![\w])",
    re.IGNORECASE,
)
_COUNT_POSTFIX_RE = re.compile(
    rf"(?<![\w.,])(?P<num>{NUM})\s+(?P<words>[a-z][a-z-]*(?:\s+[a-z][a-z-]*)?)\s+(?:max(?:imum)?\.?|at\s+most)(?![\w])",
    re.IGNORECASE,
)
_BARE_RE = re.compile(rf"(?<![\w.,])(?P<num>{NUM})\s*(?P<unit>{UNIT})", re.IGNORECASE)
_AFTER_MEASURE_RE = re.compile(
    r"^\s*(?:in\s+)?(long|length|wide|width|diameter|diam\.?|dia\.?|deep|depth|high|height|across|area)(?![\w])",
    re.I,
)
# words after "in" that make it a unit ("0.02 in long") rather than a preposition ("2 in zone A")
_IN_UNIT_FOLLOWERS = frozenset(
    "long wide deep high diameter dia length width depth height max maximum allowed permitted or and are is acceptable per across".split()
)
# words that may follow a count ("at most 2 per part", "up to 3 visible pits") without being a unit
_NOT_UNITS = frozenset(
    """per in on at of for within inside outside across along anywhere each from to and or but if
    allowed permitted acceptable accepted is are be shall must may max maximum total in all x pcs pc pieces
    piece places locations times off visible small large minor major critical isolated individual separate
    distinct surface deep shallow fine light heavy sharp single more less defects defect findings finding
    indications indication occurrences instances zone zones""".split()
)


@dataclass(frozen=True)
class Limit:
    """One number with its comparator in a segment."""

    side: str  # 'a' allowed-side, 'f' forbidden-side
    op: str  # comparator as written: '<=', '<', '>=', '>'
    value: float  # as written, before unit conversion
    unit: str  # unit as written ('' for a count)
    kind: str  # 'length', 'area', 'px', 'px2', 'percent' or 'count'
    factor: float
    start: int  # span of the whole expression
    end: int
    num_start: int  # span of number + unit (the limit_text)
    num_end: int
    measure_word: str = ""  # measure named next to it ('' = none)
    bare: bool = False  # a number + unit without any comparator

    def rule_op(self) -> str:
        """The comparison a measured value must satisfy to pass."""
        if self.side == "a":
            return self.op
        return "<=" if self.op == ">" else "<"


class LimitProblem(ValueError):
    """A limit cannot be read (unknown unit, missing unit)."""


def _unit_or_none(text: str, m: re.Match, unit_group: str = "unit") -> tuple[str, int]:
    """The unit of a match, or '' when 'in' is really a preposition; returns (unit, end of unit)."""
    unit = m.group(unit_group) or ""
    end = m.end(unit_group) if unit else m.end("num")
    if unit.lower().rstrip(".") == "in":
        nxt = re.match(r"\s*([a-zA-Z]+)", text[end:])
        if nxt and nxt.group(1).lower() not in _IN_UNIT_FOLLOWERS:
            return "", m.end("num")
    return unit, end


def _check_unitless(text: str, value_text: str, end: int, type_words: set[str]) -> None:
    """A number without a unit is a count; reject '0.5' and '2 furlong'."""
    nxt = re.match(r"\s*([A-Za-z\u00b5\u03bc\"'°]+)", text[end:])
    word = nxt.group(1).lower() if nxt else ""
    if word in FOREIGN_UNITS or word in ("°",):
        raise LimitProblem(f"unknown unit {nxt.group(1)!r}")
    try:
        value = parse_number(value_text)
    except ValueError as exc:
        raise LimitProblem(f"{value_text!r} is not a number") from exc
    if word and word not in _NOT_UNITS and not is_known_form(word) and word not in type_words:
        after = re.match(r"\s*[A-Za-z\u00b5\u03bc\"'°]+\s+([A-Za-z-]+)", text[end:])
        rest = text[end:].lstrip()
        followed_by_type = (
            after is not None and (is_known_form(after.group(1)) or after.group(1).lower() in type_words)
        ) or any(s == 0 for s, _, _, _ in find_known_types(rest))
        if not followed_by_type and type_words:  # 'at most 2 whiskers' with no other type: the counted noun
            raise LimitProblem(f"unknown unit {nxt.group(1)!r}")
    if value != int(value):
        raise LimitProblem(f"limit {value_text.strip()!r} has no unit (write e.g. '{value_text.strip()} mm')")


_NEGATIVE_RE = re.compile(r"(?:^|(?<=[\s(:=<>≤≥]))[-−–]\s*(?=\d|[.,]\d)")
_NONFINITE_RE = re.compile(
    rf"(?<![\w])(?P<v>nan|inf(?:inity)?|∞)(?![\w])(?=\s*(?:{UNIT}|$|[.;,)]))|"
    r"(?:<=|≤|<|at\s+most|up\s+to|max(?:imum)?\.?|not\s+more\s+than|exceed(?:ing)?)\s*(?P<w>nan|inf(?:inity)?|∞)(?![\w])",
    re.IGNORECASE,
)
#: Limits beyond these are typing mistakes, not specs: 10 m, 100 m², a million defects.
MAX_LENGTH_MM = 10_000.0
MAX_AREA_MM2 = 1e8
MAX_COUNT = 1e6
_MAX_DIGITS = 12


def check_numbers(text: str) -> None:
    """Refuse negative, non-finite and absurdly long numbers in a segment (raises LimitProblem)."""
    for m in _NEGATIVE_RE.finditer(text):
        before = text[: m.start()].rstrip()
        if before and before[-1].isdigit():
            continue  # a range '0.1 - 0.5 mm'
        num = re.match(rf"{NUM}(?:\s*{UNIT}(?![a-z]))?", text[m.end() :], re.IGNORECASE)
        rule_word = re.search(r"(?:[:<≤=]|\b(?:most|to|max|maximum|than|exceed))\s*$", before, re.I)
        has_unit = num is not None and num.group(0) != re.match(NUM, num.group(0)).group(0)
        if not (rule_word or has_unit):
            continue  # '-20 °C' in an instruction
        shown = (m.group(0) + (num.group(0) if num else "")).strip()
        raise LimitProblem(f"negative limit {shown!r}: sizes and counts are never below zero")
    m = _NONFINITE_RE.search(text)
    if m:
        raise LimitProblem(f"{(m.group('v') or m.group('w'))!r} is not a number")
    for m in re.finditer(r"\d[\d.,]*", text):
        digits = sum(ch.isdigit() for ch in m.group(0))
        if digits > _MAX_DIGITS:
            raise LimitProblem(f"a {digits}-digit number is not a limit (check {m.group(0)[:16]}...)")


def check_magnitude(value: float, unit: str, written: str) -> None:
    """Refuse a converted limit no part can have (raises LimitProblem)."""
    top = {"mm": MAX_LENGTH_MM, "mm2": MAX_AREA_MM2, "count": MAX_COUNT}.get(unit)
    if top is not None and value > top:
        what = {"mm": "10 m", "mm2": "100 m²", "count": "a million"}[unit]
        raise LimitProblem(f"limit {written!r} is absurdly large (more than {what}); check the number")


def find_limits(text: str, type_words: set[str]) -> list[Limit]:
    """All limits in ``text`` (one rule segment), in order. Raises LimitProblem on bad units.

    ``type_words`` are lower-case words already known to name defects here, so that
    'at most 2 blisters' is a count of blisters, not 2 'blisters' units.
    """
    out: list[Limit] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    def make(m: re.Match, side: str, op: str, start: int, end: int, bare: bool = False) -> Limit | None:
        unit, uend = _unit_or_none(text, m)
        try:
            value = parse_number(m.group("num"))
        except ValueError as exc:
            raise LimitProblem(f"{m.group('num')!r} is not a number") from exc
        if unit:
            kind = unit_kind(unit)
            if kind is None:  # cannot happen: UNIT only matches known units
                raise LimitProblem(f"unknown unit {unit!r}")
            k, factor = kind
        else:
            if bare:
                return None
            _check_unitless(text, m.group("num"), m.end("num"), type_words)
            k, factor = "count", 1.0
        mw = ""
        am = _AFTER_MEASURE_RE.match(text[uend:])
        if am:
            mw = am.group(1)
            end = max(end, uend + am.end())
        else:
            inner = MEASURE_WORD_RE.search(text[start : m.start("num")])
            symbol = re.search(r"(?<![\w.])([dhlwb])\s*$", text[:start])  # ISO 5817: 'h ≤ 0.5 mm'
            if inner:
                mw = inner.group(0)
            elif symbol:
                mw = {"d": "diameter", "h": "depth", "l": "length", "w": "width", "b": "width"}[
                    symbol.group(1)
                ]
        return Limit(side, op, value, unit, k, factor, start, max(end, uend), m.start("num"), uend, mw, bare)

    for m in _PREFIX_RE.finditer(text):
        idx = next(i for i in range(len(_COMPARATORS)) if m.group(f"c{i}") is not None)
        _, side, op = _COMPARATORS[idx]
        lim = make(m, side, op, m.start(), m.end())
        if lim:
            out.append(lim)
            taken.append((lim.start, lim.end))
    for m in _POSTFIX_RE.finditer(text):
        if not free(m.start(), m.end()):
            continue
        side, op = ("a", "<=") if m.group("le") else ("f", ">=")
        lim = make(m, side, op, m.start(), m.end())
        if lim:
            out.append(lim)
            taken.append((lim.start, lim.end))
    for m in _COUNT_POSTFIX_RE.finditer(text):  # "2 pits max"
        words = m.group("words").lower()
        if not free(m.start(), m.end()) or not (is_known_form(words) or words in type_words):
            continue
        value = m.group("num")
        if re.fullmatch(r"\d+", value.strip()) or not value[0].isdigit():
            out.append(
                Limit(
                    "a",
                    "<=",
                    parse_number(value),
                    "",
                    "count",
                    1.0,
                    m.start(),
                    m.end(),
                    m.start("num"),
                    m.end("num"),
                )
            )
            taken.append((m.start(), m.end()))
    for m in _BARE_RE.finditer(text):
        if not free(m.start(), m.end()):
            continue
        lim = make(m, "?", "?", m.start(), m.end(), bare=True)
        if lim and lim.kind != "percent" and not re.search(r"\bper\s*$", text[: m.start()], re.I):
            out.append(lim)
            taken.append((lim.start, lim.end))
    out.sort(key=lambda lim: lim.start)
    return _resolve_bare(text, out)


def _resolve_bare(text: str, limits: list[Limit]) -> list[Limit]:
    """Give bare numbers ('... up to 0.5 mm long and 0.1 mm wide') a comparator.

    A bare number after another limit joined by 'and'/','/'or' takes that limit's
    comparator; a lone bare number counts as 'up to' when the segment permits
    ('Dents 0.8 mm allowed', 'Dents: 0.8 mm'); otherwise it stays unresolved (op '?').
    """
    out: list[Limit] = []
    for lim in limits:
        if not lim.bare:
            out.append(lim)
            continue
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.side != "?"
            and re.fullmatch(
                r"[\s,]*(?:and|or|,)?\s*(?:max(?:imum)?\.?)?\s*", text[prev.end : lim.start], re.I
            )
        ):
            out.append(_replace(lim, prev.side, prev.op))
        elif re.search(
            r"\b(?:allowed|permitted|acceptable|accepted|admissible|tolerated)\b", text, re.I
        ) or re.search(r":\s*$", text[: lim.start]):
            out.append(_replace(lim, "a", "<="))
        else:
            out.append(lim)
    return out


def _replace(lim: Limit, side: str, op: str) -> Limit:
    from dataclasses import replace

    return replace(lim, side=side, op=op)


def measure_words_between(text: str, a: int, b: int) -> str:
    """The last measure word in text[a:b] ('' when none): 'Scratch length shall not exceed'."""
    found = ""
    for m in MEASURE_WORD_RE.finditer(text, a, b):
        found = m.group(0)
    return found
