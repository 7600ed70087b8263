"""The zone editor in a real X server (Xvfb): the window drawn by tests/zone_editor_shot.py (a zone
drawn with the mouse and saved, the next one being dragged) is captured with ImageMagick's
``import`` from the X server itself. ``INSPECTOR_UPDATE_DOC_IMAGES=1`` copies the capture to
docs/img/zone-editor.png. Skipped only when Xvfb is missing and CI is not set."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_ui_xvfb import _need, image_stats, xserver  # noqa: F401 - the Xvfb fixture

pytestmark = [pytest.mark.xvfb]

ROOT = Path(__file__).resolve().parents[1]
DOC_IMAGE = ROOT / "docs" / "img" / "zone-editor.png"


def test_zone_editor_screenshot_in_a_real_x_server(xserver, tmp_path):  # noqa: F811
    importer = _need("import")
    data, ready, shot = tmp_path / "data", tmp_path / "ready.txt", tmp_path / "zone-editor.png"
    env = dict(
        os.environ,
        DISPLAY=xserver,
        QT_QPA_PLATFORM="xcb",
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    log = tmp_path / "shot.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "zone_editor_shot.py"), str(data), str(ready)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        t0, taken = time.monotonic(), None
        while proc.poll() is None and time.monotonic() - t0 < 180:
            if taken is None and ready.exists() and ready.read_text().strip():
                win = ready.read_text().strip()
                taken = subprocess.run(
                    [importer, "-display", xserver, "-window", win, str(shot)],
                    capture_output=True,
                    timeout=60,
                )
                (tmp_path / "ready.txt.done").touch()
            time.sleep(0.1)
        if proc.poll() is None:
            proc.kill()
            pytest.fail(f"the zone editor did not finish:\n{log.read_text()[-4000:]}")
    assert proc.returncode == 0, log.read_text()[-4000:]
    assert taken is not None and taken.returncode == 0, getattr(taken, "stderr", b"").decode()[-2000:]
    std, colours, (w, h) = image_stats(shot)
    assert (w, h) == (1500, 920) and std > 20 and colours > 30, (
        f"blank capture: {std:.1f}, {colours}, {w}x{h}"
    )
    doc = json.loads((data / "zones" / "BR-100.json").read_text())
    [zone] = doc["zones"]
    assert zone["name"] == "S" and zone["unit"] == "%" and zone["label"] == "slot"
    x0, y0, x1, y1 = zone["box"]  # the slot: about 150-300 x 65-100 of 512 px
    assert 27 < x0 < 30 and 11 < y0 < 13 and 58 < x1 < 60 and 19 < y1 < 21
    if os.environ.get("INSPECTOR_UPDATE_DOC_IMAGES"):
        shutil.copy(shot, DOC_IMAGE)
