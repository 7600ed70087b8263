"""CSV / XLSX / JSON exports of inspections, findings, reviews (and clause checks), with pandas.

Column names, types and units are fixed in :mod:`inspector.reports.tables` and documented in
docs/exports.md. The store is read once, oldest first, in chunks; rows are written as they come
(CSV and XLSX) or spooled per table to a temp folder (JSON, zip), so memory does not grow with
the number of parts. :func:`read_export` reads any export back into typed DataFrames.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import time
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from inspector.domain import utcnow

from .errors import ExportError
from .source import Progress, ReportSource, as_utc, iter_with_reviews
from .tables import COLUMNS, DEFAULT_TABLES, TABLES, rows_for

SCHEMA = "inspector.export/1"
FORMATS = ("csv", "xlsx", "json")
FLUSH_ROWS = 500
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit less the header row
XLSX_MAX_CELL = 32_767
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class ExportInfo:
    """What an export wrote: the files, rows per table, and notes (e.g. cells altered for Excel)."""

    format: str
    paths: tuple[str, ...]
    rows: dict[str, int]
    notes: tuple[str, ...] = ()
    seconds: float = 0.0


def csv_paths(out_path: str, tables: Sequence[str]) -> dict[str, str]:
    """Where the CSV export of ``out_path`` puts each table: ``<stem>_<table>.csv`` beside it."""
    base, ext = os.path.splitext(out_path)
    if ext.lower() != ".csv":
        base = out_path
    return {t: f"{base}_{t}.csv" for t in tables}


def _to_text(v: Any, type_: str) -> Any:
    """Value as written to CSV/JSON: datetimes ISO 8601 UTC, bools true/false, None stays None."""
    if v is None:
        return None
    if type_ == "datetime":
        return v.astimezone(UTC).isoformat()
    if type_ == "bool":
        return "true" if v else "false"
    return v


class _CsvSink:
    def __init__(self, paths: dict[str, str]) -> None:
        self.paths = paths
        self._started: set[str] = set()
        for p in paths.values():
            open(p, "w").close()

    def write(self, table: str, rows: list[dict]) -> None:
        import pandas as pd

        cols = COLUMNS[table]
        data = [{c.name: _to_text(r[c.name], c.type) for c in cols} for r in rows]
        df = pd.DataFrame.from_records(data, columns=[c.name for c in cols])
        first = table not in self._started
        with open(self.paths[table], "a", encoding="utf-8-sig" if first else "utf-8", newline="") as fh:
            df.to_csv(fh, index=False, header=first, lineterminator="\n")
        self._started.add(table)

    def close(self) -> None:
        for t in self.paths:
            if t not in self._started:
                self.write(t, [])


class _JsonlSpool:
    def __init__(self, tmpdir: str, tables: Sequence[str]) -> None:
        self.paths = {t: os.path.join(tmpdir, f"{t}.jsonl") for t in tables}
        self._fh = {t: open(p, "w", encoding="utf-8") for t, p in self.paths.items()}

    def write(self, table: str, rows: list[dict]) -> None:
        cols = COLUMNS[table]
        fh = self._fh[table]
        for r in rows:
            row = {c.name: _json_value(r[c.name], c.type) for c in cols}
            fh.write(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n")

    def close(self) -> None:
        for fh in self._fh.values():
            fh.close()


def _json_value(v: Any, type_: str) -> Any:
    """Value as written to JSON: datetimes ISO 8601 UTC strings, NaN/inf as null."""
    if v is None:
        return None
    if type_ == "datetime":
        return v.astimezone(UTC).isoformat()
    if type_ == "bool":
        return bool(v)
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


class _XlsxSink:
    def __init__(self, path: str, tables: Sequence[str]) -> None:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        self.path = path
        self._cell, self._bold = WriteOnlyCell, Font(bold=True)
        self.wb = Workbook(write_only=True)
        self.ws = {}
        self.altered = 0
        self.count = dict.fromkeys(tables, 0)
        for t in tables:
            ws = self.wb.create_sheet(t)
            ws.append([self._header(ws, c.name) for c in COLUMNS[t]])
            self.ws[t] = ws

    def _header(self, ws, name: str):
        c = self._cell(ws, value=name)
        c.font = self._bold
        return c

    def _value(self, ws, v: Any, type_: str):
        if v is None:
            return None
        if type_ == "datetime":
            c = self._cell(ws, value=v.astimezone(UTC).replace(tzinfo=None))
            c.number_format = "yyyy-mm-dd hh:mm:ss.000"
            return c
        if isinstance(v, str):
            s = _XLSX_ILLEGAL.sub("", v)
            if len(s) > XLSX_MAX_CELL:
                s = s[: XLSX_MAX_CELL - 1] + "\u2026"
            self.altered += s != v
            c = self._cell(ws, value=s)
            c.data_type = "s"  # a comment like "=HYPERLINK(...)" stays text, never a formula
            return c
        return v

    def write(self, table: str, rows: list[dict]) -> None:
        self.count[table] += len(rows)
        if self.count[table] > XLSX_MAX_ROWS:
            raise ExportError(f"table {table!r} has more than {XLSX_MAX_ROWS} rows, Excel's limit; "
                              "export as csv or json, or narrow the selection (--lot, --since/--until)")
        ws = self.ws[table]
        cols = COLUMNS[table]
        for r in rows:
            ws.append([self._value(ws, r[c.name], c.type) for c in cols])

    def close(self) -> None:
        self.wb.save(self.path)


def _validate(fmt: str, tables: Iterable[str]) -> tuple[str, tuple[str, ...]]:
    fmt = str(fmt).lower()
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    tables = tuple(tables)
    bad = [t for t in tables if t not in TABLES]
    if bad or not tables:
        raise ExportError(f"unknown table(s) {bad or '(none given)'}; choose from {', '.join(TABLES)}")
    return fmt, tuple(dict.fromkeys(tables))


def export(
    store: ReportSource,
    out_path: str | os.PathLike[str],
    fmt: str,
    *,
    order_id: str | None = None,
    lot: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    tables: Sequence[str] = DEFAULT_TABLES,
    progress: Progress | None = None,
) -> ExportInfo:
    """Export inspections (oldest first) and their findings/reviews/checks.

    Args:
        fmt: "csv" - one file per table, ``<stem>_<table>.csv`` (UTF-8 with BOM), or one zip of
            ``<table>.csv`` files when ``out_path`` ends in ``.zip``; "xlsx" - one sheet per
            table; "json" - one document ``{"schema", "exported_at", "filters", "columns",
            "<table>": [row, ...]}``.
        order_id, lot: filters (None = all); ``since <= inspected_at < until`` (UTC).
        tables: any of "inspections", "findings", "reviews", "checks".

    Raises :class:`ExportError` for an unknown format/table, a missing output folder or a
    table too large for Excel.
    """
    t0 = time.perf_counter()
    fmt, tables = _validate(fmt, tables)
    since, until = as_utc(since, "since"), as_utc(until, "until")
    out = os.fspath(out_path)
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise ExportError(f"output folder {folder!r} does not exist")
    zipped = fmt == "csv" and out.lower().endswith(".zip")
    filters = {"order_id": order_id, "lot": lot, "since": since.isoformat() if since else None,
               "until": until.isoformat() if until else None}
    counts = dict.fromkeys(tables, 0)
    with tempfile.TemporaryDirectory(prefix="inspector-export-", dir=folder) as tmp:
        if fmt == "xlsx":
            sink: Any = _XlsxSink(os.path.join(tmp, "out.xlsx"), tables)
        elif fmt == "json":
            sink = _JsonlSpool(tmp, tables)
        else:
            sink = _CsvSink({t: os.path.join(tmp, f"{t}.csv") for t in tables})
        buf: dict[str, list[dict]] = {t: [] for t in tables}
        n = 0
        try:
            for insp, reviews in iter_with_reviews(store, order_id=order_id, lot=lot, since=since, until=until):
                for t in tables:
                    buf[t].extend(rows_for(t, insp, reviews))
                    if len(buf[t]) >= FLUSH_ROWS:
                        sink.write(t, buf[t])
                        counts[t] += len(buf[t])
                        buf[t] = []
                n += 1
                if progress is not None and n % 100 == 0:
                    progress(n, 0, f"exported {n} inspections")
            for t in tables:
                sink.write(t, buf[t])
                counts[t] += len(buf[t])
        finally:
            sink.close()
        notes: list[str] = []
        if fmt == "xlsx" and sink.altered:
            notes.append(f"{sink.altered} text cell(s) had control characters removed or were cut to "
                         f"{XLSX_MAX_CELL} characters (Excel limits); the csv/json exports keep them whole")
        paths = _finish(fmt, out, tmp, tables, zipped, filters)
    return ExportInfo(fmt, tuple(paths), counts, tuple(notes), time.perf_counter() - t0)


def _finish(fmt: str, out: str, tmp: str, tables: Sequence[str], zipped: bool, filters: dict) -> list[str]:
    if fmt == "xlsx":
        os.replace(os.path.join(tmp, "out.xlsx"), out)
        return [out]
    if fmt == "json":
        part = os.path.join(tmp, "out.json")
        with open(part, "w", encoding="utf-8") as fh:
            head = {"schema": SCHEMA, "exported_at": utcnow().isoformat(), "filters": filters,
                    "columns": {t: [c.name for c in COLUMNS[t]] for t in tables}}
            fh.write(json.dumps(head, ensure_ascii=False, indent=1)[:-2] + ",\n")
            for k, t in enumerate(tables):
                fh.write(f' "{t}": [\n')
                with open(os.path.join(tmp, f"{t}.jsonl"), encoding="utf-8") as src:
                    first = True
                    for line in src:
                        fh.write(("" if first else ",\n") + "  " + line.rstrip("\n"))
                        first = False
                fh.write("\n ]" + ("," if k < len(tables) - 1 else "") + "\n")
            fh.write("}\n")
        os.replace(part, out)
        return [out]
    if zipped:
        part = os.path.join(tmp, "out.zip")
        with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for t in tables:
                zf.write(os.path.join(tmp, f"{t}.csv"), f"{t}.csv")
        os.replace(part, out)
        return [out]
    final = csv_paths(out, tables)
    for t in tables:
        os.replace(os.path.join(tmp, f"{t}.csv"), final[t])
    return [final[t] for t in tables]


def _typed(df, table: str):
    """Give a read-back frame the documented dtypes (strings '' for empty, UTC datetimes, ...)."""
    import pandas as pd

    cols = COLUMNS[table]
    missing = [c.name for c in cols if c.name not in df.columns]
    if missing:
        raise ExportError(f"table {table!r} lacks column(s) {missing}: not an Inspector export of this version")
    out = pd.DataFrame(index=df.index)
    for c in cols:
        s = df[c.name]
        if c.type in ("string", "json"):
            out[c.name] = s.astype(object).where(s.notna(), "").astype(str)
        elif c.type == "int":
            out[c.name] = pd.to_numeric(s.replace("", None), errors="raise").astype("Int64")
        elif c.type == "float":
            out[c.name] = pd.to_numeric(s.replace("", None), errors="raise").astype("float64")
        elif c.type == "bool":
            m = {"true": True, "false": False, "True": True, "False": False, True: True, False: False}
            out[c.name] = s.map(lambda v, m=m: m.get(v, pd.NA)).astype("boolean")
        elif c.type == "datetime":
            vals = s.replace("", None)
            if pd.api.types.is_datetime64_any_dtype(vals) and getattr(vals.dt, "tz", None) is None:
                out[c.name] = vals.dt.tz_localize("UTC")
            else:
                out[c.name] = pd.to_datetime(vals, utc=True, format="ISO8601")
    return out


def read_export(path: str | os.PathLike[str], tables: Sequence[str] | None = None) -> dict[str, Any]:
    """Read an export back as ``{table: DataFrame}`` with the documented dtypes.

    ``path`` is what was given to :func:`export` (for a plain CSV export, the base path whose
    ``<stem>_<table>.csv`` files are read). Raises :class:`ExportError` when nothing is found.
    """
    import pandas as pd

    p = os.fspath(path)
    want = tuple(tables) if tables else TABLES
    lower = p.lower()
    raw: dict[str, Any] = {}
    if lower.endswith(".xlsx"):
        sheets = pd.read_excel(p, sheet_name=None, dtype=object, engine="openpyxl", keep_default_na=False)
        raw = {t: sheets[t] for t in want if t in sheets}
    elif lower.endswith(".json"):
        with open(p, encoding="utf-8") as fh:
            doc = json.load(fh)
        if doc.get("schema") != SCHEMA:
            raise ExportError(f"{p!r} is not an Inspector export (schema {doc.get('schema')!r})")
        raw = {t: pd.DataFrame(doc[t], columns=doc["columns"][t], dtype=object) for t in want if t in doc}
    elif lower.endswith(".zip"):
        with zipfile.ZipFile(p) as zf:
            names = set(zf.namelist())
            for t in want:
                if f"{t}.csv" in names:
                    with zf.open(f"{t}.csv") as fh:
                        raw[t] = pd.read_csv(fh, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    else:
        for t, fp in csv_paths(p, want).items():
            if os.path.exists(fp):
                raw[t] = pd.read_csv(fp, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if not raw:
        raise ExportError(f"no export tables found at {p!r}")
    return {t: _typed(df, t) for t, df in raw.items()}


__all__ = ["ExportInfo", "FORMATS", "SCHEMA", "csv_paths", "export", "read_export"]
