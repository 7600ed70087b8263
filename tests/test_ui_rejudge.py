"""The app's "Re-judge lot..." (issue 13, point 9): the dry run on a worker fills the before/after
table; Apply asks first, is refused (and audited) for an operator, and writes the linked records
for a reviewer. Real model on CPU, 8 stored sample parts (reinspect_support)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402
from reinspect_support import *  # noqa: E402, F403 - fixtures
from reinspect_support import PASSWORDS, TIGHTENED, N, make_accounts  # noqa: E402

pytestmark = [pytest.mark.usefixtures("qt_config")]


def test_rejudge_dialog_dry_run_table_then_apply_by_a_reviewer_only(qtbot, lot_facade, tight_order, monkeypatch):
    from ui.app import make_app
    from ui.reports import ReportsView
    from ui.workers import TaskRunner

    make_app()
    make_accounts(lot_facade)
    tasks = TaskRunner()
    view = ReportsView(lot_facade, tasks)
    qtbot.addWidget(view)
    view.order.setText("WO-1001")
    qtbot.mouseClick(view.rejudge_button, Qt.MouseButton.LeftButton)
    dialog = view.rejudge
    assert dialog is not None and dialog.isVisible() and not dialog.apply_button.isEnabled()
    dialog.revision.setText(str(tight_order))
    qtbot.mouseClick(dialog.dry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=300_000)

    table = dialog.table
    assert table.rowCount() == N
    rows = {table.item(i, 0).text(): [table.item(i, j).text() for j in range(table.columnCount())]
            for i in range(N)}
    for name in TIGHTENED:
        part, before, old_clause, after, new_clause, status, reason, _ = rows[name]
        assert (before, old_clause, after, status) == ("OK", "–", "NG", "changed")
        assert new_clause.startswith("§3") and "0.30 mm allowed" in reason
    assert "OK->NG 2" in dialog.summary.text() and dialog.apply_button.isEnabled()
    assert len(lot_facade.query(order_id="WO-1001", current_only=False, limit=None)) == N  # nothing written

    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Yes)
    lot_facade.sign_in("olaf", PASSWORDS["olaf"])  # an operator may look, not apply
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.summary.text().startswith("failed:"), timeout=30_000)
    assert "re-judge" in dialog.summary.text() and "olaf" in asked[0]
    assert lot_facade.audit.events(action="permission.denied")
    assert len(lot_facade.query(order_id="WO-1001", current_only=False, limit=None)) == N

    lot_facade.sign_in("ann", PASSWORDS["ann"])
    qtbot.waitUntil(dialog.apply_button.isEnabled, timeout=10_000)
    with qtbot.waitSignal(dialog.applied, timeout=60_000) as applied:
        qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert len(applied.args[0].written) == N
    assert dialog.summary.text().startswith(f"applied: {N} new records")
    current = lot_facade.query(order_id="WO-1001", limit=None)
    assert len(current) == N and all(i.reinspects_id for i in current)
    assert {e.actor for e in lot_facade.audit.events(action="inspection.rejudged")} == {"ann"}
    assert lot_facade.audit.verify().ok
    tasks.close()
    tasks.wait(10_000)
