"""Splitting a clause into rule segments, and reading severity words.

"Scratches up to 1.0 mm allowed outside zone A, none in zone A" is two segments;
"No cracks, burrs or chips" is one (the list continues the rule). A piece after a
comma/'and'/'but' starts a new segment when it starts with a rule word ("none",
"at most", "no") or when both sides state a rule of their own. Sentence ends and
';' always split. Segments without a defect word inherit the previous one's.
"""

from __future__ import annotations

import re

from inspector.workorder.limits import LimitProblem, find_limits
from inspector.workorder.vocabulary import find_known_types, severity_word

_ABBREV = frozenset(
    "max min approx ca dia diam e.g i.e eg ie no nr sq in incl resp ref fig vs etc std rev approx. mm".split()
)
NEG_RE = re.compile(
    r"(?<![\w])(?:no(?![\w-])|not|none|never|zero|without|nothing|prohibited|forbidden|rejected|reject|rejection|"
    r"unacceptable|inadmissible|disallowed|ng|nok|rejectable|rejectible|nonconforming|scrap)(?![\w])|"
    r"\bfree\s+(?:of|from)\b|-free\b|\bcause\s+for\s+rejection\b",
    re.IGNORECASE,
)
PERMIT_RE = re.compile(
    r"\b(?:allowed|permitted|permissible|acceptable|accepted|admissible|tolerated|tolerable|ok|okay)\b",
    re.IGNORECASE,
)
_SOFT_RE = re.compile(r",\s+|\s+(?:and|but|while|whereas)\s+", re.IGNORECASE)
_HEAD_START = re.compile(
    r"^\s*(?:none\b|no\b|not\b|nothing\b|zero\b|at\s+most\b|max(?:imum)?\b|up\s+to\b|"
    r"(?:not|no)\s+more\b|less\s+than\b|fewer\s+than\b|≤|<=|<)",
    re.IGNORECASE,
)
_COND_START = re.compile(r"^\s*(?:if|unless|except|when|where|provided|as\s+long\s+as|only|measured)\b", re.I)

_SEV = r"(critical|major|minor|cosmetic)"
_SEV_PATTERNS = [
    re.compile(rf"^\s*[\[(]?\s*{_SEV}\s*[\])]?\s*[:\-–—]\s*", re.I),
    re.compile(rf"[\[(]\s*{_SEV}(?:\s+defects?)?\s*[\])]", re.I),
    re.compile(rf"\b(?:severity|class(?:ification)?|category)\s*[:=]?\s*{_SEV}\b", re.I),
    re.compile(rf"\s*[-–—:,]\s*{_SEV}(?:\s+defects?)?\s*[.!]?\s*$", re.I),
    re.compile(
        rf"\b(?:is|are|as|counts?\s+as|classed\s+as|classified\s+as)\s+(?:an?\s+)?{_SEV}(?:\s+defects?)?\b",
        re.I,
    ),
]
_SEV_WORD = re.compile(rf"\b{_SEV}\b", re.I)


def hard_pieces(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences / ';'-parts of a clause."""
    cuts = [0]
    for m in re.finditer(r";\s*|[.!?]\s+(?=[A-Z§(\d\"'])", text):
        if m.group(0).startswith(";"):
            cuts.append(m.end())
            continue
        before = re.search(r"([\w.]+)$", text[: m.start()])
        word = before.group(1).lower() if before else ""
        if word in _ABBREV or len(word) == 1:
            continue
        cuts.append(m.end())
    cuts.append(len(text))
    spans = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        if text[a:b].strip(" \t.;"):
            spans.append((a, b))
    return spans


def _has_head(piece: str) -> bool:
    try:
        if find_limits(piece, set()):
            return True
    except LimitProblem:
        return True
    return bool(NEG_RE.search(piece) or PERMIT_RE.search(piece))


def segments(text: str, start: int = 0) -> list[tuple[int, int]]:
    """Spans of the rule segments of ``text[start:]`` (positions in ``text``)."""
    out: list[tuple[int, int]] = []
    for a, b in hard_pieces(text[start:]):
        a, b = a + start, b + start
        seps = list(_SOFT_RE.finditer(text, a, b))
        bounds = [a] + [s.end() for s in seps]
        ends = [s.start() for s in seps] + [b]
        heads = [_has_head(text[x:y]) for x, y in zip(bounds, ends, strict=True)]
        cur_start = a
        left_head = heads[0]  # does the piece since the last split state a rule?
        for k, sep in enumerate(seps):
            right = text[bounds[k + 1] : ends[k + 1]]
            if _COND_START.match(right):
                continue
            if _HEAD_START.match(right) or (left_head and heads[k + 1] and _has_subject(right)):
                out.append((cur_start, sep.start()))
                cur_start = sep.end()
                left_head = heads[k + 1]
            else:
                left_head = left_head or heads[k + 1]
        out.append((cur_start, b))
    return [(a, b) for a, b in out if text[a:b].strip(" \t.;,")]


def _has_subject(piece: str) -> bool:
    """A piece that can stand alone: starts with a defect word or a limit ('0.1 mm wide' cannot)."""
    if find_known_types(piece):
        return True
    return not re.match(r"^\s*[\d.,]", piece)


def find_severity(text: str) -> tuple[str | None, list[tuple[int, int]]]:
    """Severity named in ``text`` and the spans that named it (to be ignored afterwards).

    Recognised: 'critical:' prefixes, '(major)', 'severity: minor', '... - critical',
    'is a critical defect', and a bare 'critical'/'major'/'minor' word unless it is an
    adjective of a defect word ('minor scratches' says nothing about severity).
    'cosmetic' means minor.
    """
    for rx in _SEV_PATTERNS:
        m = rx.search(text)
        if m:
            return severity_word(m.group(1)), [(m.start(), m.end())]
    starts = {s for s, _, _, _ in find_known_types(text)}
    for m in _SEV_WORD.finditer(text):
        nxt = re.match(r"\s+", text[m.end() :])
        after = m.end() + (nxt.end() if nxt else 0)
        if after in starts:
            continue  # adjective: "minor scratches"
        return severity_word(m.group(1)), [(m.start(), m.end())]
    return None, []


def clause_prefix_severity(text: str) -> tuple[str | None, int]:
    """A severity prefix of the whole clause ('Critical: ...'): (severity, where the rest starts)."""
    m = _SEV_PATTERNS[0].match(text)
    if m:
        return severity_word(m.group(1)), m.end()
    return None, 0
