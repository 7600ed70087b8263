"""Defect words: canonical types, synonyms, plurals, measures and severities.

The vocabulary is open: a known word is mapped to its canonical type (``"pits"`` ->
``"pitting"``), and any other noun a spec uses as a defect ("No blisters") becomes a
type of its own, singularised (``"blister"``). Generic words ("defects", "flaws")
map to :data:`GENERIC_TYPE`, which the judge applies to findings of every type.
"""

from __future__ import annotations

import re

from inspector.workorder.terms import GENERIC, NOT_DEFECTS, TERMS

#: Canonical type of generic words ("defects", "flaws", "imperfections"): matches every finding.
GENERIC_TYPE = "defect"


def pluralize(word: str) -> str:
    """English plural of a lower-case noun: 'porosity' -> 'porosities', 'scratch' -> 'scratches'."""
    if word.endswith("y") and len(word) > 2 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "sh", "ch", "x", "z")):
        return word + "es"
    return word + "s"


def _spellings(phrase: str) -> set[str]:
    """'pin-hole' -> pin-hole, pin hole, pinhole; 'tool mark' -> tool mark, tool-mark (and no-space forms)."""
    out = {phrase}
    if "-" in phrase or " " in phrase:
        words = phrase.replace("-", " ").split()
        out |= {" ".join(words), "-".join(words)}
        if len(words) == 2 and len(words[0]) <= 6:
            out.add("".join(words))
    return out


def _forms(phrase: str) -> set[str]:
    """Every written form of a vocabulary entry: spellings x singular/plural (last word)."""
    if phrase.startswith("="):
        return {phrase[1:]}
    out: set[str] = set()
    for sp in _spellings(phrase):
        out.add(sp)
        head, sep, last = sp.rpartition(" ")
        if not last.endswith(("ed", "ing", "ous", "y")) or last.endswith(("ity", "ery")):
            out.add(head + sep + pluralize(last))
    return out


_FORMS: dict[str, str] = {}  # written form -> canonical type
_ROUND: set[str] = set()
_DEEP: set[str] = set()
for _line in TERMS.replace("\\\n", " ").strip().splitlines():
    _head, _, _rest = _line.partition(":")
    _canon = _head.split("(")[0].strip()
    _tags = _head[len(_canon) :]
    if "round" in _tags:
        _ROUND.add(_canon)
    if "depth" in _tags:
        _DEEP.add(_canon)
    _entries = [w.strip().lower() for w in _rest.split(",") if w.strip()]
    if "listed" not in _tags:
        _entries.insert(0, _canon)
    for _entry in _entries:
        for _f in _forms(_entry):
            _FORMS.setdefault(_f, _canon)
for _entry in GENERIC.split(","):
    for _f in _forms(_entry.strip()):
        _FORMS.setdefault(_f, GENERIC_TYPE)

# Longest forms first so "hairline cracks" wins over "cracks" and "pitted surface" over "pitted".
_FORM_RE = re.compile(
    r"(?<![\w-])(" + "|".join(re.escape(f) for f in sorted(_FORMS, key=len, reverse=True)) + r")(?![\w-])",
    re.IGNORECASE,
)
#: Types whose size is a diameter when the spec names no measure; the rest default to length.
ROUND_TYPES = frozenset(_ROUND)
#: Types whose size is a depth when the spec names no measure (undercut, underfill: ISO 5817 'h').
DEPTH_TYPES = frozenset(_DEEP)

MEASURES = ("length", "width", "area", "diameter", "depth", "count")

