"""The Teach tab's zone editor: an order with a zone to draw, the zone drawn with the mouse on the
taught image, saved through the facade (audited), and the next judgement uses it: the clause is
checked on the drawn box instead of going to REVIEW "zone 'M' not drawn yet". Fake backend, no model."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from zone_support import SCRATCH, SIZE, ScratchBackend, part_image, write_order  # noqa: E402

from inspector.domain import Frame, Outcome, VerdictKind, utcnow  # noqa: E402

pytestmark = pytest.mark.usefixtures("qt_config")


@pytest.fixture
def window(qtbot, tmp_path):
    from inspector.pipeline import Inspector
    from inspector.settings import Settings
    from ui.app import MainWindow, make_app

    make_app()
    facade = Inspector(
        Settings(data_dir=tmp_path / "data", device="cpu", explain="off"), backend=ScratchBackend()
    )
    w = MainWindow(facade)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=60_000)


def _load(qtbot, window, tmp_path):
    import cv2

    with qtbot.waitSignal(window.station.work_order_changed, timeout=30_000) as loaded:
        window.station.load_order_file(write_order(tmp_path))
    image = tmp_path / "good_01.png"
    cv2.imwrite(str(image), part_image()[..., ::-1])
    teach, editor = window.teach, window.teach.zones
    qtbot.keyClick(window, Qt.Key.Key_F2)
    teach.pages.setCurrentWidget(editor)
    qtbot.waitUntil(lambda: window.tasks.running("zones.load") is None, timeout=10_000)
    teach.add_good([image])
    teach.good_list.setCurrentRow(0)  # the taught image shown in the editor too
    qtbot.waitUntil(lambda: editor.canvas.image_rect() is not None)
    return loaded.args[0], editor


def _drag(qtbot, canvas, box_px: tuple[int, int, int, int]) -> None:
    """Drag from the top-left to the bottom-right corner of an image-pixel box, with the mouse."""
    r = canvas.image_rect()
    s = r.width() / SIZE
    x0, y0, x1, y1 = box_px
    a = QPoint(round(r.x() + x0 * s), round(r.y() + y0 * s))
    b = QPoint(round(r.x() + x1 * s), round(r.y() + y1 * s))
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=a)
    qtbot.mouseMove(canvas, (a + b) / 2)
    qtbot.mouseMove(canvas, b)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=b)


def _judge(facade, wo):
    frame = Frame(image=part_image(), source="test", name="part.png", captured_at=utcnow())
    return facade.inspect_frame(frame, wo, explain="off").inspection.verdict


def test_draw_a_zone_save_it_and_the_next_judgement_uses_it(qtbot, window, tmp_path):
    facade = window.facade
    wo, editor = _load(qtbot, window, tmp_path)
    assert [editor.list.item(i).text() for i in range(editor.list.count())] == [
        "M (mounting face) — not drawn"
    ]
    assert window.teach.pages.tabText(1) == "Zones to draw (1)"
    assert editor.canvas.current == "M"
    before = _judge(facade, wo)
    assert before.kind is VerdictKind.REVIEW and any("zone 'M' not drawn yet" in r for r in before.reasons)

    x, y, w, h = SCRATCH
    with qtbot.waitSignal(editor.canvas.drawn) as drawn:
        _drag(qtbot, editor.canvas, (x - 10, y - 10, x + w + 10, y + h + 10))
    name, box = drawn.args
    expected = ((x - 10) / 2, (y - 10) / 2, (x + w + 10) / 2, (y + h + 10) / 2)  # % of the 200 px image
    assert name == "M" and all(abs(a - b) < 1.5 for a, b in zip(box, expected, strict=True))
    assert editor.list.item(0).text() == "M (mounting face) — drawn (not saved)"
    assert window.teach.pages.tabText(1) == "Zones to draw"
    assert facade.drawn_zones("BR-700") == ()  # nothing is used before Save

    with qtbot.waitSignal(editor.saved, timeout=10_000):
        qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert editor.list.item(0).text() == "M (mounting face) — drawn"
    assert "saved 1 zone for part BR-700" in editor.result.text()
    [zone] = facade.drawn_zones("BR-700")
    assert (zone.name, zone.unit, zone.label) == ("M", "%", "mounting face") and zone.box == box
    assert facade.zone_image("BR-700").shape == (SIZE, SIZE, 3)
    [event] = facade.audit.events(action="zones.drawn", entity_id="BR-700")
    assert event.after["zones"][0]["box"] == list(box)

    after = _judge(facade, wo)  # the scratch lies inside the drawn box: clause §2 judges it
    assert not any("not drawn yet" in r for r in after.reasons)
    assert after.kind is VerdictKind.NG
    [fail] = [c for c in after.checks if c.outcome is Outcome.FAIL]
    assert fail.clause_id == "§2" and fail.finding_index == 0

    # reloading the order shows the saved box again (read back through the facade)
    with qtbot.waitSignal(window.station.work_order_changed, timeout=30_000):
        window.station.load_order_file(write_order(tmp_path))
    qtbot.waitUntil(lambda: editor.list.item(0).text() == "M (mounting face) — drawn", timeout=10_000)


def test_saving_needs_a_sign_in_once_accounts_exist(qtbot, window, tmp_path):
    from argon2 import PasswordHasher

    from inspector.trace import Accounts

    wo, editor = _load(qtbot, window, tmp_path)
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    Accounts(window.facade.store, hasher=hasher).create_user(
        "root", "Rita Admin", "admin", "admin-password-1", None
    )
    _drag(qtbot, editor.canvas, (10, 10, 60, 60))
    task = editor.save()
    qtbot.waitUntil(lambda: "sign in first" in editor.result.text(), timeout=10_000)
    qtbot.waitUntil(task.done.is_set, timeout=10_000)
    assert "sign in first" in (task.failure or "")
    assert window.facade.drawn_zones(wo.part_number) == ()
    assert "drawn (not saved)" in editor.list.item(0).text()
