"""The real app as a user starts it, in a real X server (Xvfb): `inspector app --order … --source …
--teach-folder … --autostart --quit-after-run --screenshot …` teaches the sample part, inspects
sample line images, writes screenshots (window grab + one real X screenshot) and exits cleanly.

Skipped only when Xvfb is missing and CI is not set; under CI=true it must run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xvfb]

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_data"
ORDER = SAMPLES / "workorders" / "WO-1001_bracket.txt"
GOOD = SAMPLES / "parts" / "BR-100" / "good"
LINE = SAMPLES / "parts" / "BR-100" / "line"
LINE_SUBSET = ["line_01.png", "line_04.png", "line_08.png", "line_12.png", "line_13.png", "line_18.png"]


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{tool} is missing on CI: .ci/debian-deps installs it (xvfb, imagemagick)")
        pytest.skip(f"{tool} is not installed (Debian packages xvfb, imagemagick; .ci/debian-deps installs them)")
    return path


@pytest.fixture
def xserver(tmp_path, request):
    """A private Xvfb on a free display number (Xvfb picks it: -displayfd); its screen is 1600x1000, or the
    size a test asks for with ``@pytest.mark.parametrize("xserver", ["1920x1080"], indirect=True)``."""
    size = getattr(request, "param", "1600x1000")
    xvfb = _need("Xvfb")
    r, w = os.pipe()
    proc = subprocess.Popen([xvfb, "-displayfd", str(w), "-screen", "0", f"{size}x24", "-nolisten", "tcp"],
                            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=open(tmp_path / "xvfb.log", "wb"))
    os.close(w)
    with os.fdopen(r) as f:
        number = f.readline().strip()
    if not number.isdigit():
        proc.kill()
        pytest.fail(f"Xvfb did not start: {(tmp_path / 'xvfb.log').read_text(errors='replace')[-2000:]}")
    yield f":{number}"
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def image_stats(path: Path) -> tuple[float, int, tuple[int, int]]:
    """(pixel standard deviation, distinct colours after 4-bit quantisation, (w, h))."""
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert img is not None, f"{path} is not an image"
    q = (img >> 4).reshape(-1, 3).astype(np.int32)
    colours = len(np.unique(q[:, 0] * 256 + q[:, 1] * 16 + q[:, 2]))
    return float(img.std()), colours, (img.shape[1], img.shape[0])


def test_app_runs_in_a_real_x_server_and_takes_screenshots(xserver, tmp_path):
    importer = _need("import")
    line = tmp_path / "line"
    line.mkdir()
    for name in LINE_SUBSET:
        shutil.copy(LINE / name, line)
    data, shot, xshot = tmp_path / "data", tmp_path / "shot.png", tmp_path / "xshot.png"
    env = dict(os.environ, DISPLAY=xserver, QT_QPA_PLATFORM="xcb", XDG_CONFIG_HOME=str(tmp_path / "config"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    cmd = [sys.executable, "-m", "inspector", "--data-dir", str(data), "--device", "cpu", "app",
           "--order", str(ORDER), "--source", str(line), "--teach-folder", str(GOOD),
           "--autostart", "--quit-after-run", "--screenshot", str(shot)]
    t0 = time.monotonic()
    log = tmp_path / "app.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        x_taken = None
        while proc.poll() is None and time.monotonic() - t0 < 840:
            if x_taken is None and shot.exists():  # the window is up with the run's results
                x_taken = subprocess.run([importer, "-display", xserver, "-window", "root", str(xshot)],
                                         capture_output=True, timeout=60)
            time.sleep(0.2)
        if proc.poll() is None:
            proc.kill()
            pytest.fail(f"the app did not quit after the run:\n{log.read_text()[-4000:]}")
    output = log.read_text()
    assert proc.returncode == 0, output[-4000:]
    assert "window shown after" in output and "after process start" in output
    assert f"screenshot: {shot}" in output

    review_shot = shot.with_name("shot-review.png")
    for path in (shot, review_shot):
        std, colours, (w, h) = image_stats(path)
        assert w >= 900 and h >= 600, f"{path.name}: {w}x{h}"
        assert std > 20 and colours > 30, f"{path.name} looks blank: std {std:.1f}, {colours} colours"
    assert x_taken is not None and x_taken.returncode == 0, getattr(x_taken, "stderr", b"").decode()[-2000:]
    std, colours, size = image_stats(xshot)
    assert size == (1600, 1000) and std > 20 and colours > 30, f"X screenshot blank: {std:.1f}, {colours}"

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from inspector.pipeline import Inspector
    from inspector.settings import Settings

    with Inspector(Settings(data_dir=data, device="cpu")) as facade:
        stored = facade.query(order_id="WO-1001")
        assert sorted(r.frame_name for r in stored) == sorted(LINE_SUBSET)
        flagged = [r for r in stored if r.verdict.kind.value != "OK"]
        assert flagged and all(facade.get(r.id).explanation is not None for r in flagged)
        assert facade.backend.is_taught("BR-100")
