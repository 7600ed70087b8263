"""Reading a work order from a file or a string: decoding, format detection, error naming."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from inspector.domain import WorkOrder
from inspector.workorder.build import build_work_order
from inspector.workorder.errors import WorkOrderError
from inspector.workorder.structured import read_json, read_yaml
from inspector.workorder.text_format import read_text

#: Work orders larger than this are refused (a spec is a page, not a megabyte).
MAX_BYTES = 2_000_000
#: Lines longer than this are refused (a sentence is a line; a minified JSON order fits easily).
MAX_LINE_CHARS = 20_000
_EXT_FORMAT = {
    ".txt": "text",
    ".wo": "text",
    ".text": "text",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
}
_FMT_ALIASES = {
    "auto": "auto",
    "text": "text",
    "txt": "text",
    "wo": "text",
    "json": "json",
    "yaml": "yaml",
    "yml": "yaml",
}
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def decode_bytes(data: bytes, source: str = "<text>") -> str:
    """Bytes of a work-order file -> text (UTF-8, UTF-16 with BOM, or Windows-1252).

    Raises WorkOrderError for binary data (NUL bytes) and undecodable bytes.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise WorkOrderError("not valid UTF-16 text", source=source) from None
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise WorkOrderError("binary data (NUL byte): not a text work order", line=line, source=source)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")  # Windows-made files: 'µm' is byte 0xB5 there
    except UnicodeDecodeError as exc:
        bad = exc.start  # undecodable as UTF-8 and as Windows-1252
        line = data[:bad].count(b"\n") + 1
        raise WorkOrderError(
            f"undecodable byte 0x{data[bad]:02x}: save the work order as UTF-8 text", line=line, source=source
        ) from None


def sniff_format(text: str) -> str:
    """'json', 'yaml' or 'text' for a work order whose file name says nothing."""
    s = text.lstrip("\ufeff \t\r\n")
    if s.startswith(("{", "[")):
        return "json"
    if s.startswith(("---", "%YAML")):
        return "yaml"
    if re.search(
        r"^(?:spec|clauses|requirements|zones)\s*:\s*(?:[|>\[{].*)?$", s, re.MULTILINE | re.IGNORECASE
    ):
        import yaml

        try:
            data = yaml.safe_load(s)
        except (yaml.YAMLError, RecursionError):
            return "text"
        if isinstance(data, dict) and any(
            str(k).lower() in ("spec", "clauses", "requirements") for k in data
        ):
            return "yaml"
    return "text"


def parse_work_order(text: str | bytes, fmt: str = "auto", source_name: str = "<text>") -> WorkOrder:
    """Parse a work order given as text.

    Args:
        text: the document (bytes are decoded like a file).
        fmt: 'text', 'json', 'yaml' or 'auto' (sniffed from the content).
        source_name: how errors name the document, e.g. the file name.

    Returns:
        The WorkOrder with one SpecClause per rule (see docs/workorders.md).

    Raises:
        WorkOrderError: empty or binary input, malformed JSON/YAML, no order id, bad
            quantity or pixel size, unknown units, undefined zones, contradictory limits.
            ``err.line`` is the 1-based line of the problem when there is one.
    """
    if isinstance(text, (bytes, bytearray)):
        text = decode_bytes(bytes(text), source_name)
    if not isinstance(text, str):
        raise TypeError(f"parse_work_order needs str or bytes, got {type(text).__name__}")
    text = text.lstrip("\ufeff")
    kind = _FMT_ALIASES.get(str(fmt).lower())
    try:
        if kind is None:
            raise WorkOrderError(f"unknown format {fmt!r} (use text, json, yaml or auto)")
        if not text.strip():
            raise WorkOrderError("the work order is empty")
        bad = _CONTROL_RE.search(text)
        if bad:
            line = text.count("\n", 0, bad.start()) + 1
            raise WorkOrderError(
                f"control character U+{ord(bad.group()):04X}: binary data, not a text work order", line=line
            )
        if len(text) > MAX_BYTES:
            raise WorkOrderError(f"the work order is {len(text):,} characters; at most {MAX_BYTES:,}")
        if kind == "auto":
            kind = sniff_format(text)
        for lineno, line_text in enumerate(text.split("\n") if kind == "text" else (), 1):
            if len(line_text) > MAX_LINE_CHARS:
                raise WorkOrderError(
                    f"line is {len(line_text):,} characters long; at most {MAX_LINE_CHARS:,}",
                    line=lineno,
                )
        if kind == "json":
            raw = read_json(text)
        elif kind == "yaml":
            raw = read_yaml(text)
        else:
            raw = read_text(text)
        return build_work_order(raw, text)
    except WorkOrderError as exc:
        raise exc.with_source(source_name) from None


def load_work_order(path: str | Path) -> WorkOrder:
    """Load a work order file: .txt/.wo (plain text), .json, .yaml/.yml; other names are sniffed.

    Raises:
        WorkOrderError: the file cannot be read or is not a valid work order; the
            message names the file and line, e.g. "WO-1234.txt line 7: unknown unit ...".
    """
    p = Path(path)
    try:
        st = p.stat()
        if not stat.S_ISREG(st.st_mode):  # a FIFO or /dev/zero would block or never end
            raise WorkOrderError(
                "not a regular file (a pipe, device or folder): save the work order as a file", source=p.name
            )
        if st.st_size > MAX_BYTES:
            raise WorkOrderError(
                f"file is {st.st_size:,} bytes; a work order must be under {MAX_BYTES:,}", source=p.name
            )
        with p.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)  # the file may grow between stat and read
        if len(data) > MAX_BYTES:
            raise WorkOrderError(
                f"file is over {MAX_BYTES:,} bytes; a work order must be under that", source=p.name
            )
    except OSError as exc:
        raise WorkOrderError(f"cannot read the file: {exc.strerror or exc}", source=p.name) from None
    text = decode_bytes(data, p.name)
    return parse_work_order(text, _EXT_FORMAT.get(p.suffix.lower(), "auto"), source_name=p.name)
