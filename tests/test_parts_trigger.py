"""Software triggers (issue 11, point 1): ``Inspector.trigger`` queues a trigger; a live source
in ``software`` mode waits for it and inspects the newest frame as one part with the trigger's
part id. A real camera source (OpenCV on a looping video file), the real facade and store, a fast
fake model."""

from __future__ import annotations

import threading

import cv2
import pytest
from parts_support import belt, run_in_thread, wait_for, write_belt_video
from zone_support import ScratchBackend, part_image, write_order

from inspector.events import PartStored, TriggerRequested
from inspector.parts.trigger import Trigger, TriggerError, TriggerQueue, resolve_mode
from inspector.pipeline import Inspector
from inspector.settings import Settings
from inspector.sources.builtin import CameraSource, FolderSource, VideoSource


@pytest.fixture
def facade(tmp_path):
    f = Inspector(Settings(data_dir=tmp_path / "data", device="cpu", explain="off", read_codes=False),
                  backend=ScratchBackend())
    yield f
    f.close()


def _camera_video(tmp_path):
    part = cv2.cvtColor(part_image(), cv2.COLOR_RGB2BGR)
    return write_belt_video(tmp_path / "cam.avi", [part, part], sit=5)


def test_software_trigger_inspects_one_part_per_trigger_with_its_id(tmp_path, facade):
    wo = facade.load_work_order(write_order(tmp_path))
    stored, requested = [], []
    facade.events.subscribe(lambda e: stored.append(e.inspection), PartStored)
    facade.events.subscribe(requested.append, TriggerRequested)
    camera = CameraSource(str(_camera_video(tmp_path)), max_backoff_s=0.05)  # loops: a camera that never ends
    thread, cancel, out = run_in_thread(facade, camera, wo, trigger_mode="software")
    for part_id in ("SN-0001", "SN-0002", None):
        n = len(stored)
        facade.trigger(part_id, origin="test")
        assert wait_for(lambda n=n: len(stored) > n), out
    assert wait_for(lambda: len(stored) == 3)
    cancel.set()
    thread.join(30)
    summary = out["summary"]
    assert summary.inspected == 3  # frames without a trigger are never inspections
    assert [i.part_id for i in stored[:2]] == ["SN-0001", "SN-0002"]
    assert stored[2].part_id == "WO-7001-L-1-000001"  # no id given: generated from order, lot, sequence
    assert [(e.part_id, e.origin) for e in requested] == [("SN-0001", "test"), ("SN-0002", "test"), (None, "test")]
    assert all(e.run_id == summary.run_id for e in requested)
    assert [i.part_id for i in facade.query(order_id="WO-7001")][::-1] == [i.part_id for i in stored]


def test_a_trigger_before_the_line_starts_waits_for_it(tmp_path, facade):
    wo = facade.load_work_order(write_order(tmp_path))
    facade.trigger("EARLY-1", origin="plc")
    stored = []
    facade.events.subscribe(lambda e: stored.append(e.inspection), PartStored)
    thread, cancel, out = run_in_thread(facade, CameraSource(str(_camera_video(tmp_path))), wo,
                                        trigger_mode="software")
    assert wait_for(lambda: len(stored) == 1), out
    cancel.set()
    thread.join(30)
    assert stored[0].part_id == "EARLY-1"


def test_a_video_file_in_software_mode_gives_its_next_frame_per_trigger(tmp_path, facade):
    wo = facade.load_work_order(write_order(tmp_path))
    stored = []
    facade.events.subscribe(lambda e: stored.append(e.inspection), PartStored)
    thread, cancel, out = run_in_thread(facade, VideoSource(str(_camera_video(tmp_path))), wo,
                                        trigger_mode="software")
    for i in range(4):
        facade.trigger(f"V-{i}")
        assert wait_for(lambda i=i: len(stored) == i + 1), out
    cancel.set()
    thread.join(30)
    assert [s.frame_name for s in stored] == [f"frame-{i:06d}" for i in range(4)]


