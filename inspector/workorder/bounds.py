"""Bounds on structured (JSON/YAML) input: nesting depth, alias expansion, duplicate keys."""

from __future__ import annotations

from typing import Any

from inspector.workorder.errors import WorkOrderError

#: Bounds on structured input: nesting depth, number of nodes after YAML aliases are expanded,
#: and digits of a number (Python refuses to read very long integers, and no spec needs them).
MAX_DEPTH = 32
MAX_NODES = 20_000
MAX_DIGITS = 30


def check_depth(text: str, fmt: str) -> None:
    """Refuse flow nesting ('[[[[...' or '{{{{...') deeper than MAX_DEPTH before parsing it."""
    depth = top = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            top = max(top, depth)
            if top > MAX_DEPTH:
                raise WorkOrderError(
                    f"malformed {fmt.upper()}: nested too deeply (more than {MAX_DEPTH} levels)"
                )
        elif ch in "]}":
            depth = max(0, depth - 1)


def check_yaml_size(root: Any) -> None:
    """Refuse alias bombs and deep nesting: count nodes as they would be expanded (each shared node once)."""
    import yaml

    sizes: dict[int, int] = {}

    def size(node: Any, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise WorkOrderError(f"malformed YAML: nested too deeply (more than {MAX_DEPTH} levels)")
        key = id(node)
        if key in sizes:
            return sizes[key]
        sizes[key] = 1  # a node that contains itself counts once
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(v, depth + 1) for v in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k, depth + 1) + size(v, depth + 1) for k, v in node.value)
        if total > MAX_NODES:
            raise WorkOrderError(
                f"the YAML document expands to more than {MAX_NODES:,} values (aliases?); a work order is smaller"
            )
        sizes[key] = total
        return total

    size(root, 0)


def check_yaml_keys(node: Any) -> None:
    import yaml

    if isinstance(node, yaml.MappingNode):
        seen: set = set()
        for kn, vn in node.value:
            key = kn.value if isinstance(kn, yaml.ScalarNode) else id(kn)
            if key in seen:
                raise WorkOrderError(f"key {key!r} appears twice", line=kn.start_mark.line + 1)
            seen.add(key)
            check_yaml_keys(vn)
    elif isinstance(node, yaml.SequenceNode):
        for vn in node.value:
            check_yaml_keys(vn)
