"""Places named in prose ('on the mating face', 'outside the bore', 'class A surfaces').

A place is a zone a person knows by name. When the work order defines a zone by that name
or label, the place is that zone; otherwise it becomes a zone *to be drawn* (see
docs/workorders.md, "Undefined zones"). Phrases about the whole part ('on the part',
'on all surfaces') mean anywhere. 'at the chamfers' and 'on edges' (no article) say where a
defect sits, not where a rule applies: they are not zones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from inspector.workorder.terms import LAYERS, SITES
from inspector.workorder.vocabulary import find_known_types, singularize

_INSIDE = r"in|on|inside|within|along|onto|over\s+the\s+whole\s+of"
_OUTSIDE = (
    r"outside(?:\s+of)?|except(?:\s+(?:in|on|within|at|for))?|excluding|beyond|away\s+from|"
    r"other\s+than(?:\s+(?:in|on))?|not\s+(?:in|on|within)|apart\s+from"
)
#: Head nouns of phrases that are places on a part even without 'the' ('on sealing surfaces').
PLACE_NOUNS = frozenset(
    """face faces surface surfaces bore bores edge edges flange flanges thread threads area areas region
    regions side sides rim lip seat seats chamfer chamfers hole holes pad pads land lands line lines
    radius radii fillet fillets corner corners toe toes root roots border borders margin margins
    window windows aperture apertures diameter periphery perimeter centre center zone zones contact
    contacts finger fingers busbar busbars selvedge selvage selvedges conductor conductors trace traces track
    tracks cavity cavities flat flats spoke spokes rib ribs boss bosses journal journals shank collar collars
    socket sockets hub hubs tooth teeth tip tips latch latches barrel barrels bead beads cone cones skirt
    airfoil airfoils web webs seal seals gate gates lead leads joint joints""".split()
)
#: Nouns that name the whole part or its whole surface: the phrase means 'anywhere'.
WHOLE = frozenset(
    """part parts piece pieces component components surface surfaces product products item items board
    boards pcb pcbs pcba pcbas panel panels sheet sheets strip strips coil coils web fabric fabrics roll
    rolls glass lens lenses cell cells module modules casting castings moulding moulding molding moldings
    housing housings weld welds workpiece workpieces sample samples unit units wafer wafers article body
    bottle bottles container containers seam laminate laminates glass panes pane tube tubes
    articles assembly assemblies substrate laminate plate plates bracket brackets shaft shafts
    whole entire""".split()
)
_NOT_PLACE = frozenset(
    """limit limits drawing drawings customer operator light lighting image images camera cameras spec
    specification lot batch order following same above below table list sketch photo photos picture
    pictures view eye case event opinion presence absence direction total range sequence time field
    report certificate inspection inspector sampling plan standard norm agreement quality way manner
    form process line-scan scan shift batch""".split()
)
_STOP = (
    r"(?:shall|must|may|should|will|can|are|is|be|not|no|none|up|at|max|maximum|min|minimum|of|and|or|"
    r"but|if|unless|with|without|per|each|to|than|larger|longer|greater|bigger|wider|deeper|smaller|"
    r"less|more|allowed|permitted|acceptable|accepted|rejected|reject|exceeding|exceed|over|above|"
    r"under|below|only|where|when|which|that|for|from|by|as|after|before|during|is)"
)
_WORD = r"[A-Za-z][\w'-]*"
_NP = rf"(?P<np>(?:(?!{_STOP}\b){_WORD}\s+){{0,3}}(?!{_STOP}\b){_WORD})"
_PHRASE_RE = re.compile(
    rf"(?<![\w-])(?P<prep>{_OUTSIDE}|{_INSIDE})\s+(?P<det>the\s+|all\s+|any\s+|both\s+|its\s+)?{_NP}",
    re.IGNORECASE,
)
_CLASS_RE = re.compile(
    rf"(?:(?P<prep>{_OUTSIDE}|{_INSIDE})\s+(?:the\s+|all\s+)?)?(?:\bclass\s+(?P<c1>[A-D](?:\s*(?:,|and|or|&|/)\s*[A-D])*)"
    r"(?![\w-])(?:[- ](?:cosmetic\s+)?(?:surfaces?|areas?|faces?|sides?|zones?))?|(?<![\w-])(?P<c2>[A-D])[- ]"
    r"(?:surfaces?|faces?|sides?))",
    re.IGNORECASE,
)


def _table(text: str) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for line in text.strip().splitlines():
        kinds, _, sites = line.partition(":")
        for kind in kinds.split(","):
            out[kind.strip()] = tuple(s.strip() for s in sites.split(","))
    return out


_SITES = _table(SITES)
_LAYERS = frozenset(LAYERS.split())
_PREFIX_RE = re.compile(
    r"^\s*(?P<np>[A-Za-z][\w'-]*(?:\s+[A-Za-z][\w'-]*){0,3})\s*(?:\((?P<paren>[^)]{1,60})\))?\s*(?::|\s[-–—]\s)\s*(?=\S)"
)
_NOT_PREFIX = frozenset(
    """note notes remark remarks attention important comment comments zone zones class visual inspection
    criteria severity requirement requirements acceptance limit limits spec rule rules general all any each
    total size sizes count number quantity""".split()
)


def descriptive(name: str, types: tuple[str, ...]) -> bool:
    """True when a place phrase only says where such a defect sits by nature, or names a layer.

    'chips along the edges', 'flash at the parting line', 'pinholes in the coating' are no zones;
    'burrs on non-functional edges' is (a 'non-'/'un-' modifier sets those edges apart).
    """
    words = name.lower().split()
    if not words:
        return False
    if words[-1] in _LAYERS or words[0] in _LAYERS:  # 'in the chrome', 'in the anodic finish'
        return True
    if any(w.startswith(("non-", "un")) for w in words[:-1]) or not types:
        return False
    return all(any(name.lower().endswith(site) for site in _SITES.get(t, ())) for t in types)


def prefix_place(text: str) -> Place | None:
    """The place a clause opens with: 'Journals: no scratches', 'Piston bore: porosity not permitted',
    'Cladding: scratches ≤ 3 µm'. None when the opening names a defect, a zone or class, or a remark."""
    m = _PREFIX_RE.match(text)
    if not m:
        return None
    np_ = m.group("np")
    words = np_.lower().split()
    if words[0] in _NOT_PREFIX or words[-1] in _NOT_PLACE or find_known_types(np_):
        return None
    if re.search(r"\b(?:critical|major|minor|cosmetic)\b", np_, re.I):
        return None
    if m.group("paren") and re.search(r"\b(?:zone|class)\b", m.group("paren"), re.I):
        return None  # 'Core (zone A): ...': the zone reference names the place
    rest = text[m.end() :]
    if not find_known_types(rest) and (
        words[-1] not in PLACE_NOUNS or not re.search(r"\b(?:no|any)\s+[a-z]", rest, re.I)
    ):
        return (
            None  # 'Die soldering marks: treat as cosmetic', 'Needle lines: none': the opening is the defect
        )
    if all(w in WHOLE or w in ("entire", "whole", "outer", "visible") for w in words):
        return Place("anywhere", (), m.start("np"), m.end("np"))
    return Place("inside", (_name(np_),), m.start("np"), m.end("np"))


_SUBJECT_RE = re.compile(rf"^\s*the\s+{_NP}\s+(?:shall|must|should|is|are|has|have|may)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Place:
    """A place phrase in a clause: mode 'inside'/'outside'/'anywhere', the name(s) as read, the span."""

    mode: str
    names: tuple[str, ...]
    start: int
    end: int
    loose: bool = False  # where a defect sits, not a zone ('at the chamfers', 'on edges'): ignored


def _mode(prep: str | None) -> str:
    if prep and re.match(_OUTSIDE + r"\Z", " ".join(prep.lower().split())):
        return "outside"
    return "inside"


def _name(np_: str) -> str:
    words = np_.lower().split()
    words[-1] = singularize(words[-1])
    return " ".join(words)


def find_places(text: str, types: tuple[str, ...] = ()) -> list[Place]:
    """Place phrases of one rule segment, in order (zone references 'in zone A' are not places).

    ``types`` are the segment's defect kinds: a phrase naming where such a defect sits by nature
    ('chips along the edges') or a layer ('pinholes in the coating') is returned ``loose``.
    """
    out: list[Place] = []
    m = _SUBJECT_RE.match(text)  # 'The gasket face shall be free of ...'
    if m and m.group("np").lower().split()[-1] in PLACE_NOUNS and not find_known_types(m.group("np")):
        out.append(Place("inside", (_name(m.group("np")),), m.start("np") - 4, m.end("np")))
    for m in _CLASS_RE.finditer(text):
        letters = re.findall(r"(?<![A-Za-z])[A-Da-d](?![A-Za-z])", m.group("c1") or m.group("c2"))
        names = tuple(f"class {c.upper()}" for c in letters)
        out.append(Place(_mode(m.group("prep")), names, m.start(), m.end()))
    for m in _PHRASE_RE.finditer(text):
        if any(p.start < m.end() and m.start() < p.end for p in out):
            continue
        if re.search(r"\d\s*$", text[: m.start()]):
            continue  # '0.040 in diameter': 'in' is the unit
        np_ = m.group("np")
        words = np_.lower().split()
        if words[0] == "zone" or words[0] == "zones" or re.match(r"[\d.]", np_):
            continue
        if len(words) == 1 and words[0] in ("diameter", "length", "width", "depth", "height", "size", "area"):
            continue  # '150 µm in diameter': a measure, not a place
        if find_known_types(np_) and words[-1] not in PLACE_NOUNS:
            continue  # 'in scratches' is no place; 'on edge chips' neither
        head = words[-1]
        if head in _NOT_PLACE or words[0] in _NOT_PLACE or head == "visible":
            continue  # 'on the part visible at 1 m': no place named
        det = (m.group("det") or "").strip().lower()
        if head in WHOLE or (
            det in ("all", "any", "both") and head in ("surface", "surfaces", "area", "areas")
        ):
            if all(w in WHOLE or w in ("entire", "whole", "outer", "visible") for w in words) or (
                head not in PLACE_NOUNS and det in ("the", "its")
            ):  # 'in the sintered body', 'around the spot weld': the whole part
                out.append(Place("anywhere", (), m.start(), m.end()))
                continue
        if det not in ("the", "its") and head not in PLACE_NOUNS:
            continue
        loose = descriptive(_name(np_), types)
        out.append(Place(_mode(m.group("prep")), (_name(np_),), m.start(), m.end(), loose=loose))
    for m in re.finditer(rf"(?<![\w-])at\s+(?P<det>the\s+|its\s+)?{_NP}", text, re.IGNORECASE):
        if any(p.start < m.end() and m.start() < p.end for p in out) or find_known_types(m.group("np")):
            continue
        words = m.group("np").lower().split()
        if words[-1] in _NOT_PLACE or words[0] in _NOT_PLACE or re.search(r"\d\s*$", text[: m.start()]):
            continue
        if m.group("det") or words[-1] in PLACE_NOUNS:
            loose = descriptive(_name(m.group("np")), types) or not m.group("det") and not types
            out.append(Place("inside", (_name(m.group("np")),), m.start(), m.end(), loose=loose))
    return sorted(out, key=lambda p: p.start)
