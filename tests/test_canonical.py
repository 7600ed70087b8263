"""inspector.canonical: one canonical JSON + digest, byte-identical to what existing records hold."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from datetime import UTC, datetime

import pytest

from inspector.canonical import CanonicalError, canonical_bytes, canonical_text, digest, sha256_hex
from inspector.errors import InspectorError
from inspector.store.samples import sample_work_order
from inspector.trace.chain import event_hash


def _legacy(obj) -> str:
    """How the trace, store and report copies wrote canonical JSON before this module."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def test_bytes_are_sorted_compact_utf8():
    assert canonical_text({"b": 1, "a": [1.5, "Ä"], "c": None}) == '{"a":[1.5,"Ä"],"b":1,"c":null}'
    assert canonical_bytes({"é": 0.1}) == '{"é":0.1}'.encode()
    assert digest({"x": 1}) == hashlib.sha256(b'{"x":1}').hexdigest() == sha256_hex('{"x":1}')


def test_audit_event_hash_is_unchanged():
    at = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    body = {"v": 1, "seq": 7, "at": "2026-01-02T03:04:05.678901Z", "actor": "änn", "action": "review.decided",
            "entity": "inspection", "entity_id": "x", "before": None, "after": '{"a":1}', "prev_hash": "0" * 64}
    expected = hashlib.sha256(_legacy(body).encode("utf-8")).hexdigest()
    assert event_hash(7, at, "änn", "review.decided", "inspection", "x", None, '{"a":1}', "0" * 64) == expected


def test_content_only_leaves_out_store_numbers():
    wo = sample_work_order()
    assert digest(dataclasses.replace(wo, version=3), content_only=True) == digest(wo, content_only=True)
    assert '"version":3' in canonical_text(dataclasses.replace(wo, version=3))


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_inf_are_refused_with_a_typed_error_naming_where(bad):
    with pytest.raises(CanonicalError, match=r"limits\[1\]\.mm") as err:
        digest({"limits": [{"mm": 1.0}, {"mm": bad}]})
    assert isinstance(err.value, InspectorError) and isinstance(err.value, ValueError)
