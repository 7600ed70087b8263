"""Typed errors of the reports package: each says what was asked and how to fix it."""

from __future__ import annotations

from inspector.errors import InspectorError


class ReportError(InspectorError):
    """A report or certificate cannot be built (unknown order/inspection, bad filter, bad path)."""


class ExportError(ReportError):
    """An export cannot be written (unknown format or table, path problem, sheet too large)."""


class OverlayError(InspectorError, ValueError):
    """The image or anomaly map given to the overlay renderer has the wrong shape or type."""
