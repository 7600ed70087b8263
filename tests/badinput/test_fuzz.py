"""Property tests (Hypothesis): the work-order parser raises nothing but WorkOrderError, and the image
loader nothing but ImageRejected, whatever bytes they are given. Bounded runs keep the suite fast."""

from __future__ import annotations

import json

import numpy as np
from badinput_support import encode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspector.sources import ImageRejected, decode_image_bytes
from inspector.workorder import WorkOrderError, parse_work_order

FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

HEADER = "Work order: WO-1\nPart: P-1\nPixel size: 0.05 mm\n"
WORDS = st.sampled_from(["No", "scratches", "dents", "up", "to", "1.0", "mm", "-3", "nan", "1e9", "µm", "in",
                         "zone", "A", "allowed", "per", "part", "longer", "than", "2", "%", "°", ":", ";", "(",
                         ")", "must", "not", "exceed", "pores", "Ø", "0.5", "inch", "½", "max.", "each", "\t"])


def _parse(text, fmt: str = "auto") -> None:
    try:
        wo = parse_work_order(text, fmt=fmt, source_name="fuzz")
    except WorkOrderError:
        return
    assert wo.order_id and wo.clauses  # accepted: then it is a usable order


@FUZZ
@given(st.text(max_size=2000), st.sampled_from(["auto", "text", "json", "yaml"]))
def test_parse_work_order_any_text(text, fmt):
    _parse(text, fmt)


@FUZZ
@given(st.binary(max_size=2000))
def test_parse_work_order_any_bytes(data):
    _parse(data)


@FUZZ
@given(st.lists(st.lists(WORDS, min_size=1, max_size=14).map(" ".join), min_size=1, max_size=8))
def test_parse_work_order_rule_like_sentences(sentences):
    _parse(HEADER + "".join(f"{i}. {s}.\n" for i, s in enumerate(sentences, 1)))


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
                    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=12), kids, max_size=4),
                    max_leaves=30)


@FUZZ
@given(st.dictionaries(st.sampled_from(["order", "order_id", "part", "lot", "quantity", "pixel_size_mm", "spec",
                                        "clauses", "zones", "customer"]), JSON, max_size=8))
def test_parse_work_order_json_shaped(doc):
    _parse(json.dumps(doc), "json")


@FUZZ
@given(st.binary(max_size=4096))
def test_image_loader_any_bytes(data):
    try:
        img = decode_image_bytes(data, "fuzz")
    except ImageRejected:
        return
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3


SEEDS = {ext: encode(ext, np.full((24, 32, 3), 120, np.uint8)) for ext in (".png", ".jpg", ".bmp", ".tif", ".webp")}


@FUZZ
@given(st.sampled_from(sorted(SEEDS)), st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=6),
       st.floats(0.0, 1.0))
def test_image_loader_mutated_real_images(ext, flips, keep):
    data = bytearray(SEEDS[ext])
    for pos, value in flips:
        data[min(len(data) - 1, int(pos * len(data)))] = value
    data = bytes(data[: max(0, int(len(data) * keep))]) if keep < 1 else bytes(data)
    try:
        img = decode_image_bytes(data, f"fuzz{ext}")
    except ImageRejected:
        return
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
