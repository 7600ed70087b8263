"""A day on the station, driven through the real window in a real X server (issue 13, "day in the life").

Run by tests/test_day_in_the_life_xvfb.py in a private Xvfb:
``python tests/day_in_the_life.py DATA_DIR SHOTS_DIR RESULT_JSON``. On a fresh data folder (the sample
order file where a scanned id is looked up, and three accounts, as ``inspector users`` makes them):

1. the next-step guidance on an empty station;                     day-01-guidance.png
2. the QE scans WO-1001: the guidance asks to teach BR-100;        day-02-order.png
3. the guidance's button opens the Teach tab; the QE signs in (Ctrl+I) and teaches BR-100 from the
   sample good images (Ctrl+T);                                     day-03-teach.png
4. back on the station the operator signs in, types the source and presses F5: the 22 sample parts;
   a flagged part is held on the banner until acknowledged (F6, audited);  day-04-hold.png
5. the QE reviews a flagged part with the keyboard only (R, Down, Enter, comment, Enter; the sign
   dialog: password, Enter);                                        day-05-review.png
6. an escape: the QE pulls a part the machine passed (Ctrl+F, its image name, Enter) and rejects it;
                                                                    day-06-escape.png
7. the lot report (Reports tab);                                    day-07-report.png
8. the floor layout (F11): large text, touch-size buttons, full screen;  day-08-floor.png
9. Ctrl+Q: the clean shutdown.

Every step checks the real state (the facade's records and audit trail, the widgets) and writes what
it saw to RESULT_JSON; a check that fails ends the run with exit code 1 and the reason. Screenshots are
taken from the X server (``QScreen.grabWindow``), so a sign dialog over the window is in the picture.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_data"
ORDER = SAMPLES / "workorders" / "WO-1001_bracket.txt"
GOOD = SAMPLES / "parts" / "BR-100" / "good"
LINE = SAMPLES / "parts" / "BR-100" / "line"
LABELS = {row["file"]: row["expected_wo1001"]  # what each sample part really is under WO-1001
          for row in csv.DictReader((LINE / "labels.csv").open(encoding="utf-8"))}
PASSWORDS = {"root": "root-pass-1234", "ann": "ann-pass-1234", "olaf": "olaf-pass-1234"}
SIZE = (1500, 920)


class Day:
    def __init__(self, data: Path, shots: Path, result: Path):
        self.data, self.shots, self.result_path = data, shots, result
        self.result: dict = {"steps": {}, "shots": [], "seconds": {}}
        self.t0 = time.monotonic()

    # --- helpers --------------------------------------------------------------------------------

    def wait(self, predicate: Callable[[], object], what: str, timeout_s: float = 120.0) -> None:
        from PySide6.QtWidgets import QApplication

        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > deadline:
                status = self.window.status_label.text() if hasattr(self, "window") else ""
                raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what} (status bar: {status!r})")
            QApplication.processEvents()
            time.sleep(0.02)

    def settle(self, seconds: float = 0.3) -> None:
        """Let the event loop run for ``seconds`` (queued signals, layouts, paints)."""
        end = time.monotonic() + seconds
        self.wait(lambda: time.monotonic() >= end, "the event loop", seconds + 5)

    def check(self, ok: object, message: str) -> None:
        if not ok:
            raise AssertionError(message)

    def key(self, widget, key, modifier=None) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        QTest.keyClick(widget, key, modifier or Qt.KeyboardModifier.NoModifier)

    def type(self, widget, text: str) -> None:
        from PySide6.QtTest import QTest

        QTest.keyClicks(widget, text)

    def focused(self):
        from PySide6.QtWidgets import QApplication

        return QApplication.focusWidget() or self.window

    def shot(self, name: str, whole_screen: bool = False) -> None:
        """The window's area as the X server shows it (dialogs over it included)."""
        self.settle(0.4)
        self.window.repaint()
        self.settle(0.2)
        screen = self.window.screen()
        g = screen.geometry() if whole_screen else self.window.frameGeometry()
        pixmap = screen.grabWindow(0, g.x(), g.y(), g.width(), g.height())
        path = self.shots / name
        self.check(pixmap.save(str(path)), f"cannot save {path}")
        self.result["shots"].append(name)

    def step(self, name: str, **seen) -> None:
        seen["at_s"] = round(time.monotonic() - self.t0, 1)
        self.result["steps"][name] = seen
        print(f"[{seen['at_s']:7.1f} s] {name}: {json.dumps(seen, default=str)[:300]}", flush=True)
        self.save()

    def save(self) -> None:
        self.result_path.write_text(json.dumps(self.result, indent=1, default=str), encoding="utf-8")

    def sign_in(self, user: str) -> None:
        """Ctrl+I, the name, Enter, the password, Enter (signs the current user out first)."""
        from PySide6.QtCore import Qt

        window, facade = self.window, self.window.facade
        if facade.user is not None:
            self.key(window, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
            self.check(facade.user is None, "Ctrl+I did not sign out")
        self.key(window, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
        bar = window.signin
        self.check(self.focused() is bar.user, "Ctrl+I did not open the sign-in field")
        self.key(bar.user, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)  # over the last name typed
        self.type(bar.user, user)
        self.key(bar.user, Qt.Key.Key_Return)
        self.type(bar.password, PASSWORDS[user])
        self.key(bar.password, Qt.Key.Key_Return)
        self.wait(lambda: facade.user is not None and facade.user.username == user, f"{user} signed in", 60)

    def sign_with_keyboard(self, key, reason: str, comment: str):
        """On the review queue's table: decision key, Down in the reason box until ``reason``, Enter, the
        comment, Enter (and Enter on the name); returns the open sign dialog."""
        from PySide6.QtCore import Qt

        review = self.window.review
        d = review.detail
        review.table.setFocus()
        self.key(review.table, key)
        self.check(self.focused() is d.reason, "the decision key did not put the focus on the reason box")
        for _ in range(d.reason.count()):
            if d.reason_code() == reason:
                break
            self.key(d.reason, Qt.Key.Key_Down)
        self.check(d.reason_code() == reason, f"reason {reason} is not offered for this decision")
        self.key(d.reason, Qt.Key.Key_Return)
        self.check(self.focused() is d.comment, "Enter on the reason did not go on to the comment")
        self.type(d.comment, comment)
        self.key(d.comment, Qt.Key.Key_Return)
        if self.focused() is d.user:
            self.key(d.user, Qt.Key.Key_Return)
        self.wait(lambda: review.sign_dialog is not None and review.sign_dialog.isVisible(), "the sign dialog", 60)
        return review.sign_dialog

    def password(self, dialog, user: str):
        from PySide6.QtCore import Qt

        review = self.window.review
        signed: list = []
        review.signed.connect(signed.append)
        self.check(self.focused() is dialog.password, "the sign dialog's password field has no focus")
        self.type(dialog.password, PASSWORDS[user])
        self.key(dialog.password, Qt.Key.Key_Return)
        self.wait(lambda: signed, "the signature", 120)
        review.signed.disconnect(signed.append)
        return signed[0]

    # --- the day ----------------------------------------------------------------------------------

    def prepare(self):
        """A fresh data folder: the order file where scanned ids are looked up, three accounts."""
        from inspector.pipeline import Inspector
        from inspector.settings import Settings

        (self.data / "workorders").mkdir(parents=True)
        shutil.copy(ORDER, self.data / "workorders")
        facade = Inspector(Settings(data_dir=self.data, device="cpu", station="line-3", explain="async"))
        facade.create_user("root", "Rita Admin", "admin", PASSWORDS["root"])
        facade.sign_in("root", PASSWORDS["root"])
        facade.create_user("ann", "Ann Smith", "reviewer", PASSWORDS["ann"])
        facade.create_user("olaf", "Olaf Berg", "operator", PASSWORDS["olaf"])
        facade.sign_out()
        return facade

    def run(self) -> None:
        from PySide6.QtCore import Qt

        from ui.app import MainWindow, make_app

        app = make_app()
        facade = self.prepare()
        self.window = window = MainWindow(facade)
        window.setGeometry(0, 0, *SIZE)
        window.show()
        window.activateWindow()
        self.wait(lambda: window.isVisible() and window.isActiveWindow(), "the window shown and active", 30)
        station, teach, review, reports = window.station, window.teach, window.review, window.reports

        # 1. an empty station says what to do first
        step = station.next_step()
        self.check(station.guide.isVisible() and step.key == "order", f"no first step shown: {step}")
        self.check(not station.start_button.isEnabled(), "Start is enabled without a work order")
        self.step("guidance", step=step.key, text=station.guide.text.text(), start_enabled=False,
                  start_reason=station.start_reason.text())
        self.shot("day-01-guidance.png")

        # 2. the order id, as a scanner types it, after the guide's button put the focus there
        station.guide.button.click()
        self.check(self.focused() is station.order_field, "the guide's button did not focus the order field")
        self.type(station.order_field, "WO-1001")
        self.key(station.order_field, Qt.Key.Key_Return)
        self.wait(lambda: station.work_order is not None, "work order WO-1001 loaded", 60)
        self.wait(lambda: station.next_step().key == "teach", "the guidance to ask for teaching", 60)
        wo = station.work_order
        self.check((wo.order_id, wo.part_number, wo.lot) == ("WO-1001", "BR-100", "L-2026-11-A"), f"order {wo}")
        self.check(not station.start_button.isEnabled() and "BR-100 is not taught" in station.start_reason.text(),
                   f"Start not blocked by the untaught part: {station.start_reason.text()!r}")
        self.step("order", order=wo.order_id, part=wo.part_number, lot=wo.lot, step=station.next_step().key,
                  guide=station.guide.text.text(), start_reason=station.start_reason.text())
        self.shot("day-02-order.png")

        # 3. the guide's button opens the Teach tab; the QE signs in and teaches from the good images
        station.guide.button.click()
        self.check(window.tabs.currentWidget() is teach and teach.part.text() == "BR-100", "not on the Teach tab")
        self.sign_in("ann")
        teach.add_good([GOOD])  # what "Add folder…" does with the folder chosen in its dialog
        taught: list = []
        teach.taught.connect(taught.append)
        t = time.monotonic()
        teach.good_list.setFocus()  # the user is on the tab (Ctrl+T works inside it)
        self.key(teach.good_list, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
        self.wait(lambda: taught, "teaching BR-100", 600)
        self.result["seconds"]["teach"] = round(time.monotonic() - t, 1)
        r = taught[0]
        events = facade.audit_events(action="model.taught")
        self.check(r.n_good == 12 and r.threshold > r.review_low, f"teach result {r}")
        self.check([(e.actor, e.entity_id) for e in events] == [("ann", "BR-100")], f"model.taught {events}")
        self.step("teach", part=r.part_number, n_good=r.n_good, threshold=r.threshold, review_low=r.review_low,
                  by=events[0].actor, histogram_bars=sum(teach.histogram.bar_counts()))
        self.shot("day-03-teach.png")

        # 4. the operator runs the line; a flagged part is held until acknowledged
        self.key(window, Qt.Key.Key_F1)
        self.wait(lambda: station.next_step().key == "source", "the guidance to ask for the source", 30)
        self.sign_in("olaf")
        station.source_target.setFocus()
        self.type(station.source_target, str(LINE))
        self.check(station.next_step().key == "start" and station.start_button.isEnabled(), "Start is still off")
        finished: list = []
        station.run_finished.connect(finished.append)
        t = time.monotonic()
        self.key(station.source_target, Qt.Key.Key_F5)
        self.wait(station.is_running, "the line running", 30)
        self.check(not station.guide.isVisible(), "the guidance stays on screen while the line runs")
        self.wait(lambda: finished, "the run over the 22 sample parts", 900)
        self.result["seconds"]["run"] = round(time.monotonic() - t, 1)
        summary = finished[0]
        stored = facade.query(order_id="WO-1001")
        flagged = [i.id for i in stored if i.verdict.kind.value != "OK"]
        self.check(summary.inspected == 22 == len(stored), f"22 parts inspected and stored, not {summary}")
        held = [p.inspection.id for p in station.held]
        self.check(held and held[0] in flagged and window.station.hold_bar.isVisible(), "no flagged part held")
        first = facade.get(held[0])
        self.wait(lambda: station.explanation.text() not in ("", "explaining…"), "the held part's explanation", 600)
        self.step("run", inspected=summary.inspected, counts=summary.counts, held=len(held),
                  held_part=first.frame_name, held_verdict=first.verdict.kind.value,
                  hold_bar=station.hold_bar.label.text(), banner=station.banner.kind,
                  explanation=station.explanation.text(), guide_visible=station.guide.isVisible())
        self.shot("day-04-hold.png")
        self.key(station.source_target, Qt.Key.Key_F6)
        self.wait(lambda: station.hold_bar.acknowledged, "the acknowledgement recorded", 60)
        [ack] = facade.acknowledgements()
        self.check((ack.actor, ack.entity_id, ack.after["verdict"]) == ("olaf", first.id, first.verdict.kind.value),
                   f"acknowledgement {ack}")
        self.check(len(station.held) == len(held) - 1, "F6 did not release the held part")
        self.step("acknowledged", actor=ack.actor, part=ack.after["frame"], verdict=ack.after["verdict"],
                  at=ack.at.isoformat(), held_s=ack.after.get("held_s"), still_held=len(station.held))

        # 5. the QE reviews a flagged part with the keyboard only
        self.sign_in("ann")
        loaded: list = []
        review.loaded.connect(loaded.append)
        self.key(window, Qt.Key.Key_F3)
        self.wait(lambda: loaded and review.current() is not None and review.detail.shown_id == review.current().id,
                  "the review queue and its first part", 60)
        part = review.current()
        dialog = self.sign_with_keyboard(Qt.Key.Key_R, "OVER-LIMIT", "confirmed under the microscope")
        shown = dialog.summary()
        self.check(shown["part"] == part.frame_name and shown["decision"] == "reject", f"sign dialog {shown}")
        self.shot("day-05-review.png")
        rv = self.password(dialog, "ann")
        self.check((rv.inspection_id, rv.decision.value, rv.reviewer) == (part.id, "reject", "ann"), f"review {rv}")
        self.step("review", part=part.frame_name, machine=part.verdict.kind.value, decision=rv.decision.value,
                  reason=rv.reason_code, comment=rv.comment, signer=rv.reviewer, meaning=rv.signature_meaning,
                  dialog=shown)

        # 6. an escape: a part the machine passed, pulled into review by name and rejected
        from inspector.reports.final import final_verdict

        ok_parts = {i.frame_name: i for i in stored if i.verdict.kind.value == "OK"}
        escapes = [n for n in sorted(ok_parts) if LABELS.get(n) == "NG"]  # passed, but out of the order's limits
        escape = ok_parts[escapes[0] if escapes else sorted(ok_parts)[0]]
        loaded.clear()
        self.key(review, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
        self.check(self.focused() is review.f_find, "Ctrl+F did not open the find field")
        self.type(review.f_find, escape.frame_name)
        self.key(review.f_find, Qt.Key.Key_Return)
        self.wait(lambda: loaded and review.detail.shown_id == escape.id, f"{escape.frame_name} pulled", 60)
        dialog = self.sign_with_keyboard(Qt.Key.Key_R, "OVER-LIMIT", "found at final assembly: over the limit")
        self.check(dialog.summary()["machine"] == "OK", "the sign dialog does not say the machine passed it")
        rv = self.password(dialog, "ann")
        fv = final_verdict(facade.get(escape.id), facade.reviews(escape.id))
        self.check((fv.kind.value, fv.machine.value) == ("NG", "OK"), f"final verdict {fv}")
        pulled = facade.audit_events(action="review.pulled")
        self.check(pulled and pulled[-1].actor == "ann" and pulled[-1].entity_id == escape.id, "pull not audited")
        cell = review.table.item(0, review.table.columnCount() - 1).text()
        self.settle(0.5)
        self.step("escape", part=escape.frame_name, machine=fv.machine.value, final=fv.kind.value,
                  reason=rv.reason_code, comment=rv.comment, queue_cell=cell, pulled_by=pulled[-1].actor)
        self.shot("day-06-escape.png")

        # 7. the report of the order (the path the Save dialog would return)
        done: list = []
        reports.done.connect(done.append)
        self.key(window, Qt.Key.Key_F4)
        self.check(reports.order.text() == "WO-1001", "the Reports tab does not have the loaded order")
        pdf = self.data / "reports" / "WO-1001.pdf"
        pdf.parent.mkdir(exist_ok=True)
        reports.run_pdf("WO-1001", pdf)
        self.wait(lambda: done, "the PDF report", 600)
        info = done[0]
        self.check(pdf.read_bytes()[:5] == b"%PDF-" and info.n_parts == 22, f"report {info}")
        [gen] = facade.audit_events(action="report.generated")
        self.check(gen.actor == "ann" and gen.after["document_hash"] == info.document_hash, f"{gen}")
        self.step("report", path=str(pdf), pages=info.pages, parts=info.n_parts, hash=info.document_hash,
                  by=gen.actor, text=reports.result.text())
        self.shot("day-07-report.png")

        # 8. the floor layout, from the keyboard, on the station
        self.key(window, Qt.Key.Key_F1)
        self.key(window, Qt.Key.Key_F11)
        self.wait(lambda: window.floor.on and window.isFullScreen(), "the floor layout", 30)
        self.wait(lambda: "saved to" in window.status_label.text(), "the floor layout saved", 60)
        self.wait(lambda: station.explanation.text() not in ("", "explaining…"), "the held part's explanation", 600)
        from PySide6.QtGui import QFontInfo

        def px(w) -> int:
            w.ensurePolished()
            return QFontInfo(w.font()).pixelSize()

        sizes = {"banner": px(station.banner), "reason": px(station.reason), "status": px(station.status_log),
                 "hold": px(station.hold_bar.label), "counter": px(station.counters.values["OK"]),
                 "start_height": station.start_button.height(), "ack_height": station.hold_bar.button.height()}
        self.check(sizes["banner"] >= 120 and min(sizes["reason"], sizes["status"], sizes["hold"]) >= 20
                   and min(sizes["start_height"], sizes["ack_height"]) >= 48, f"floor sizes {sizes}")
        from inspector.settings import default_config_file

        saved = "floor_layout: true" in default_config_file().read_text(encoding="utf-8")
        self.check(saved, f"floor_layout is not saved in {default_config_file()}")
        self.step("floor", sizes=sizes, window=[window.width(), window.height()], saved=saved,
                  held=len(station.held), style_sheet=bool(window.styleSheet()))
        self.shot("day-08-floor.png", whole_screen=True)

        # 9. Ctrl+Q: the clean shutdown (queued explanations are written first)
        t = time.monotonic()
        self.key(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
        self.wait(lambda: not window.isVisible(), "the clean shutdown", 900)
        self.result["seconds"]["shutdown"] = round(time.monotonic() - t, 1)
        self.step("closed", explanations_left=facade.explanations_queued())
        app.processEvents()


def main(argv: list[str]) -> int:
    data, shots, result = Path(argv[1]), Path(argv[2]), Path(argv[3])
    shots.mkdir(parents=True, exist_ok=True)
    day = Day(data, shots, result)
    try:
        day.run()
    except Exception as exc:
        traceback.print_exc()
        day.result["failed"] = f"{type(exc).__name__}: {exc}"
        if hasattr(day, "window"):  # what the screen showed when it failed
            screen = day.window.screen()
            screen.grabWindow(0, *screen.geometry().getRect()).save(str(shots / "failed.png"))
        day.save()
        return 1
    day.result["total_s"] = round(time.monotonic() - day.t0, 1)
    day.save()
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main(sys.argv))
