"""The format-neutral shape every reader produces before the order is built."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from inspector.workorder.errors import WorkOrderError
from inspector.workorder.zones import ZoneDef

# canonical field -> accepted key spellings (normalised: lower case, '_'/'-' as spaces, no dots/#)
_KEYS: dict[str, tuple[str, ...]] = {
    "order": (
        "order",
        "order id",
        "order no",
        "order nr",
        "order number",
        "work order",
        "work order id",
        "work order no",
        "work order nr",
        "work order number",
        "workorder",
        "wo",
        "wo no",
        "wo number",
        "wo id",
        "job no",
        "job number",
    ),
    "part": (
        "part",
        "part number",
        "part no",
        "part nr",
        "part id",
        "pn",
        "p/n",
        "article",
        "article no",
        "item no",
    ),
    "lot": ("lot", "lot no", "lot nr", "lot number", "lot id", "batch", "batch no", "batch number"),
    "quantity": ("quantity", "qty", "order quantity", "lot size"),
    "pixel_size": (
        "pixel size",
        "pixel size mm",
        "pixelsize",
        "pixel pitch",
        "pixel scale",
        "image scale",
        "resolution",
        "calibration",
        "mm per pixel",
        "mm/px",
        "mm per px",
    ),
    "customer": ("customer", "client"),
    "revision": ("revision", "rev", "spec revision", "spec rev", "drawing revision"),
}
_ALIASES = {alias: canon for canon, aliases in _KEYS.items() for alias in aliases}


def normalise_key(key: str) -> str:
    k = (
        key.strip()
        .lower()
        .replace("_", " ")
        .replace("-", " ")
        .replace(".", "")
        .replace("#", "")
        .replace(":", "")
    )
    return " ".join(k.split())


def field_of_key(key: str) -> str | None:
    """Canonical field ('order', 'part', 'lot', 'quantity', 'pixel_size', 'customer', 'revision') or None."""
    k = normalise_key(key)
    if k in _ALIASES:
        return _ALIASES[k]
    k2 = re.sub(r"\s*\((?:mm|mm/px|mm per px)\)$", "", k)
    return _ALIASES.get(k2)


def known_keys() -> list[str]:
    return sorted(_ALIASES)


@dataclass
class ClauseItem:
    """One spec sentence/item as written, with where it came from."""

    text: str
    line: int | None
    number: str | None = None  # as written ('3', '2.1'); None = sequential
    severity: str | None = None
    zone: str | None = None
    zone_mode: str | None = None
    section: str = ""  # the place a heading above the item names ('Top side:')
    rejects: bool = False  # under a heading that lists rejected defects ('Critical defects:')


@dataclass
class RawOrder:
    fields: dict[str, tuple[str, int | None]] = field(default_factory=dict)  # field -> (value, line)
    header: dict[str, str] = field(default_factory=dict)
    zones: list[ZoneDef] = field(default_factory=list)
    items: list[ClauseItem] = field(default_factory=list)
    fmt: str = "text"
    problems: list[WorkOrderError] = field(
        default_factory=list
    )  # found while reading; reported with the rest