def test_bad_trigger_ids_and_modes_are_typed_errors(tmp_path, facade):
    with pytest.raises(TriggerError, match="control characters"):
        facade.trigger("SN\x00-1")
    with pytest.raises(TriggerError, match="at most 128"):
        facade.trigger("x" * 200)
    folder = tmp_path / "in"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), belt(20, 20))
    assert resolve_mode("software", FolderSource(folder)) == "every-frame"  # files are parts
    with pytest.raises(TriggerError, match="does not support trigger mode 'hardware'"):
        resolve_mode("hardware", CameraSource("0"))
    with pytest.raises(TriggerError, match="unknown trigger mode"):
        resolve_mode("sometimes", CameraSource("0"))
    assert resolve_mode("auto", CameraSource("0")) == "free-run"
    assert resolve_mode(None, VideoSource("x.avi")) == "free-run"


def test_trigger_queue_is_bounded_and_announces_ids_in_order():
    q = TriggerQueue(maxlen=3)
    for i in range(5):
        q.put(Trigger(f"P{i}" if i != 3 else None, "t"))
    assert q.dropped == 2 and len(q) == 3
    assert q.take_part_id() == "P2" and q.take_part_id() == "P4"  # the one without an id is skipped
    assert q.take_part_id() is None and q.get(timeout=0.01) is None


def test_a_trigger_id_names_the_next_file_of_a_hot_folder(tmp_path, facade):
    from inspector.sources.builtin import HotFolderSource

    wo = facade.load_work_order(write_order(tmp_path))
    folder = tmp_path / "drop"
    folder.mkdir()
    stored = []
    facade.events.subscribe(lambda e: stored.append(e.inspection), PartStored)
    thread, cancel, out = run_in_thread(facade, HotFolderSource(folder, poll_s=0.05, settle_s=0.1), wo)
    facade.trigger("HF-0001", origin="plc")  # the PLC read the serial before the camera took the image
    cv2.imwrite(str(folder / "a.png"), cv2.cvtColor(part_image(), cv2.COLOR_RGB2BGR))
    assert wait_for(lambda: len(stored) == 1), out
    cv2.imwrite(str(folder / "b.png"), cv2.cvtColor(part_image(), cv2.COLOR_RGB2BGR))  # no trigger: generated
    assert wait_for(lambda: len(stored) == 2), out
    cancel.set()
    thread.join(30)
    assert [i.part_id for i in stored] == ["HF-0001", "WO-7001-L-1-000001"]


class TriggeredCamera(CameraSource):
    """A camera with a trigger input (as a GenICam plugin declares it): in a trigger mode a frame
    comes only when fired (``software_trigger``) or by the line's light barrier (``pulse``)."""

    trigger_modes = ("hardware", "software", "free-run", "every-frame")

    def __init__(self, video):
        super().__init__(str(video))
        self.mode = ""
        self.fired = 0
        self._pending = threading.Semaphore(0)

    def set_trigger_mode(self, mode):
        self.mode = mode

    def software_trigger(self):
        self.fired += 1
        self._pending.release()
        return True

    pulse = software_trigger  # the light barrier

    def __iter__(self):
        frames = super().__iter__()
        while not self._stopped:
            if not self._pending.acquire(timeout=0.1):
                continue
            yield next(frames)


def test_a_camera_with_a_trigger_input_is_fired_or_triggered_by_the_line(tmp_path, facade):
    wo = facade.load_work_order(write_order(tmp_path))
    stored = []
    facade.events.subscribe(lambda e: stored.append(e.inspection), PartStored)
    cam = TriggeredCamera(_camera_video(tmp_path))
    thread, cancel, out = run_in_thread(facade, cam, wo, trigger_mode="software")
    facade.trigger("FIRED-1")
    assert wait_for(lambda: len(stored) == 1), out
    cancel.set()
    thread.join(30)
    assert cam.mode == "software" and cam.fired == 1 and stored[0].part_id == "FIRED-1"
    assert stored[0].frame_name == "frame-000000"  # the frame the trigger made, not an older one

    cam = TriggeredCamera(_camera_video(tmp_path))
    thread, cancel, out = run_in_thread(facade, cam, wo, trigger_mode="hardware")
    assert wait_for(lambda: cam.mode == "hardware")
    facade.trigger("SERIAL-9")  # announced by the PLC before the part reaches the camera
    for _ in range(3):
        cam.pulse()
    assert wait_for(lambda: len(stored) == 4), out
    cancel.set()
    thread.join(30)
    assert [i.part_id for i in stored[1:]] == ["SERIAL-9", "WO-7001-L-1-000001", "WO-7001-L-1-000002"]
