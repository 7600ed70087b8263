"""Signing in the review queue: every signature starts from an empty form, the sign dialog shows
exactly what will be signed for which part, and one-key shortcuts leave the form's fields alone.

Fast: a synthetic lot in a real SQLite store (no model), accounts with argon2 passwords.
Each test fails on the old behaviour (the comment, reason and decision of one part stayed filled
for the next; Down on the reason box moved to the next part; the reason defaulted silently).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

pytestmark = [pytest.mark.usefixtures("qt_config")]

from ui_review_support import PASSWORDS, add_accounts, open_window  # noqa: E402


@pytest.fixture(scope="module")
def synthetic_data(tmp_path_factory) -> Path:
    """A data folder holding a synthetic lot (no reviews yet) and three accounts."""
    from inspector.reports.synthetic import copy_to_store, synthetic_lot
    from inspector.settings import Settings
    from inspector.store import Store
    from inspector.trace import Accounts

    data = tmp_path_factory.mktemp("ui-sign") / "data"
    settings = Settings(data_dir=data, device="cpu")
    settings.ensure_dirs()
    mem = synthetic_lot(14, seed=3, ng_rate=0.4, review_rate=0.25, review_fraction=0.0, image_size=(320, 240))
    with Store.open(settings.database_url, Path(settings.image_dir)) as store:
        copy_to_store(mem, store)
        accounts = Accounts(store)
        add_accounts(accounts)
    return data


@pytest.fixture
def window(qtbot, tmp_path, synthetic_data):
    yield from open_window(qtbot, tmp_path, synthetic_data, close_timeout_ms=60_000)


def open_queue(qtbot, window):
    review = window.review
    with qtbot.waitSignal(review.detail_shown, timeout=30_000):
        qtbot.keyClick(window, Qt.Key.Key_F3)
    assert review.rows and review.detail.shown_id == review.current().id
    return review


def fill_form(qtbot, review, key: str, reasons_down: int, comment: str, user: str | None) -> None:
    """Decision key on the table, Down ``reasons_down`` times in the reason box, Enter, the comment,
    Enter; the user name (when not filled yet) and Enter. That asks for the sign dialog."""
    d = review.detail
    review.table.setFocus()
    qtbot.keyClick(review.table, key)
    assert QApplication.focusWidget() is d.reason
    for _ in range(reasons_down):
        qtbot.keyClick(d.reason, Qt.Key.Key_Down)
    qtbot.keyClick(d.reason, Qt.Key.Key_Return)
    assert QApplication.focusWidget() is d.comment
    qtbot.keyClicks(d.comment, comment)
    qtbot.keyClick(d.comment, Qt.Key.Key_Return)
    if user is not None:
        assert QApplication.focusWidget() is d.user
        qtbot.keyClicks(d.user, user)
        qtbot.keyClick(d.user, Qt.Key.Key_Return)


def dialog_of(qtbot, review):
    qtbot.waitUntil(lambda: review.sign_dialog is not None and review.sign_dialog.isVisible(), timeout=30_000)
    return review.sign_dialog


def test_the_dialog_shows_what_is_signed_and_the_next_part_starts_empty(qtbot, window):
    facade = window.facade
    review = open_queue(qtbot, window)
    first = review.current()
    fill_form(qtbot, review, "R", 1, "pitting 0.4 mm by microscope", "ann")
    dlg = dialog_of(qtbot, review)
    shown = dlg.summary()
    reason = review.detail.reason_code()
    assert reason and shown["reason"].startswith(reason)
    assert shown["part"] == first.frame_name and shown["inspection"] == first.id
    assert shown["decision"] == "reject" and shown["comment"] == "pitting 0.4 mm by microscope"
    assert shown["machine"] == first.verdict.kind.value
    assert shown["meaning"] == f"Rejected by Ann Smith (reviewer): scrap per reason {reason}"
    assert QApplication.focusWidget() is dlg.password
    with qtbot.waitSignal(review.signed, timeout=60_000) as signed:
        qtbot.keyClicks(dlg.password, PASSWORDS["ann"])
        qtbot.keyClick(dlg.password, Qt.Key.Key_Return)
    rv = signed.args[0]
    assert (rv.inspection_id, rv.decision.value, rv.reason_code) == (first.id, "reject", reason)
    assert rv.comment == "pitting 0.4 mm by microscope" and rv.signature_meaning == shown["meaning"]
    assert dlg.password.text() == ""

    # the next part: nothing of the first one's words is left in the form
    qtbot.waitUntil(lambda: review.detail.shown_id == review.current().id, timeout=30_000)
    second = review.current()
    assert second.id != first.id
    d = review.detail
    assert d.decision is None and d.reason_code() == "" and d.comment.text() == ""
    assert not any(b.isChecked() for b in d.decision_buttons.values())
    assert d.user.text() == "ann"  # who signs stays; what is signed does not
    assert "signed for" in d.sign_result.text() and first.frame_name in d.sign_result.text()

    # R, Enter, Enter (the old muscle memory) no longer signs: a reason must be chosen
    review.sign_dialog = None
    fill_form(qtbot, review, "R", 0, "", None)
    assert "choose a reason code" in d.sign_result.text()
    assert review.sign_dialog is None and facade.reviews(second.id) == []
    assert QApplication.focusWidget() is d.reason


def test_signing_without_a_decision_or_reason_is_refused_with_a_message(qtbot, window):
    review = open_queue(qtbot, window)
    d = review.detail
    assert d.reason.currentIndex() == 0 and d.reason_code() == ""  # no silent default
    d.user.setText("ann")
    qtbot.keyClick(d.user, Qt.Key.Key_Return)
    assert "choose a decision first" in d.sign_result.text() and review.sign_dialog is None
    d.choose("accept")
    assert d.reason.itemText(0).startswith("— choose a reason")
    d.sign_button.click()
    assert "choose a reason code for accept" in d.sign_result.text() and review.sign_dialog is None
    assert window.facade.reviews(review.current().id) == []


def test_cancel_and_wrong_password_record_nothing(qtbot, window):
    facade = window.facade
    review = open_queue(qtbot, window)
    part = review.current()
    fill_form(qtbot, review, "W", 1, "burr on the edge", "ann")
    dlg = dialog_of(qtbot, review)
    assert dlg.summary()["decision"] == "rework"
    qtbot.keyClick(dlg.password, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=10_000)
    assert "cancelled" in review.detail.sign_result.text() and facade.reviews(part.id) == []
    assert review.detail.comment.text() == "burr on the edge"  # same part: the form is kept for a retry

    review.sign_dialog = None
    qtbot.keyClick(review.detail.user, Qt.Key.Key_Return)
    dlg = dialog_of(qtbot, review)
    qtbot.keyClicks(dlg.password, "not-her-password")
    qtbot.keyClick(dlg.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "wrong user name or password" in review.detail.sign_result.text(), timeout=60_000)
    assert facade.reviews(part.id) == []


def test_an_operator_is_refused_before_any_password(qtbot, window):
    review = open_queue(qtbot, window)
    fill_form(qtbot, review, "A", 1, "", "olaf")
    qtbot.waitUntil(lambda: "may not" in review.detail.sign_result.text(), timeout=30_000)
    assert "operator" in review.detail.sign_result.text() and review.sign_dialog is None
    assert window.facade.reviews(review.current().id) == []


def test_keys_in_the_reason_box_and_comment_belong_to_them(qtbot, window):
    review = open_queue(qtbot, window)
    d = review.detail
    row = review.table.currentRow()
    review.table.setFocus()
    qtbot.keyClick(review.table, Qt.Key.Key_R)
    assert QApplication.focusWidget() is d.reason
    n = d.reason.count()
    assert n >= 3, "reject has at least two reason codes"
    qtbot.keyClick(d.reason, Qt.Key.Key_Down)
    assert d.reason.currentIndex() == 1 and review.table.currentRow() == row
    qtbot.keyClick(d.reason, Qt.Key.Key_Down)
    assert d.reason.currentIndex() == 2 and review.table.currentRow() == row
    qtbot.keyClick(d.reason, Qt.Key.Key_Up)
    assert d.reason.currentIndex() == 1 and review.table.currentRow() == row
    for key in (Qt.Key.Key_J, Qt.Key.Key_K, Qt.Key.Key_A, Qt.Key.Key_W):  # no part move, no decision change
        qtbot.keyClick(d.reason, key)
    assert review.table.currentRow() == row and d.decision == "reject"
    d.comment.setFocus()
    qtbot.keyClicks(d.comment, "jakob")  # letters type, they do not navigate or decide
    qtbot.keyClick(d.comment, Qt.Key.Key_Down)
    assert d.comment.text() == "jakob" and review.table.currentRow() == row and d.decision == "reject"
    # on the table the shortcuts still browse
    review.table.setFocus()
    with qtbot.waitSignal(review.detail_shown, timeout=30_000):
        qtbot.keyClick(review.table, Qt.Key.Key_J)
    assert review.table.currentRow() == row + 1
    assert d.decision is None and d.comment.text() == ""  # and the new part's form is empty


def test_a_reviewer_pulls_any_part_into_review_through_the_facade(synthetic_data, tmp_path):
    from inspector.pipeline import Inspector
    from inspector.settings import Settings
    from inspector.trace import Audit, PermissionDenied

    data = tmp_path / "data"
    shutil.copytree(synthetic_data, data)
    with Inspector(Settings(data_dir=data, device="cpu")) as facade:
        ok = facade.query(verdicts=["OK"], newest_first=False)[0]
        with pytest.raises(PermissionDenied, match="sign in first"):
            facade.pull_for_review(ok.frame_name)
        facade.sign_in("olaf", PASSWORDS["olaf"])
        with pytest.raises(PermissionDenied, match="operator 'olaf' may not"):
            facade.pull_for_review(ok.frame_name)
        facade.sign_in("ann", PASSWORDS["ann"])
        assert [i.id for i in facade.pull_for_review(ok.frame_name)] == [ok.id]
        assert facade.pull_for_review(ok.frame_name.upper())[0].id == ok.id  # names match case-insensitively
        assert facade.pull_for_review(ok.id[:8])[0].id == ok.id
        assert facade.pull_for_review(ok.id)[0].id == ok.id
        assert len(facade.pull_for_review(".png")) > 1 and facade.pull_for_review("no-such-part") == []
        events = Audit(facade.store).events(action="review.pulled")
        assert events[0].actor == "ann" and events[0].entity_id == ok.id
        assert events[0].after["query"] == ok.frame_name and events[0].after["machine_verdicts"] == ["OK"]
        # a reviewer may now disposition a part the machine passed
        preview = facade.review_preview(ok.id, "reject", "OVER-LIMIT", "crack at the hole", username="ann")
        assert preview.machine_verdict == "OK" and preview.frame_name == ok.frame_name
        rv = facade.review(ok.id, "reject", "OVER-LIMIT", "crack at the hole", username="ann",
                           password=PASSWORDS["ann"], meaning=preview.meaning)
        assert rv.signature_meaning == preview.meaning and facade.get(ok.id).verdict.kind.value == "OK"


def test_qe_finds_a_machine_ok_part_by_name_and_rejects_it(qtbot, window):
    from inspector.reports.final import final_verdict

    facade = window.facade
    review = open_queue(qtbot, window)
    assert all(r.verdict.kind.value != "OK" for r in review.rows)
    with qtbot.waitSignal(review.loaded, timeout=30_000) as loaded:
        review.f_verdict.setCurrentText("OK")
    assert loaded.args[0] == len(facade.query(verdicts=["OK"])) > 0
    with qtbot.waitSignal(review.loaded, timeout=30_000) as loaded:
        review.f_verdict.setCurrentText("all")
    assert loaded.args[0] == len(facade.query())

    ok = facade.query(verdicts=["OK"], newest_first=False)[-1]
    qtbot.keyClick(review, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is review.f_find
    qtbot.keyClicks(review.f_find, ok.frame_name)
    qtbot.keyClick(review.f_find, Qt.Key.Key_Return)  # pulling a part is audited: it needs a sign-in
    qtbot.waitUntil(lambda: "sign in first" in window.status_label.text(), timeout=30_000)
    facade.sign_in("ann", PASSWORDS["ann"])
    with qtbot.waitSignal(review.loaded, timeout=30_000) as loaded:
        qtbot.keyClick(review.f_find, Qt.Key.Key_Return)
    assert loaded.args[0] == 1 and review.current().id == ok.id
    qtbot.waitUntil(lambda: review.detail.shown_id == ok.id, timeout=30_000)
    fill_form(qtbot, review, "R", 1, "crack found at final assembly", "ann")
    dlg = dialog_of(qtbot, review)
    assert dlg.summary()["machine"] == "OK" and dlg.summary()["part"] == ok.frame_name
    with qtbot.waitSignal(review.signed, timeout=60_000):
        qtbot.keyClicks(dlg.password, PASSWORDS["ann"])
        qtbot.keyClick(dlg.password, Qt.Key.Key_Return)
    fv = final_verdict(facade.get(ok.id), facade.reviews(ok.id))
    assert fv.kind.value == "NG" and fv.machine.value == "OK"
    assert review.table.item(0, review.table.columnCount() - 1).text() == "reject → NG"
