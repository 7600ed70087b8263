"""Archive re-inspection (issue 12 point 7c, issue 13 point 9): dry-run table, apply, idempotency, audit.

Real store (SQLite), real embedded model on CPU, 8 sample parts of WO-1001 (reinspect_support).
"""

from __future__ import annotations

import pytest
from reinspect_support import *  # noqa: F403 - fixtures
from reinspect_support import PASSWORDS, TIGHTENED, N, make_accounts

from inspector.domain import VerdictKind, to_data
from inspector.reinspect import ReinspectError
from inspector.store.errors import StoreError
from inspector.trace import PermissionDenied


def _by_frame(plan):
    return {r.frame_name: r for r in plan.rows}


def _snapshot(facade):
    return {i.id: to_data(i) for i in facade.query(order_id="WO-1001", current_only=False, limit=None)}


def test_dry_run_shows_what_a_tightened_revision_changes_and_writes_nothing(lot_facade, tight_order):
    before, events = _snapshot(lot_facade), lot_facade.audit.count()
    plan = lot_facade.rejudge_plan("WO-1001", work_order=tight_order)
    rows = _by_frame(plan)
    assert len(rows) == N and plan.work_order_version is None  # revision D is new: stored only on --apply
    assert plan.summary()["changes"] == {"OK->NG": 2}
    for name in TIGHTENED:
        row = rows[name]
        assert (row.old, row.new, row.status) == (VerdictKind.OK, VerdictKind.NG, "changed")
        assert row.old_clause == "" and row.new_clause.startswith("§3")
        assert "0.30 mm allowed" in row.new_reason
    unchanged = [r for r in plan.rows if r.frame_name not in TIGHTENED]
    assert all(r.status == "same" and r.new is r.old for r in unchanged)  # new revision: a record each
    assert rows["line_04.png"].new_clause == rows["line_04.png"].old_clause == "§1"  # the crack clause
    table = "\n".join(plan.table())
    assert "line_06.png" in table and "changed" in table and "§3" in table
    assert "2 change (OK->NG 2)" in plan.summary_text()
    # nothing written: no record, no order version, no audit event
    assert _snapshot(lot_facade) == before and lot_facade.audit.count() == events
    assert [r.version for r in lot_facade.store.list_work_orders(all_versions=True)] == [1]


def test_apply_writes_linked_records_once_and_keeps_originals(lot_facade, tight_order):
    before = _snapshot(lot_facade)
    plan = lot_facade.rejudge_plan("WO-1001", work_order=tight_order)
    result = lot_facade.rejudge_apply(plan)
    assert len(result.written) == N and result.work_order_version == 2 and not result.already_rejudged
    after = _snapshot(lot_facade)
    assert {k: after[k] for k in before} == before  # originals exactly as they were
    new = {i.id: i for i in lot_facade.query(order_id="WO-1001", limit=None)}  # current records only
    assert set(new) == set(result.written)
    assert {i.reinspects_id for i in new.values()} == set(before)  # each original re-judged exactly once
    assert all(i.work_order_version == 2 for i in new.values())
    ng = {i.frame_name for i in new.values() if i.verdict.kind is VerdictKind.NG}
    assert set(TIGHTENED) <= ng
    rejudged = lot_facade.audit.events(action="inspection.rejudged")
    assert sorted(e.entity_id for e in rejudged) == sorted(result.written)
    assert {e.before["inspection"] for e in rejudged} == set(before)
    [run] = lot_facade.audit.events(action="reinspect.applied")
    assert run.after["written"] == N and run.after["changes"] == {"OK->NG": 2}
    assert lot_facade.audit.verify().ok
    # re-running: every part is current with revision D -> nothing to write; a stale plan is refused
    again = lot_facade.rejudge_plan("WO-1001", work_order=tight_order)
    assert again.work_order_version == 2 and again.summary()["current"] == N and not again.to_write
    assert len(lot_facade.rejudge_apply(again).written) == 0
    stale = lot_facade.rejudge_apply(plan)
    assert stale.written == [] and sorted(stale.already_rejudged) == sorted(before)
    assert len(_snapshot(lot_facade)) == 2 * N and lot_facade.audit.verify().ok


