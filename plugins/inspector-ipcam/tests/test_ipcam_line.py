"""The IP camera on the real station (``inspector.pipeline.Inspector``, its line and store) against the
real RTSP server: software trigger (N triggers, exactly N inspections, each a camera frame with the
trigger's part id), free-run part detection (one inspection per part that passes the camera), and
the camera restarted during a run (SourceLost, SourceReconnected, parts go on). The model is a fast
fake backend: the line's contract is under test, not the model."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from inspector_ipcam import IPCamSource
from ipcam_stream import PARTS, ROOT, RtspServer, gst_rtsp_missing, read_stamp, wait_for

from inspector.domain import Analysis, Explanation, ModelInfo
from inspector.events import PartStored, SourceLost, SourceReconnected
from inspector.pipeline import Inspector
from inspector.settings import Settings

pytestmark = pytest.mark.skipif(bool(gst_rtsp_missing()), reason=gst_rtsp_missing() or "GStreamer present")

ORDER = ROOT / "sample_data" / "workorders" / "WO-1001_bracket.txt"


class QuietBackend:
    """Every part OK, at once; keeps the images it was given (the frames the line took)."""

    def __init__(self) -> None:
        self.images: list[np.ndarray] = []

    def load(self, device: str) -> None:
        pass

    def is_taught(self, part_number: str) -> bool:
        return True

    def info(self) -> ModelInfo:
        return ModelInfo("fake-quiet", "1", "0" * 64)

    def analyze(self, image: np.ndarray, work_order) -> Analysis:
        self.images.append(image.copy())
        h, w = image.shape[:2]
        return Analysis(
            np.zeros((h, w), np.float32),
            0.1,
            [],
            {"threshold": 1.0, "review_low": 0.8, "type_min": 0.5},
            self.info(),
        )

    def explain(self, image, analysis, verdict, work_order) -> Explanation:
        return Explanation("fake", fallback=True, generator="template")


@pytest.fixture
def station(tmp_path):
    backend = QuietBackend()
    facade = Inspector(
        Settings(
            data_dir=tmp_path / "data",
            device="cpu",
            explain="off",
            read_codes=False,
            plugins={"ipcam": {"max_backoff_s": 0.5}},
        ),
        backend=backend,
    )
    yield facade, backend
    facade.close()


def _run(facade, source, wo, mode) -> tuple[threading.Thread, threading.Event, dict]:
    cancel, out = threading.Event(), {}

    def body() -> None:
        try:
            out["summary"] = facade.run(source, wo, cancel=cancel, trigger_mode=mode)
        except Exception as exc:  # surfaced by the test
            out["error"] = exc

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, cancel, out


def _stored(facade) -> list:
    stored = []
    facade.events.subscribe(lambda e: stored.append(e.inspection), PartStored)
    return stored


def test_software_trigger_n_triggers_give_exactly_n_inspections(tmp_path, station):
    facade, backend = station
    server = RtspServer(tmp_path).start()
    try:
        wo = facade.load_work_order(ORDER)
        stored = _stored(facade)
        source = IPCamSource(server.url(), settings=facade.settings)
        thread, cancel, out = _run(facade, source, wo, "software")
        ids = [f"SN-{n:04d}" for n in range(1, 6)]
        for n, part_id in enumerate(ids):
            facade.trigger(part_id, origin="test")
            assert wait_for(lambda n=n: len(stored) > n, 60), out
        seen = server.last_pushed()
        assert wait_for(lambda: server.last_pushed() >= seen + 15)  # a second of stream with no trigger
        cancel.set()
        thread.join(60)
        assert not thread.is_alive() and "error" not in out, out
    finally:
        server.stop()
    summary = out["summary"]
    assert summary.inspected == 5 and len(stored) == 5  # frames without a trigger are never inspections
    assert [i.part_id for i in stored] == ids
    assert all(i.source == f"ipcam:{server.url()}" for i in stored)
    stamps = [read_stamp(img) for img in backend.images]
    assert stamps == sorted(stamps) and len(set(stamps)) == 5  # five different camera frames, in order
    assert all(img.shape == (512, 512, 3) for img in backend.images)
    assert [i.part_id for i in facade.query(order_id=wo.order_id)][::-1] == ids


def _belt_images(folder: Path) -> list[Path]:
    """An empty belt (the parts' own background colour), then each sample part with belt between."""
    first = cv2.imread(str(PARTS[0]))
    belt = np.empty_like(first)
    belt[:] = np.median(first[:24].reshape(-1, 3), axis=0).astype(np.uint8)
    cv2.imwrite(str(folder / "belt.png"), belt)
    return [
        folder / "belt.png",
        folder / "belt.png",
        PARTS[0],
        folder / "belt.png",
        PARTS[1],
        folder / "belt.png",
        PARTS[2],
        folder / "belt.png",
    ]


def test_free_run_part_detection_inspects_each_part_once(tmp_path, station):
    """The camera shows an empty belt, then each part for 20 frames with belt between: the line's part
    detection makes one inspection per part shown, from a frame that shows that part."""
    facade, backend = station
    images = _belt_images(tmp_path)
    hold = 20
    server = RtspServer(tmp_path, images, hold=hold).start()
    try:
        wo = facade.load_work_order(ORDER)
        stored = _stored(facade)
        thread, cancel, out = _run(
            facade, IPCamSource(server.url(), settings=facade.settings), wo, "free-run"
        )
        assert wait_for(lambda: len(stored) >= 3, 120), out
        cancel.set()
        thread.join(60)
        assert not thread.is_alive() and "error" not in out, out
    finally:
        server.stop()
    slots = [read_stamp(img) // hold for img in backend.images]
    shown = [images[s % len(images)] for s in slots]
    assert all(p in PARTS for p in shown), shown  # never an empty belt
    assert len(set(slots)) == len(slots), slots  # never the same appearance twice
    for img, path in zip(backend.images, shown, strict=True):
        sent = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        assert np.abs(img[16:].astype(int) - sent[16:].astype(int)).mean() < 4  # the part shown, whole


def test_camera_restarted_during_a_run_is_lost_then_reconnected(tmp_path, station):
    facade, _ = station
    server = RtspServer(tmp_path).start()
    heard = []
    facade.events.subscribe(heard.append, SourceLost, SourceReconnected)
    try:
        wo = facade.load_work_order(ORDER)
        stored = _stored(facade)
        thread, cancel, out = _run(
            facade, IPCamSource(server.url(credentials="op:pw-9"), settings=facade.settings), wo, "software"
        )
        facade.trigger("BEFORE-1")
        assert wait_for(lambda: len(stored) == 1, 60), out
        server.restart()
        assert wait_for(lambda: any(isinstance(e, SourceReconnected) for e in heard), 60), heard
        facade.trigger("AFTER-1")
        assert wait_for(lambda: len(stored) == 2, 60), out
        cancel.set()
        thread.join(60)
    finally:
        server.stop()
    lost = next(e for e in heard if isinstance(e, SourceLost))
    back = next(e for e in heard if isinstance(e, SourceReconnected))
    assert lost.recoverable and "pw-9" not in lost.message and "pw-9" not in lost.source
    assert back.gap_s > 0 and [i.part_id for i in stored] == ["BEFORE-1", "AFTER-1"]
    assert out["summary"].inspected == 2 and not out["summary"].aborted
