"""JSON and YAML work orders, with source lines kept for error messages.

    {"order": "WO-3001", "part": "SP-7", "pixel_size_mm": 0.04,
     "zones": [{"name": "A", "x": [0, 20], "y": [0, 10], "unit": "mm"}],
     "spec": ["No cracks.", {"text": "Dents up to 0.8 mm", "severity": "minor", "zone": "A"}]}

Clause strings go through the same sentence parser as plain text, so every format
yields the same WorkOrder.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import json
import json.scanner
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from inspector.workorder.bounds import MAX_DIGITS, check_depth, check_yaml_keys, check_yaml_size
from inspector.workorder.errors import WorkOrderError
from inspector.workorder.raw import ClauseItem, RawOrder, field_of_key, known_keys, normalise_key
from inspector.workorder.text_format import split_spec_block
from inspector.workorder.vocabulary import SEVERITIES
from inspector.workorder.zones import zone_from_data

_SPEC_KEYS = ("spec", "specs", "specification", "clauses", "requirements", "rules", "inspection spec")
_ZONE_KEYS = ("zones",)
_CLAUSE_KEYS = {"text", "severity", "zone", "zone_mode", "id", "number"}
_EXTRA_KEYS = (
    "header",
    "description",
    "material",
    "drawing",
    "notes",
    "note",
    "image size",
    "station",
    "title",
)

# (path) -> line or None
Locate = Callable[[tuple], int | None]
# ---- JSON --------------------------------------------------------------------------------


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number a work order can use")


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise ValueError(f"a {len(text.lstrip('-'))}-digit number is too large")
    return int(text)


class _PosDecoder(json.JSONDecoder):
    """A JSON decoder that remembers where each string value starts (for error lines)."""

    def __init__(self, text: str) -> None:
        super().__init__(object_pairs_hook=self._pairs, parse_constant=_no_constant, parse_int=_int)
        self.text = text
        self.pos: dict[int, int] = {}
        self._keep: list[str] = []
        base = self.parse_string

        def parse_string(s: str, idx: int, strict: bool) -> tuple[str, int]:
            value, end = base(s, idx, strict)
            self.pos[id(value)] = idx
            self._keep.append(value)
            return value, end

        self.parse_string = parse_string
        self.scan_once = json.scanner.py_make_scanner(self)

    def _pairs(self, pairs: list[tuple[str, Any]]) -> dict:
        out: dict = {}
        for k, v in pairs:
            if k in out:
                raise WorkOrderError(f"key {k!r} appears twice in one object", line=self._key_line(k))
            out[k] = v
        return out

    def _key_line(self, key: str) -> int | None:
        hits = [m.start() for m in re.finditer(re.escape(json.dumps(key)) + r"\s*:", self.text)]
        return self.text.count("\n", 0, hits[-1]) + 1 if hits else None


def read_json(text: str) -> RawOrder:
    """Read a JSON work order. Raises WorkOrderError (malformed JSON reports its line)."""
    check_depth(text, "json")
    dec = _PosDecoder(text)
    try:
        data = dec.decode(text)
    except json.JSONDecodeError as exc:
        raise WorkOrderError(f"malformed JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from None
    except RecursionError:
        raise WorkOrderError("malformed JSON: nested too deeply") from None
    except WorkOrderError:
        raise
    except ValueError as exc:  # NaN, Infinity, a 5,000-digit number
        raise WorkOrderError(f"malformed JSON: {exc}") from None

    def line_of_value(value: Any) -> int | None:
        if isinstance(value, Mapping):
            value = value.get("text")
        p = dec.pos.get(id(value)) if isinstance(value, str) else None
        return None if p is None else text.count("\n", 0, p) + 1

    def locate(path: tuple) -> int | None:
        node: Any = data
        try:
            for k in path:
                node = node[k]
        except (KeyError, IndexError, TypeError):
            node = None
        line = line_of_value(node)
        if line is None and path:
            line = dec._key_line(str(path[0]) if len(path) == 1 else str(path[-1]))
        return line

    return from_data(data, locate, "json", one_line_strings=True)


# ---- YAML --------------------------------------------------------------------------------


def read_yaml(text: str) -> RawOrder:
    """Read a YAML work order. Raises WorkOrderError (malformed YAML reports its line)."""
    import yaml

    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise WorkOrderError(
            f"malformed YAML: character U+{exc.character:04X} is not allowed", line=line
        ) from None
    check_depth(text, "yaml")
    try:
        node = loader.get_single_node()
        if node is None:
            raise WorkOrderError("the YAML document is empty")
        check_yaml_size(node)
        check_yaml_keys(node)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "cannot parse"
        raise WorkOrderError(f"malformed YAML: {what}", line=mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise WorkOrderError(f"malformed YAML: {exc}") from None
    except RecursionError:
        raise WorkOrderError("malformed YAML: nested too deeply") from None
    except WorkOrderError:
        raise
    except (ValueError, OverflowError) as exc:  # a number Python will not convert
        raise WorkOrderError(f"malformed YAML: {str(exc).split(';')[0]}") from None
    finally:
        loader.dispose()

    def locate(path: tuple) -> int | None:
        n = node
        for k in path:
            if isinstance(n, yaml.MappingNode):
                n = next((v for kn, v in n.value if kn.value == k), None)
            elif isinstance(n, yaml.SequenceNode) and isinstance(k, int) and k < len(n.value):
                n = n.value[k]
            else:
                return None
            if n is None:
                return None
        if isinstance(n, yaml.MappingNode):  # a clause mapping: point at its text
            text_node = next((v for kn, v in n.value if kn.value == "text"), None)
            n = text_node or n
        line = n.start_mark.line + 1
        if isinstance(n, yaml.ScalarNode) and n.style in ("|", ">"):
            line += 1  # block scalar: content starts below the indicator
        return line

    return from_data(data, locate, "yaml", one_line_strings=False)


# ---- shared ------------------------------------------------------------------------------


def _scalar(value: Any, what: str, line: int | None) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        raise WorkOrderError(f"{what} must be text or a number, got {_show(value)}", line=line)
    if isinstance(value, float) and not math.isfinite(value):
        raise WorkOrderError(f"{what} must be a finite number, got {value!r}", line=line)
    if isinstance(value, int) and abs(value) >= 10**MAX_DIGITS:
        raise WorkOrderError(f"{what} is absurdly large ({len(str(abs(value)))} digits)", line=line)
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, float) and value == int(value) and what != "pixel size":
        return str(int(value))
    return str(value)


def _show(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{value} (a YAML/JSON boolean; put the text in quotes)"
    return type(value).__name__


def _suggest(key: str, candidates: list[str]) -> str:
    """A known key this one is probably a typo of ('pixle_size_mm'), or ''."""
    k = normalise_key(key)
    close = difflib.get_close_matches(k, candidates, n=1, cutoff=0.85)
    return close[0] if close and abs(len(close[0]) - len(k)) <= 2 else ""


def from_data(data: Any, locate: Locate, fmt: str, *, one_line_strings: bool) -> RawOrder:
    """Build the RawOrder from parsed JSON/YAML data. ``locate(path)`` gives a source line."""
    if not isinstance(data, Mapping):
        raise WorkOrderError(
            f"a {fmt.upper()} work order must be a mapping with keys order, part, spec, ...; got {_show(data)}",
            line=1,
        )
    raw = RawOrder(fmt=fmt)
    spec_value: Any = None
    spec_key = ""
    all_keys = known_keys() + list(_SPEC_KEYS) + list(_ZONE_KEYS) + list(_EXTRA_KEYS) + ["pixel size mm"]
    for key, value in data.items():
        try:
            skey = str(key)
            line = locate((key,))
            nkey = normalise_key(skey)
            fld = field_of_key(skey)
            if nkey in _SPEC_KEYS:
                if spec_value is not None:
                    raise WorkOrderError(f"two spec keys: {spec_key!r} and {skey!r}", line=line)
                spec_value, spec_key = value, key
            elif nkey in _ZONE_KEYS:
                _read_zones(raw, value, key, locate)
            elif fld is not None:
                if fld in raw.fields:
                    raise WorkOrderError(
                        f"{skey!r} repeats the {fld.replace('_', ' ')} given before", line=line
                    )
                if fld == "pixel_size" and isinstance(value, (int, float)) and not isinstance(value, bool):
                    value = f"{value!r} mm/px"
                raw.fields[fld] = (_scalar(value, fld.replace("_", " "), line), line)
                raw.header[skey] = raw.fields[fld][0]
            elif nkey == "header" and isinstance(value, Mapping):
                for hk, hv in value.items():
                    raw.header[str(hk)] = "" if hv is None else str(hv)
            else:
                near = _suggest(skey, [k for k in all_keys if k != nkey])
                if near and nkey not in _EXTRA_KEYS:
                    raise WorkOrderError(
                        f"unknown key {skey!r} (did you mean {near.replace(' ', '_')!r}?)", line=line
                    )
                raw.header[skey] = value if isinstance(value, str) else json.dumps(value, default=str)
        except WorkOrderError as err:
            raw.problems.append(err)
    if spec_value is None:
        return raw
    try:
        raw.items = _read_spec(spec_value, spec_key, locate, one_line_strings, raw.problems)
    except WorkOrderError as err:
        raw.problems.append(err)
    return raw


def _read_zones(raw: RawOrder, value: Any, key: Any, locate: Locate) -> None:
    if isinstance(value, Mapping):
        for name, item in value.items():
            line = locate((key, name))
            raw.zones.append(zone_from_data(item, key_name=str(name), line=line))
            raw.header[f"Zone {name}"] = item if isinstance(item, str) else json.dumps(item, default=str)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            line = locate((key, i))
            zd = zone_from_data(item, line=line)
            raw.zones.append(zd)
            raw.header[f"Zone {zd.zone.name}"] = (
                item if isinstance(item, str) else json.dumps(item, default=str)
            )
    elif value is not None:
        raise WorkOrderError(f"'zones' must be a list or a mapping, got {_show(value)}", line=locate((key,)))


def _read_spec(
    value: Any, key: Any, locate: Locate, one_line: bool, problems: list[WorkOrderError]
) -> list[ClauseItem]:
    if isinstance(value, str):
        return split_spec_block(value, locate((key,)), one_line=one_line)
    if not isinstance(value, list):
        raise WorkOrderError(
            f"'{key}' must be a list of clauses or a text, got {_show(value)}", line=locate((key,))
        )
    items: list[ClauseItem] = []
    for i, entry in enumerate(value):
        try:
            items.extend(_read_item(i, entry, locate((key, i))))
        except WorkOrderError as err:
            problems.append(err)
    return items


def _read_item(i: int, entry: Any, line: int | None) -> list[ClauseItem]:
    """One entry of a spec list: a sentence (or a block of them) or a clause mapping."""
    if isinstance(entry, str):
        return split_spec_block(entry, line, one_line=True)
    if not isinstance(entry, Mapping):
        raise WorkOrderError(f"spec item {i + 1} is not text: got {_show(entry)}", line=line)
    unknown = set(map(str, entry)) - _CLAUSE_KEYS
    if len(entry) == 1 and unknown and _is_sentence_value(next(iter(entry.values()))):
        # '- Roll marks: not permitted.' in YAML is a one-key mapping: the sentence its writer meant
        key, value = next(iter(entry.items()))
        return split_spec_block(f"{key}: {'' if value is None else value}".rstrip(": "), line, one_line=True)
    if unknown:
        raise WorkOrderError(
            f"spec item {i + 1}: unknown key(s) {sorted(unknown)} (allowed: {sorted(_CLAUSE_KEYS)})",
            line=line,
        )
    text = entry.get("text")
    if not isinstance(text, str) or not text.strip():
        raise WorkOrderError(f"spec item {i + 1} has no 'text'", line=line)
    sub = split_spec_block(text, line, one_line=True)
    if len(sub) != 1:
        raise WorkOrderError(f"spec item {i + 1}: one clause per item (found {len(sub)})", line=line)
    item = sub[0]
    sev = entry.get("severity")
    if sev is not None and str(sev).lower() not in SEVERITIES:
        raise WorkOrderError(
            f"spec item {i + 1}: severity {sev!r} is not one of {', '.join(SEVERITIES)}", line=line
        )
    zmode = entry.get("zone_mode")
    if zmode is not None and str(zmode) not in ("inside", "outside"):
        raise WorkOrderError(f"spec item {i + 1}: zone_mode must be 'inside' or 'outside'", line=line)
    if zmode is not None and entry.get("zone") is None:
        raise WorkOrderError(f"spec item {i + 1}: zone_mode without a zone", line=line)
    number = entry.get("number", entry.get("id"))
    if number is not None:
        m = re.fullmatch(r"§?\s*(\d+(?:\.\d+)*)", str(number).strip())
        if not m or isinstance(number, bool):
            raise WorkOrderError(
                f"spec item {i + 1}: id {number!r} is not a clause number like 3 or '§3'", line=line
            )
        item.number = m.group(1)
    item.severity = str(sev).lower() if sev is not None else None
    item.zone = None if entry.get("zone") is None else _scalar(entry.get("zone"), "zone", line)
    item.zone_mode = None if zmode is None else str(zmode)
    return [item]


def _is_sentence_value(value: Any) -> bool:
    """The value of a YAML 'Sentence: rest' item: text, a number or nothing (not a nested structure)."""
    return value is None or isinstance(value, (str, int, float)) and not isinstance(value, bool)