def test_the_database_refuses_a_second_record_re_judging_the_same_one(lot_facade, tight_order):
    plan = lot_facade.rejudge_plan("WO-1001", work_order=tight_order, lot="L-2026-11-A")
    lot_facade.rejudge_apply(plan)
    twin = plan.to_write[0].record
    twin.id = "0" * 31 + "1"
    with pytest.raises(StoreError):
        lot_facade.store.save_inspection(twin)  # the unique link: one successor per record


def test_counts_and_reports_count_each_part_once_with_the_disposition_carried(lot_facade, tight_order, tmp_path):
    make_accounts(lot_facade)
    part = next(i for i in lot_facade.query(order_id="WO-1001", limit=None) if i.frame_name == TIGHTENED[0])
    lot_facade.review(part.id, "reject", "OVER-LIMIT", "pit measured by microscope", username="ann",
                      password=PASSWORDS["ann"])
    lot_facade.sign_in("ann", PASSWORDS["ann"])
    lot_facade.rejudge_apply(lot_facade.rejudge_plan("WO-1001", work_order=tight_order))
    counts = lot_facade.counts("WO-1001")
    assert counts["inspected"] == N and counts["NG"] == 5 and counts["OK"] == 2 and counts["REVIEW"] == 1
    assert counts["reviewed"] == 1 and counts["reject"] == 1  # signed on the original, still deciding
    queue = {i.frame_name for i in lot_facade.query(order_id="WO-1001", flagged_only=True, unreviewed_only=True)}
    assert TIGHTENED[0] not in queue and TIGHTENED[1] in queue  # the disposition carries over the chain
    assert len(queue) == 6 - 1  # 5 NG + 1 REVIEW, less the one whose disposition carries over
    info = lot_facade.report("WO-1001", tmp_path / "lot.pdf")
    assert info.n_parts == N
    from pypdf import PdfReader

    text = " ".join(p.extract_text() for p in PdfReader(str(tmp_path / "lot.pdf")).pages)
    assert f"re-judges inspection {part.id}" in text.replace("\n", " ")
    assert lot_facade.audit.verify().ok


def test_apply_needs_the_right_and_the_refusal_is_audited(lot_facade, tight_order):
    make_accounts(lot_facade)
    plan = lot_facade.rejudge_plan("WO-1001", work_order=tight_order)  # a dry run needs no right
    lot_facade.sign_in("olaf", PASSWORDS["olaf"])
    with pytest.raises(PermissionDenied, match="re-judge"):
        lot_facade.rejudge_apply(plan)
    assert [e.after for e in lot_facade.audit.events(action="permission.denied")]
    assert lot_facade.query(order_id="WO-1001", current_only=False, limit=None).__len__() == N


def test_bad_requests_are_typed_errors(lot_facade, tmp_path):
    with pytest.raises(ReinspectError, match="no version 7"):
        lot_facade.rejudge_plan("WO-1001", work_order="7")
    with pytest.raises(ReinspectError, match="not in the database"):
        lot_facade.rejudge_plan("WO-9999")
    with pytest.raises(ReinspectError, match="no stored inspections"):
        lot_facade.rejudge_plan("WO-1001", lot="no-such-lot")
    other = tmp_path / "other.txt"
    other.write_text("Order: WO-2002\nPart: BR-100\n1. No cracks.\n", encoding="utf-8")
    with pytest.raises(ReinspectError, match="not 'WO-1001'"):
        lot_facade.rejudge_plan("WO-1001", work_order=other)
    with pytest.raises(ReinspectError, match="neither a version"):
        lot_facade.rejudge_plan("WO-1001", work_order=tmp_path / "missing.txt")


def test_an_altered_stored_image_is_reported_not_re_judged(lot_facade):
    part = lot_facade.query(order_id="WO-1001", limit=1)[0]
    path = lot_facade.store.images.path(part.image_sha256)
    path.chmod(0o644)
    path.write_bytes(path.read_bytes() + b"tampered")
    plan = lot_facade.rejudge_plan("WO-1001", work_order="1")
    row = _by_frame(plan)[part.frame_name]
    assert row.status == "error" and "altered" in row.error and row.record is None
    assert plan.summary()["errors"] == 1 and len(plan.to_write) == 0  # the rest: current with version 1
