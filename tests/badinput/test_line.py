"""Bad images on the line: each becomes a stored REVIEW part with its reason and the run goes on;
nothing is lost silently and no defect is invented (fake backend: no model weights needed)."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from badinput_support import BAD_IMAGES, encode
from zone_support import SIZE, ScratchBackend, part_image, write_order

from inspector.domain import Frame, VerdictKind
from inspector.pipeline import Inspector
from inspector.settings import Settings
from inspector.sources import FrameSource
from inspector.sources.builtin import HotFolderSource


class SizedBackend(ScratchBackend):
    """The fake backend with a taught reference of SIZE x SIZE px, as the embedded model records it."""

    def reference(self, part_number: str):
        return SimpleNamespace(meta={"image_size": [SIZE, SIZE]})


@pytest.fixture
def station(tmp_path):
    facade = Inspector(Settings(data_dir=tmp_path / "data", device="cpu", explain="off"), backend=SizedBackend())
    wo = facade.load_work_order(write_order(tmp_path))
    yield facade, wo
    facade.close()


def _good(path):
    cv2.imwrite(str(path), cv2.cvtColor(part_image(scratch=False), cv2.COLOR_RGB2BGR))


def _run(facade, wo, source):
    summary = facade.run(source, wo)
    records = {r.frame_name: r for r in facade.query(limit=None)}
    return summary, records


LINE_CASES = BAD_IMAGES[::2]


@pytest.mark.parametrize("case, make, kind, phrase", LINE_CASES, ids=[c[0] for c in LINE_CASES])
def test_a_bad_file_between_good_parts_is_a_review_record_and_the_line_goes_on(station, tmp_path, case, make,
                                                                                 kind, phrase):
    facade, wo = station
    line = tmp_path / "line"
    line.mkdir()
    _good(line / "p1.png")
    (line / "p2.png").write_bytes(make())
    _good(line / "p3.png")
    summary, records = _run(facade, wo, str(line))
    assert summary.inspected == 3 and not summary.aborted and summary.errors == []
    assert records["p1.png"].verdict.kind is VerdictKind.OK and records["p3.png"].verdict.kind is VerdictKind.OK
    bad = records["p2.png"]
    assert bad.verdict.kind is VerdictKind.REVIEW and bad.findings == []
    assert bad.verdict.reasons[0].startswith("unreadable / unsupported image: ") and phrase in bad.verdict.reasons[0]
    assert facade.image(bad).shape == (64, 64, 3)  # the placeholder is the stored evidence, not the bad bytes


ARRAYS = [
    ("float32", lambda: part_image().astype(np.float32) / 255, "dtype float32"),
    ("float64", lambda: part_image().astype(np.float64), "dtype float64"),
    ("bool", lambda: part_image() > 100, "dtype bool"),
    ("int32", lambda: part_image().astype(np.int32), "dtype int32"),
    ("two-channels", lambda: part_image()[:, :, :2], "shape"),
    ("five-channels", lambda: np.dstack([part_image(), part_image()[:, :, :2]]), "shape"),
    ("one-dimensional", lambda: part_image().ravel(), "shape"),
    ("four-dimensional", lambda: part_image()[None], "shape"),
    ("tiny", lambda: part_image()[:10, :10], "at least"),
    ("empty", lambda: np.zeros((0, 0, 3), np.uint8), ""),
    ("not-an-array", lambda: [[1, 2], [3, 4]], "numpy array"),
    ("wrong-size-small", lambda: part_image()[:150], "image size 200x150 differs from the taught 200x200"),
    ("wrong-size-large", lambda: cv2.resize(part_image(), (400, 400)), "image size 400x400 differs"),
    ("rotated", lambda: np.ascontiguousarray(np.rot90(part_image()[:, :180])), "image size 200x180 differs"),
    ("sixteen-bit-wrong-size", lambda: part_image()[:100].astype(np.uint16) * 257, "differs from the taught"),
]


class ListSource(FrameSource):
    """A plugin-like source that hands over whatever arrays it was given."""

    name = "list"

    def __init__(self, images):
        super().__init__()
        self.images = images

    def __iter__(self):
        for i, img in enumerate(self.images):
            yield Frame(image=img, source="list", index=i, name=f"f{i}")


@pytest.mark.parametrize("case, make, phrase", ARRAYS, ids=[a[0] for a in ARRAYS])
def test_frames_the_model_cannot_judge_are_review_records(station, case, make, phrase):
    facade, wo = station
    summary, records = _run(facade, wo, ListSource([part_image(scratch=False), make(), part_image(scratch=True)]))
    assert summary.inspected == 3 and not summary.aborted
    assert records["f0"].verdict.kind is VerdictKind.OK and records["f2"].findings  # judged by the model
    bad = records["f1"]
    assert bad.verdict.kind is VerdictKind.REVIEW and bad.findings == [] and phrase in bad.verdict.reasons[0]
    assert bad.explanation is not None and "could not judge" in bad.explanation.text


def test_a_source_that_breaks_mid_run_ends_it_reported_not_with_a_traceback(station):
    facade, wo = station

    class Broken(ListSource):
        def __iter__(self):
            yield Frame(image=part_image(scratch=False), source="list", index=0, name="f0")
            raise RuntimeError("driver crashed")

    summary, records = _run(facade, wo, Broken([]))
    assert summary.inspected == 1 and "driver crashed" in summary.aborted and list(records) == ["f0"]


def test_hot_folder_waits_for_a_file_being_written_then_takes_it(tmp_path):
    good = encode(".png", part_image(scratch=False))
    (tmp_path / "p.png").write_bytes(good[: len(good) // 2])  # the writer paused half-way
    src = HotFolderSource(tmp_path, poll_s=0.02, settle_s=0.05, idle_timeout_s=0.5, retry_s=0.05,
                          incomplete_timeout_s=30)
    got = []

    def consume():
        with src:
            got.extend(src)

    t = threading.Thread(target=consume)
    t.start()
    time.sleep(0.4)
    (tmp_path / "p.png").write_bytes(good)  # complete now
    t.join(timeout=20)
    assert not t.is_alive() and src.retries >= 1
    assert [type(f).__name__ for f in got] == ["Frame"] and got[0].image.shape == (SIZE, SIZE, 3)


def test_hot_folder_gives_a_file_that_never_completes_up_as_unreadable(tmp_path):
    (tmp_path / "stuck.png").write_bytes(encode(".png")[:100])
    src = HotFolderSource(tmp_path, poll_s=0.02, settle_s=0.05, idle_timeout_s=0.1, retry_s=0.05,
                          incomplete_timeout_s=0.3)
    with src:
        frames = list(src)
    assert len(frames) == 1 and type(frames[0]).__name__ == "UnreadableFrame"
    assert "unchanged for" in frames[0].reason


def test_image_limits_come_from_the_settings(tmp_path):
    facade = Inspector(Settings(data_dir=tmp_path / "data", device="cpu", explain="off", max_image_pixels=1000),
                       backend=SizedBackend())
    try:
        wo = facade.load_work_order(write_order(tmp_path))
        line = tmp_path / "line"
        line.mkdir()
        _good(line / "p1.png")
        _summary, records = _run(facade, wo, str(line))
        assert "setting max_image_pixels" in records["p1.png"].verdict.reasons[0]
    finally:
        facade.close()
