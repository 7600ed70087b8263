"""Reports and exports: per-work-order/lot PDF reports, per-part certificates, overlays and
CSV/XLSX/JSON exports. Heavy modules (reportlab, pandas, cv2) load on first use.

Public API::

    build_work_order_report(store, order_id, out_path, *, lot=None, since=None, until=None,
                            generated_by="", progress=None) -> ReportInfo
    build_certificate(store, inspection_id, out_path) -> ReportInfo
    export(store, out_path, fmt, *, order_id=None, lot=None, since=None, until=None,
           tables=("inspections", "findings", "reviews")) -> ExportInfo
    render_overlay(image, findings, anomaly_map=None, verdict=None) -> RGB ndarray
    thumbnail(image, max_side=320, findings=(), anomaly_map=None, verdict=None) -> RGB ndarray
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import ExportError, OverlayError, ReportError

_LAZY = {
    "build_work_order_report": "pdf",
    "build_certificate": "certificate",
    "ReportInfo": "layout",
    "export": "export",
    "read_export": "export",
    "ExportInfo": "export",
    "render_overlay": "overlay",
    "thumbnail": "overlay",
    "lot_document_hash": "verify",
    "certificate_document_hash": "verify",
    "MemoryStore": "source",
    "ReportSource": "source",
}

__all__ = ["ExportError", "OverlayError", "ReportError", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'inspector.reports' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{mod}", __name__), name)
