"""Every typed core error derives from InspectorError; the CLI maps them to exit codes by type."""

from __future__ import annotations

import pytest

from inspector.errors import InspectorError, LineError, describe, exit_code
from inspector.model.base import ModelError, NotTaughtError
from inspector.workorder import WorkOrderError


@pytest.mark.parametrize("exc", [
    WorkOrderError("unknown unit 'furlong'", line=3, source="WO-9.txt"),
    ModelError("weights missing"),
    NotTaughtError("part BR-100 is not taught"),
])
def test_package_errors_share_the_base_and_map_to_2(exc: Exception) -> None:
    assert isinstance(exc, InspectorError)
    assert exit_code(exc) == 2
    assert describe(exc) == str(exc)


def test_work_order_error_is_still_a_value_error() -> None:
    assert isinstance(WorkOrderError("x"), ValueError)


def test_line_error_has_its_own_code() -> None:
    assert exit_code(LineError("no source")) == 3


def test_untyped_errors_are_bugs_not_exit_codes() -> None:
    class FakeError(Exception):  # named like a core error, but not one: the type decides
        __module__ = "inspector.fake"

    assert exit_code(FakeError("x")) is None
    assert exit_code(ValueError("x")) is None
    assert describe(ValueError("bad")) == "ValueError: bad"