# measure word -> measure; used right after a number ("0.5 mm long") or before a comparator.
_MEASURE_WORDS = {
    "long": "length",
    "length": "length",
    "longer": "length",
    "lengths": "length",
    "wide": "width",
    "width": "width",
    "wider": "width",
    "broad": "width",
    "diameter": "diameter",
    "dia": "diameter",
    "dia.": "diameter",
    "ø": "diameter",
    "⌀": "diameter",
    "across": "diameter",
    "diam": "diameter",
    "diam.": "diameter",
    "deep": "depth",
    "depth": "depth",
    "high": "depth",  # a burr's height: not measurable from a top view, like a depth
    "height": "depth",
    "deeper": "depth",
    "shallower": "depth",
    "shorter": "length",
    "narrower": "width",
    "area": "area",
    "areas": "area",
    "size": "",  # "size" says nothing about which measure: type default
}
MEASURE_WORD_RE = re.compile(
    r"(?<![\w])(long|lengths?|longer|shorter|wide|width|wider|narrower|broad|diameter|diam\.?|dia\.?|across|deep|depth|deeper|"
    r"shallower|high|height|"
    r"areas?|size)(?![\w])|[ø⌀]",
    re.IGNORECASE,
)

SEVERITIES = ("critical", "major", "minor")
_SEVERITY_ALIASES = {"critical": "critical", "major": "major", "minor": "minor", "cosmetic": "minor"}


def measure_of_word(word: str) -> str:
    """The measure a word names ('long' -> 'length'); '' for 'size' (type default)."""
    return _MEASURE_WORDS.get(word.lower(), "")


def default_measure(defect_type: str) -> str:
    """The measure a size limit refers to when the spec names none: diameter or length."""
    if defect_type in DEPTH_TYPES:
        return "depth"
    return "diameter" if defect_type in ROUND_TYPES else "length"


def severity_word(word: str) -> str | None:
    """'critical'/'major'/'minor' (and 'cosmetic' -> 'minor') or None."""
    return _SEVERITY_ALIASES.get(word.lower())


_IRREGULAR = {"teeth": "tooth", "radii": "radius", "feet": "foot", "halves": "half", "knives": "knife"}


def singularize(word: str) -> str:
    """English singular of a lower-case noun (enough for defect names)."""
    w = word.lower()
    if w in _IRREGULAR:
        return _IRREGULAR[w]
    if len(w) <= 3 or w.endswith(("ss", "us", "is", "sis")):
        return w
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("ches", "shes", "sses", "xes", "zes")):
        return w[:-2]
    if w.endswith("s"):
        return w[:-1]
    return w


def canonical_type(word: str) -> str:
    """Canonical defect type of a word or phrase: 'Scratches' -> 'scratch', 'pits' -> 'pitting'.

    Unknown words are lower-cased and singularised on their last word
    ('tool marks' -> 'tool mark', 'blisters' -> 'blister'); generic words
    ('defects', 'flaws') give :data:`GENERIC_TYPE`. Empty input gives ''.
    """
    w = " ".join(word.strip().lower().replace("_", " ").split())
    if not w:
        return ""
    if w in _FORMS:
        return _FORMS[w]
    parts = w.split(" ")
    parts[-1] = singularize(parts[-1])
    joined = " ".join(parts)
    return _FORMS.get(joined, joined)


def find_known_types(text: str) -> list[tuple[int, int, str, str]]:
    """Known defect words in ``text``: (start, end, canonical type, word as written), in order."""
    out = []
    blocked = [(m.start(), m.end()) for m in _NOT_DEFECT_RE.finditer(text)]
    for m in _FORM_RE.finditer(text):
        if any(a < m.end() and m.start() < b for a, b in blocked):
            continue  # 'the spot weld': a place, not a spot
        out.append((m.start(), m.end(), _FORMS[m.group(1).lower()], m.group(1)))
    return out


_NOT_DEFECT_RE = re.compile(
    r"(?<![\w-])(?:" + "|".join(re.escape(w.strip()) for w in NOT_DEFECTS.split(",")) + r")(?![\w-])", re.I
)


def is_known_form(word: str) -> bool:
    """True when ``word`` (any case) is a known defect word or a generic one."""
    return " ".join(word.lower().split()) in _FORMS
