"""Parts, not frames (issue 11, point 1): free-run part detection turns a belt video into one
inspection per part, from its sharpest settled frame; frames between parts are not inspections.

The belt videos are written by the tests with OpenCV (lossless FFV1): each part enters from the
left, sits, leaves to the right, with empty-belt frames between; the first still frame of each
part is blurred, so the sharpest settled frame is known."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from parts_support import belt, part_on_belt, write_belt_video
from zone_support import ScratchBackend, part_image, write_order

from inspector.domain import Frame
from inspector.parts.detect import DetectionSettings, PartDetector, sharpness
from inspector.parts.trigger import TriggerError
from inspector.pipeline import Inspector
from inspector.settings import Settings, SettingsError
from inspector.sources.builtin import VideoSource


def _frames(images):
    return [Frame(image=cv2.cvtColor(im, cv2.COLOR_BGR2RGB), source="t", index=i, name=f"f{i}")
            for i, im in enumerate(images)]


def _parts(n=3, size=120):
    out = []
    for k in range(n):
        img = belt(size, size, seed=k + 1)
        cv2.rectangle(img, (15, 15 + 5 * k), (size - 15, size - 20), (200, 200, 200), -1)
        cv2.circle(img, (40 + 10 * k, 50), 8, (30, 30, 30), -1)
        out.append(img)
    return out


def _sequence(parts, sit=5, steps=3, empty=3, lead=4, passing=False):
    """Frames like write_belt_video (in memory); ``passing``: the part moves through without stopping."""
    h, w = parts[0].shape[:2]
    e = belt(h, w)
    seq = [e] * lead
    for p in parts:
        seq += [part_on_belt(p, e, -k * w // (steps + 1)) for k in range(steps, 0, -1)]
        if not passing:
            seq += [cv2.GaussianBlur(p, (0, 0), 1.5)] + [p] * (sit - 1)
        seq += [part_on_belt(p, e, k * w // (steps + 1)) for k in range(1, steps + 1)]
        seq += [e] * empty
    return seq


def test_one_part_per_part_from_the_sharpest_settled_frame():
    parts = _parts(3)
    det = PartDetector()
    frames = _frames(_sequence(parts))
    taken = [t for t in (det.feed(f) for f in frames) if t is not None]
    assert len(taken) == 3 and det.parts == 3 and det.passed == 0
    for t, p in zip(taken, parts, strict=True):  # the sharp frame, not the blurred first still frame
        assert np.array_equal(t.image, cv2.cvtColor(p, cv2.COLOR_BGR2RGB))
    assert sharpness(taken[0].image) > sharpness(cv2.cvtColor(cv2.GaussianBlur(parts[0], (0, 0), 1.5),
                                                               cv2.COLOR_BGR2RGB))


def test_a_part_that_never_settles_and_an_empty_belt_are_not_inspections():
    det = PartDetector()
    empty = _frames([belt(120, 120)] * 30)
    assert [det.feed(f) for f in empty] == [None] * 30  # an empty belt is never a part
    passing = _frames(_sequence(_parts(2), passing=True, steps=6))
    assert all(det.feed(f) is None for f in passing)
    assert det.passed == 2 and det.parts == 0


def test_a_long_settle_needs_more_still_frames():
    frames = _frames(_sequence(_parts(2), sit=4))
    strict = PartDetector(DetectionSettings(settle_frames=5))  # the parts sit 4 frames: never settled long enough
    assert [t for t in (strict.feed(f) for f in frames) if t is not None] == []
    loose = PartDetector(DetectionSettings(settle_frames=2))
    assert len([t for t in (loose.feed(f) for f in frames) if t is not None]) == 2


def test_detection_settings_are_checked(tmp_path):
    with pytest.raises(TriggerError, match="part_presence"):
        DetectionSettings(presence=0.0).check()
    with pytest.raises(SettingsError, match="part_motion"):
        Settings(data_dir=tmp_path, part_motion=-1)
    with pytest.raises(SettingsError, match="trigger_mode"):
        Settings(data_dir=tmp_path, trigger_mode="sometimes")
    with pytest.raises(SettingsError, match="part_settle_frames"):
        Settings(data_dir=tmp_path, part_settle_frames=0)


def test_a_belt_video_gives_one_inspection_per_part_and_ids_never_repeat_across_runs(tmp_path):
    """Fast (scratch backend): default settings, a video, two runs on one database."""
    part = cv2.cvtColor(part_image(), cv2.COLOR_RGB2BGR)
    parts = [np.roll(part, 7 * k, axis=1) for k in range(5)]
    video = write_belt_video(tmp_path / "belt.avi", parts)
    settings = Settings(data_dir=tmp_path / "data", device="cpu", explain="off")
    ids = []
    for _ in range(2):
        with Inspector(settings, backend=ScratchBackend()) as facade:
            wo = facade.load_work_order(write_order(tmp_path))
            summary = facade.run(VideoSource(str(video)), wo)  # trigger_mode auto: part detection
            assert summary.inspected == 5 and not summary.errors
            ids += [i.part_id for i in facade.query(order_id=wo.order_id, newest_first=False)][len(ids):]
    assert ids == [f"WO-7001-L-1-{n:06d}" for n in range(1, 11)]  # sequence kept in the database
    with Inspector(settings, backend=ScratchBackend()) as facade:  # every-frame, as before part detection
        summary = facade.run(VideoSource(str(video)), facade.find_work_order("WO-7001"), trigger_mode="every-frame")
        frames = int(cv2.VideoCapture(str(video)).get(cv2.CAP_PROP_FRAME_COUNT))
        assert summary.inspected == frames
