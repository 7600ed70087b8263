"""Work orders a new user gets wrong: each is a WorkOrderError naming the problem (and line), or a
defined outcome (flagged sentences, an id as text); files that block or never end are refused."""

from __future__ import annotations

import os

import pytest

from inspector.workorder import WorkOrderError, load_work_order, parse_work_order

CASES = {
 "empty": "", "blank": "   \n\n", "bom-only": "\ufeff", "nul": "\0\0\0", "binary": b"\x89PNG\r\n\x1a\n\0\0",
 "latin1": "Work order: WO-1\nPart: P\n1. Kratzer \xfcber 1 mm sind nicht zul\xe4ssig.\n".encode("latin-1"),
 "no-id": "Part: P-1\n1. No scratches.\n", "only-header": "Work order: WO-1\n",
 "no-clauses": "Work order: WO-1\nPart: P-1\n", "neg-len": "Work order: WO-1\nPart: P\n1. Scratches up to -1 mm are allowed.\n",
 "nan": "Work order: WO-1\nPart: P\n1. Scratches up to nan mm are allowed.\n",
 "huge": "Work order: WO-1\nPart: P\n1. Scratches up to 1e400 mm are allowed.\n",
 "bad-unit": "Work order: WO-1\nPart: P\n1. Scratches up to 3 furlongs are allowed.\n",
 "pixel-zero": "Work order: WO-1\nPart: P\nPixel size: 0 mm\n1. No scratches.\n",
 "pixel-neg": "Work order: WO-1\nPart: P\nPixel size: -0.1 mm\n1. No scratches.\n",
 "qty-neg": "Work order: WO-1\nPart: P\nQuantity: -5\n1. No scratches.\n",
 "qty-text": "Work order: WO-1\nPart: P\nQuantity: many\n1. No scratches.\n",
 "json-bad": '{"order_id": "WO-1", ', "json-list": "[1,2,3]", "json-nan": '{"order_id": "WO-1", "pixel_size_mm": NaN, "clauses": ["No scratches."]}',
 "json-deep": "[" * 5000 + "]" * 5000, "json-no-id": '{"part": "P", "clauses": ["No scratches."]}',
 "json-id-num": '{"order_id": 12, "clauses": ["No scratches."]}', "json-clauses-str": '{"order_id": "WO-1", "clauses": 5}',
 "json-huge-int": '{"order_id": "WO-1", "quantity": ' + "9"*5000 + ', "clauses": ["No scratches."]}',
 "yaml-bad": "order_id: WO-1\nclauses: [No scratches\n", "yaml-alias": "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n",
 "yaml-python-tag": "order_id: !!python/object/apply:os.system ['echo hi']\n", "yaml-scalar": "just text: \n",
 "yaml-date-id": "order_id: 2024-01-01\nclauses: [No scratches.]\n", "yaml-null-id": "order_id: null\nclauses: [No scratches.]\n",
 "zone-undefined": "Work order: WO-1\nPart: P\n1. No scratches in zone Q.\n",
 "contradiction": "Work order: WO-1\nPart: P\n1. Scratches up to 2 mm are allowed.\n2. Scratches up to 1 mm are allowed.\n",
 "long-line": "Work order: WO-1\nPart: P\n1. " + "very " * 100000 + "long.\n",
 "control": "Work order: WO-1\x07\nPart: P\x1b[31m\n1. No scratches.\n",
 "rtl": "Work order: WO-1\u202e\nPart: P\n1. No scratches.\n",
 "sql": "Work order: WO-1'; DROP TABLE inspections;--\nPart: P\n1. No scratches.\n",
 "html": "Work order: <script>alert(1)</script>\nPart: P\n1. No scratches.\n",
 "id-too-long": "Work order: WO-" + "1"*500 + "\nPart: P\n1. No scratches.\n",
 "many-clauses": "Work order: WO-1\nPart: P\n" + "".join(f"{i}. No scratches.\n" for i in range(1, 20001)),
 "unknown-words": "Work order: WO-1\nPart: P\n1. No frobnication of the widget.\n",
 "emoji": "Work order: WO-😀\nPart: P\n1. No scratches 😀.\n",
 "crlf": "Work order: WO-1\r\nPart: P\r\n1. No scratches.\r\n", "cr-only": "Work order: WO-1\rPart: P\r1. No scratches.\r",
}

