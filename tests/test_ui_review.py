"""The review queue and the reports tab end to end (real model on CPU, temporary database).

A reviewer signs a disposition by keyboard only (J/K to move, R to reject, Down to choose the
reason, Enter, name, Enter; the sign dialog shows what will be signed; password, Enter): a new
review record exists and the machine verdict is unchanged. An operator, or a wrong password, is
refused with a visible message and nothing is recorded.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("qt_config")]

ROOT = Path(__file__).resolve().parents[1]
ORDER = ROOT / "sample_data" / "workorders" / "WO-1001_bracket.txt"
LINE = ROOT / "sample_data" / "parts" / "BR-100" / "line"
# defective sample parts (crack, dent, stain, pits) plus two good ones
FILES = ["line_04.png", "line_08.png", "line_12.png", "line_18.png", "line_01.png", "line_03.png"]
from ui_review_support import PASSWORDS, add_accounts, open_window  # noqa: E402


@pytest.fixture(scope="module")
def inspected_data(tmp_path_factory, ui_reference_dir) -> Path:
    """A data folder with the sample parts inspected (explanations written) and three accounts."""
    from inspector.pipeline import Inspector
    from inspector.settings import Settings
    from inspector.trace import Accounts

    data = tmp_path_factory.mktemp("ui-review") / "data"
    shutil.copytree(ui_reference_dir, data / "references")
    with Inspector(Settings(data_dir=data, device="cpu")) as facade:
        wo = facade.load_work_order(ORDER)
        summary = facade.run([str(LINE / f) for f in FILES], wo)
        assert summary.inspected == len(FILES)
        assert facade.wait_explanations(timeout=900)
        accounts = Accounts(facade.store)
        add_accounts(accounts)
    return data


@pytest.fixture
def window(qtbot, tmp_path, inspected_data):
    yield from open_window(qtbot, tmp_path, inspected_data, close_timeout_ms=120_000)


def open_queue(qtbot, window):
    review = window.review
    with qtbot.waitSignal(review.detail_shown, timeout=60_000):
        qtbot.keyClick(window, Qt.Key.Key_F3)
    assert window.tabs.currentWidget() is review
    return review


def sign_by_keyboard(qtbot, review, key: str, user: str | None, password: str | None):
    """Decision key (the reason box takes the focus), Down picks the first reason, Enter, Enter
    past the comment, the name (only when not filled in yet: ``user`` None) and Enter: the sign
    dialog shows what will be signed; the password and Enter sign. ``password`` None: stop before
    the dialog (a refusal is expected)."""
    d = review.detail
    review.table.setFocus()
    qtbot.keyClick(review.table, key)
    assert QApplication.focusWidget() is d.reason
    qtbot.keyClick(d.reason, Qt.Key.Key_Down)
    qtbot.keyClick(d.reason, Qt.Key.Key_Return)
    assert QApplication.focusWidget() is d.comment
    review.sign_dialog = None
    qtbot.keyClick(d.comment, Qt.Key.Key_Return)
    if user is not None:
        assert QApplication.focusWidget() is d.user
        qtbot.keyClicks(d.user, user)
        qtbot.keyClick(d.user, Qt.Key.Key_Return)
    if password is None:
        return
    qtbot.waitUntil(lambda: review.sign_dialog is not None and review.sign_dialog.isVisible(), timeout=60_000)
    dlg = review.sign_dialog
    assert dlg.summary()["inspection"] == review.current().id
    assert QApplication.focusWidget() is dlg.password
    qtbot.keyClicks(dlg.password, password)
    qtbot.keyClick(dlg.password, Qt.Key.Key_Return)


def test_reviewer_signs_a_rejection_by_keyboard(qtbot, window):
    facade = window.facade
    flagged = facade.query(order_id="WO-1001", verdicts=["NG", "REVIEW"])
    assert len(flagged) >= 2, "the sample defects are flagged"
    review = open_queue(qtbot, window)
    assert len(review.rows) == len(flagged) == review.table.rowCount()
    first = review.current()
    assert first is not None and review.detail.shown_id == first.id
    facts = review.detail.facts.text()
    assert first.verdict.kind.value in facts and first.frame_name in facts
    assert "Explanation" in facts and ("Clauses" in facts or not first.verdict.clause_ids)
    assert review.detail.image.image_size() is not None

    with qtbot.waitSignal(review.detail_shown, timeout=30_000):
        qtbot.keyClick(review.table, Qt.Key.Key_J)
    assert review.table.currentRow() == 1
    with qtbot.waitSignal(review.detail_shown, timeout=30_000):
        qtbot.keyClick(review.table, Qt.Key.Key_K)
    assert review.current().id == first.id
    qtbot.keyClick(review.table, Qt.Key.Key_O)
    assert review.detail.view_label.text().startswith("image")
    qtbot.keyClick(review.table, Qt.Key.Key_O)
    assert review.detail.view_label.text().startswith("overlay")

    verdict_before = facade.get(first.id).verdict.kind
    with qtbot.waitSignal(review.signed, timeout=60_000) as signed:
        sign_by_keyboard(qtbot, review, "R", "ann", PASSWORDS["ann"])
    rv = signed.args[0]
    assert (rv.inspection_id, rv.decision.value, rv.reviewer) == (first.id, "reject", "ann")
    stored = facade.reviews(first.id)
    assert len(stored) == 1 and stored[0].decision.value == "reject" and stored[0].reviewer_name == "Ann Smith"
    assert stored[0].reason_code in [c.code for c in facade.reason_codes()
                                     if "reject" in {d.value for d in c.decisions}]
    assert facade.get(first.id).verdict.kind == verdict_before  # the machine verdict stays
    assert review.sign_dialog.password.text() == ""  # never kept
    assert review.table.item(0, review.table.columnCount() - 1).text() == "reject → NG"
    assert review.table.currentRow() == 1  # on to the next part
    assert "signed" in review.detail.sign_result.text()
    assert review.detail.decision is None and review.detail.reason_code() == ""  # the next part starts empty

    # a second decision on the same part is a new record, the first is kept
    with qtbot.waitSignal(review.detail_shown, timeout=30_000):
        qtbot.keyClick(review.table, Qt.Key.Key_Up)
    assert review.current().id == first.id
    with qtbot.waitSignal(review.signed, timeout=60_000):
        sign_by_keyboard(qtbot, review, "W", None, PASSWORDS["ann"])  # the name is still there
    history = facade.reviews(first.id)
    assert [r.decision.value for r in history] == ["reject", "rework"]
    assert facade.get(first.id).verdict.kind == verdict_before


def test_operator_and_wrong_password_are_refused_visibly(qtbot, window):
    facade = window.facade
    review = open_queue(qtbot, window)
    part = review.current()
    sign_by_keyboard(qtbot, review, "A", "olaf", None)  # refused before any password is asked
    qtbot.waitUntil(lambda: "may not" in review.detail.sign_result.text(), timeout=60_000)
    assert "operator" in review.detail.sign_result.text() and review.detail.sign_result.isVisible()
    assert facade.reviews(part.id) == []
    review.detail.user.clear()
    sign_by_keyboard(qtbot, review, "A", "ann", "not-her-password")
    qtbot.waitUntil(lambda: "wrong user name or password" in review.detail.sign_result.text(), timeout=60_000)
    assert facade.reviews(part.id) == []
    assert window.statusBar().isVisible() and "wrong user name or password" in window.status_label.text()


def test_queue_filters(qtbot, window):
    facade = window.facade
    review = open_queue(qtbot, window)
    all_flagged = len(review.rows)
    ng = len(facade.query(order_id="WO-1001", verdicts=["NG"]))
    with qtbot.waitSignal(review.loaded, timeout=30_000) as loaded:
        review.f_verdict.setCurrentText("NG")
    assert loaded.args[0] == ng
    with qtbot.waitSignal(review.loaded, timeout=30_000) as loaded:
        review.f_verdict.setCurrentText("NG + REVIEW")
    assert loaded.args[0] == all_flagged
    review.f_lot.setText("NO-SUCH-LOT")
    with qtbot.waitSignal(review.loaded, timeout=30_000) as loaded:
        qtbot.keyClick(review.f_lot, Qt.Key.Key_Return)
    assert loaded.args[0] == 0 and review.detail.shown_id is None
    review.f_lot.setText("L-2026-11-A")
    with qtbot.waitSignal(review.loaded, timeout=30_000) as loaded:
        review.f_days.setCurrentText("today")
    assert loaded.args[0] == all_flagged
    types = sorted({f.defect_type for r in review.rows for f in r.findings})
    review.f_type.setCurrentText(types[0])
    with qtbot.waitSignal(review.loaded, timeout=30_000) as loaded:
        review.refresh()
    assert loaded.args[0] == len(facade.query(order_id="WO-1001", verdicts=["NG", "REVIEW"], defect_type=types[0]))
    assert loaded.args[0] >= 1


def finished(qtbot, reports, timeout=300_000):
    """Wait for the running report/export to end; returns its result (None when it failed)."""
    reports.last_result = None
    qtbot.waitUntil(lambda: reports.last_result is not None or reports.result.text().startswith("failed"),
                    timeout=timeout)
    return reports.last_result


def test_reports_need_a_signed_in_user_then_pdf_and_exports_work(qtbot, window, tmp_path):
    reports, bar = window.reports, window.signin
    qtbot.keyClick(window, Qt.Key.Key_F4)
    assert window.tabs.currentWidget() is reports
    reports.order.setText("WO-1001")
    reports.run_pdf("WO-1001", tmp_path / "refused.pdf")
    assert finished(qtbot, reports) is None
    assert "sign in first" in reports.result.text() and not (tmp_path / "refused.pdf").exists()

    # sign in from the bar, keyboard only: Ctrl+I, name, Enter, password, Enter
    with qtbot.waitSignal(bar.user_changed, timeout=60_000) as changed:
        qtbot.keyClick(window, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
        assert QApplication.focusWidget() is bar.user
        qtbot.keyClicks(bar.user, "ann")
        qtbot.keyClick(bar.user, Qt.Key.Key_Return)
        assert QApplication.focusWidget() is bar.password
        qtbot.keyClicks(bar.password, PASSWORDS["ann"])
        qtbot.keyClick(bar.password, Qt.Key.Key_Return)
    assert changed.args[0].username == "ann" and "Ann Smith" in bar.who.text()
    assert bar.password.text() == "" and window.review.detail.user.text() == "ann"

    reports.run_pdf("WO-1001", tmp_path / "wo.pdf")
    info = finished(qtbot, reports)
    assert info is not None, reports.result.text()
    assert (tmp_path / "wo.pdf").stat().st_size > 1000 and info.pages >= 1 and info.n_parts == len(FILES)
    assert "written" in reports.result.text() and reports.progress.value() == reports.progress.maximum()
    for fmt in ("xlsx", "csv"):
        reports.run_export("WO-1001", tmp_path / f"wo.{fmt}", fmt)
        info = finished(qtbot, reports)
        assert info is not None, reports.result.text()
        paths = [Path(p) for p in info.paths]
        assert paths and all(p.is_file() and p.stat().st_size > 0 for p in paths)
        assert info.rows["inspections"] == len(FILES)
    reports.run_export("WO-1001", tmp_path / "missing-folder" / "x.csv", "csv")
    assert finished(qtbot, reports) is None and "failed" in reports.result.text()

    qtbot.keyClick(window, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)  # sign out
    assert window.facade.user is None and "not signed in" in bar.who.text()
