"""Done criterion of issue 11, point 1-2: a camera-style run of the 22 sample parts gives exactly 22
inspections with 22 distinct part ids.

The test writes the video with OpenCV: each of the 22 line images of BR-100 enters the view from
the left, sits (first still frame blurred), leaves to the right, with empty-belt frames between
(401 frames). The real embedded model on CPU judges; the station's default trigger mode (auto:
part detection) turns the frames into parts."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from parts_support import write_belt_video

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_ORDER = ROOT / "sample_data" / "workorders" / "WO-1001_bracket.txt"
SAMPLE_LINE = ROOT / "sample_data" / "parts" / "BR-100" / "line"

pytestmark = pytest.mark.slow


def test_22_sample_parts_on_a_belt_video_give_22_inspections_with_22_part_ids(tmp_path, ui_reference_dir):
    from inspector.pipeline import Inspector
    from inspector.settings import Settings

    names = sorted(SAMPLE_LINE.glob("line_*.png"))
    assert len(names) == 22
    video = write_belt_video(tmp_path / "line.avi", [cv2.imread(str(p)) for p in names])
    n_frames = int(cv2.VideoCapture(str(video)).get(cv2.CAP_PROP_FRAME_COUNT))
    data = tmp_path / "data"
    shutil.copytree(ui_reference_dir, data / "references")
    with Inspector(Settings(data_dir=data, device="cpu", explain="off", station="belt-1")) as facade:
        wo = facade.load_work_order(SAMPLE_ORDER)
        summary = facade.run(f"video:{video}", wo)
        stored = facade.query(order_id=wo.order_id, newest_first=False)
    assert n_frames > 300 and summary.inspected == 22 and not summary.errors
    assert len(stored) == 22
    ids = [i.part_id for i in stored]
    assert len(set(ids)) == 22 and all(ids)
    assert ids[0] == f"{wo.order_id}-{wo.lot}-000001" and ids[-1] == f"{wo.order_id}-{wo.lot}-000022"
    # each inspection is one part's settled frame, taken in order as the parts passed
    frame_numbers = [int(i.frame_name.split("-")[1]) for i in stored]
    gaps = np.diff(frame_numbers)
    assert (gaps > 10).all()  # never two inspections of one part