REFUSED = {
    "empty": "is empty", "blank": "is empty", "bom-only": "is empty", "nul": "binary data", "binary": "binary data",
    "no-id": "no order id", "only-header": "no spec clauses", "no-clauses": "no spec clauses",
    "neg-len": "negative limit", "nan": "not a number", "huge": "unknown unit", "bad-unit": "unknown unit 'furlongs'",
    "pixel-zero": "must be positive", "pixel-neg": "must be positive", "qty-neg": "must be positive",
    "qty-text": "not a number", "json-bad": "malformed JSON", "json-list": "must be a mapping",
    "json-nan": "NaN", "json-deep": "nested too deeply", "json-no-id": "no order id",
    "json-clauses-str": "must be a list", "json-huge-int": "too large", "yaml-alias": "no order id",
    "yaml-python-tag": "no spec clauses", "yaml-scalar": "no order id", "yaml-null-id": "no order id",
    "contradiction": "contradictory limits", "long-line": "at most 20,000", "control": "control character",
    "rtl": "characters other than", "sql": "characters other than", "html": "characters other than",
    "id-too-long": "order id", "many-clauses": "at most 500", "emoji": "characters other than",
}
# parsed, with a defined outcome: (order id, clauses, flagged sentences)
ACCEPTED = {
    "latin1": ("WO-1", 1, 0), "json-id-num": ("12", 1, 0), "yaml-bad": ("WO-1", 1, 1),
    "yaml-date-id": ("2024-01-01", 1, 0), "zone-undefined": ("WO-1", 1, 1), "unknown-words": ("WO-1", 1, 1),
    "crlf": ("WO-1", 1, 0), "cr-only": ("WO-1", 1, 0),
}


def test_every_case_is_classified():
    assert set(REFUSED) | set(ACCEPTED) == set(CASES) and not set(REFUSED) & set(ACCEPTED)


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_work_order_is_a_work_order_error(case):
    with pytest.raises(WorkOrderError, match=REFUSED[case]) as err:
        parse_work_order(CASES[case], source_name=case)
    assert str(err.value).startswith(case)  # names the document


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_odd_work_order_has_a_defined_outcome(case):
    wo = parse_work_order(CASES[case], source_name=case)
    order_id, n_clauses, n_flagged = ACCEPTED[case]
    assert (wo.order_id, len(wo.clauses), sum(bool(c.flags) for c in wo.clauses)) == (order_id, n_clauses, n_flagged)


def _fifo(tmp_path):
    p = tmp_path / "order.txt"
    os.mkfifo(p)
    return p


def _zero(tmp_path):
    p = tmp_path / "order.txt"
    p.symlink_to("/dev/zero")
    return p


def _folder(tmp_path):
    p = tmp_path / "order.txt"
    p.mkdir()
    return p


def _sparse(tmp_path):
    p = tmp_path / "order.txt"
    with p.open("wb") as fh:
        fh.truncate(200 * 1024 * 1024)
    return p


@pytest.mark.parametrize("make, phrase", [
    (_fifo, "not a regular file"), (_zero, "not a regular file"), (_folder, "not a regular file"),
    (_sparse, "bytes"), (lambda t: t / "missing.txt", "cannot read"),
], ids=["fifo", "dev-zero", "folder", "huge", "missing"])
def test_work_order_files_that_block_or_never_end_are_refused(tmp_path, make, phrase):
    with pytest.raises(WorkOrderError, match=phrase):
        load_work_order(make(tmp_path))
