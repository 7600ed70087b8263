"""Drive the real window to the Teach tab's zone editor for the screenshot in docs/img/zone-editor.png.

Run by tests/test_zone_editor_xvfb.py in a private Xvfb: ``python tests/zone_editor_shot.py DATA_DIR
READY_FILE``. Loads an order for the sample bracket BR-100 with two zones to draw, draws the slot
zone with the mouse on a sample good image, saves it, selects the next zone, then writes the
window's X id into READY_FILE and waits (at most 120 s) for READY_FILE + '.done' before it quits.
A fake backend stands in for the model: nothing here needs it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parents[1]
GOOD = ROOT / "sample_data" / "parts" / "BR-100" / "good" / "good_01.png"
ORDER = """\
Work order: WO-1003
Part: BR-100
Description: machined aluminium bracket, mounting zones to be drawn by QE
Lot: L-2026-12-A
Pixel size: 0.05 mm/px
Zone A "sealing face": x 9-16 mm, y 9-16 mm
Zone S "slot": to be drawn on the golden image.
Zone E "lower edge": to be drawn on the golden image.

1. No scratches on the slot.
2. Dents up to 0.5 mm on the lower edge.
3. No scratches in zone A.
4. No cracks.
"""


def wait_for(app, predicate: Callable[[], object], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {predicate}")
        app.processEvents()
        time.sleep(0.02)


def main(data_dir: Path, ready: Path) -> int:
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest
    from zone_support import ScratchBackend

    from inspector.pipeline import Inspector
    from inspector.settings import Settings
    from ui.app import MainWindow, make_app

    app = make_app()
    order = data_dir / "WO-1003_zones.txt"
    data_dir.mkdir(parents=True, exist_ok=True)
    order.write_text(ORDER, encoding="utf-8")
    facade = Inspector(Settings(data_dir=data_dir, device="cpu", explain="off"), backend=ScratchBackend())
    window = MainWindow(facade)
    window.setGeometry(0, 0, 1500, 920)
    window.show()
    loaded: list = []
    window.station.work_order_changed.connect(loaded.append)
    window.station.load_order_file(order)
    wait_for(app, lambda: loaded)
    teach, editor = window.teach, window.teach.zones
    window.tabs.setCurrentWidget(teach)
    teach.pages.setCurrentWidget(editor)
    teach.add_good([GOOD.parent])
    teach.good_list.setCurrentRow(0)
    wait_for(
        app, lambda: window.tasks.running("zones.load") is None and editor.canvas.image_rect() is not None
    )
    app.processEvents()

    canvas, r = editor.canvas, editor.canvas.image_rect()
    s = r.width() / 512  # the sample images are 512 px square

    def at(x: float, y: float) -> QPoint:
        return QPoint(round(r.x() + x * s), round(r.y() + y * s))

    editor.list.setCurrentRow(0)  # S (slot): around the slot, 150-300 x 65-100 px
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(145, 62))
    QTest.mouseMove(canvas, at(220, 80))
    QTest.mouseMove(canvas, at(302, 102))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(302, 102))
    saved: list = []
    editor.saved.connect(saved.append)
    editor.save()
    wait_for(app, lambda: saved)
    editor.list.setCurrentRow(1)  # E (lower edge): selected, being drawn
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(34, 436))
    QTest.mouseMove(canvas, at(300, 452))
    QTest.mouseMove(canvas, at(470, 462))  # still dragging when the screenshot is taken
    for _ in range(20):
        app.processEvents()
        time.sleep(0.02)
    grab = ready.with_name(ready.stem + "-grab.png")
    window.grab().save(str(grab))
    ready.write_text(f"{int(window.winId())}\n", encoding="utf-8")
    done = ready.with_name(ready.name + ".done")
    wait_for(app, done.exists, timeout_s=120)
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(470, 462))
    window.close()
    facade.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
