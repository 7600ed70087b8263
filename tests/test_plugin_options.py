"""``inspector.plugin_options.convert``: typed plugin options from YAML values and spec text."""

from __future__ import annotations

import pytest

from inspector.plugin_options import convert
from inspector.sources import SourceError


@pytest.mark.parametrize("kind, value, expected", [
    ("float", "900", 900.0), ("float | None", "none", None), ("int", 8.0, 8), ("int | None", "", None),
    ("bool", "On", True), ("bool", "0", False), ("bool", False, False), ("str", "  Mono8 ", "Mono8"),
])
def test_values_become_the_fields_type(kind, value, expected):
    got = convert("cam", "x", kind, value)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("kind, value, words", [
    ("float", "fast", "cam exposure must be a number, not 'fast'"),
    ("int", 2.5, "cam exposure must be a whole number, not 2.5"),
    ("bool", "maybe", "cam exposure must be true or false, not 'maybe'"),
    ("int", None, "cam exposure needs a value"),
])
def test_bad_values_are_named_and_not_recoverable(kind, value, words):
    with pytest.raises(SourceError) as err:
        convert("cam", "exposure", kind, value)
    assert str(err.value) == words and not err.value.recoverable
