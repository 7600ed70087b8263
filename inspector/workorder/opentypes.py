"""Defect nouns outside the known vocabulary: 'No blisters', 'Flash up to 0.2 mm'.

Only words in rule positions are taken (after 'no'/'free of'/a count, or as the subject
before a limit), so instructions like "Surface finish shall be uniform" add no type.
"""

from __future__ import annotations

import re

from inspector.workorder.limits import Limit
from inspector.workorder.vocabulary import canonical_type, measure_of_word

_DROP_LEADING = frozenset(
    "the a an any all visible minor major critical cosmetic small large isolated individual sharp fine deep "
    "shallow light heavy single such other further additional obvious noticeable surface".split()
)
_STOP = frozenset(
    """up to in on at of with and or per shall must may should will are is be not no larger longer bigger
    greater wider deeper smaller shorter less more than allowed permitted acceptable accepted over above under
    below exceeding exceed exceeds max maximum min minimum if unless except outside inside within anywhere
    everywhere by from for as that which where when there have has found present visible none allowed
    rejected prohibited forbidden unacceptable""".split()
)
_NOT_DEFECT = frozenset(
    """part parts piece pieces surface surfaces finish zone zones area areas edge edges face faces side sides
    length width diameter depth size sizes more less total image images section sections sample limit limits
    material inspection light lighting it they them this that these those other others each every one ones
    thing things way visual visually operator customer drawing note notes mm px part's kind kinds type types
    sort feature region regions location locations""".split()
)
_NP = r"([a-z][a-z-]*(?:\s+[a-z][a-z-]*){0,4})"


def _noun_phrase(words_text: str) -> str | None:
    words = words_text.lower().split()
    taken: list[str] = []
    for w in words:
        if w in _STOP:
            break
        taken.append(w)
    while taken and taken[0] in _DROP_LEADING:
        taken.pop(0)
    taken = taken[:3]
    if not taken or (len(taken) == 1 and taken[-1] in _NOT_DEFECT) or any(w in _STOP for w in taken):
        return None
    if measure_of_word(taken[-1]) or taken[-1] in ("surface", "surfaces", "part", "parts", "area", "areas"):
        return None
    return " ".join(taken)


def open_types(light: str, limits: list[Limit]) -> list[tuple[str, str]]:
    """Defect nouns the spec uses outside the known vocabulary ('No blisters', 'Flash up to 0.2 mm')."""
    low = light.lower()
    cands: list[tuple[int, str]] = []
    for m in re.finditer(r"(?:^|[\s(])(?:no|zero|any|without|free\s+of|free\s+from)\s+" + _NP, low):
        cands.append((m.start(1), m.group(1)))
    for m in re.finditer(r"\b(?:with|showing|having|containing)\s+" + _NP, low):
        cands.append((m.start(1), m.group(1)))
    for m in re.finditer(r"\b([a-z]+)-free\b", low):
        cands.append((m.start(1), m.group(1)))
    m = re.match(
        r"^\s*"
        + _NP
        + r"\s*(?=[:(]|\s(?:up|not|shall|must|may|are|is|max|maximum|larger|longer|bigger|greater|"
        r"wider|deeper|exceed|exceeding|of|over|above|in\s+excess|≤|<|>|[\d.])|\s*[≤<>\d])",
        low,
    )
    if m:
        cands.append((m.start(1), m.group(1)))
    for lim in limits:
        if lim.kind == "count":
            nm = re.match(r"\s*" + _NP, low[lim.end :])
            if nm:
                cands.append((lim.end + nm.start(1), nm.group(1)))
    out: list[tuple[str, str]] = []
    firsts = [(start, phrase) for start, phrase in sorted(cands) if _noun_phrase(phrase)]
    for start, phrase in firsts[:1]:  # the first noun, and those listed with it
        more = [phrase]
        np_ = _noun_phrase(phrase)
        tail = low[start + len(np_ or phrase) :] if np_ else ""
        while np_ and (m := re.match(r"\s*(?:,|\band\b|\bor\b|,\s*(?:and|or))\s+(?:no\s+)?" + _NP, tail)):
            more.append(m.group(1))
            nxt = _noun_phrase(m.group(1))
            if not nxt:
                break
            tail = tail[m.start(1) + len(nxt) :]
        for p in more:
            np_ = _noun_phrase(p)
            if np_:
                canon = "missing feature" if np_.startswith("missing ") else canonical_type(np_)
                if canon and canon not in [c for c, _ in out]:
                    out.append((canon, np_))
    return out
