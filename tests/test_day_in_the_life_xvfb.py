"""A day in the life of the station, in a real X server (issue 13): tests/day_in_the_life.py drives the
real window on a fresh data folder (guidance, scan the order, teach BR-100 from the sample good images,
run the 22 sample parts, acknowledge a held NG, review a flagged part with the keyboard only, correct
an escape, write the report, switch to the floor layout, quit) and checks the state at every step.
This test starts Xvfb, runs it, and checks its screenshots and the data folder it leaves.

``INSPECTOR_UPDATE_DOC_IMAGES=1`` copies the screenshots to docs/img/ (docs/app.md shows them).
Skipped only when Xvfb is missing and CI is not set.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_ui_xvfb import _need, image_stats, xserver  # noqa: F401 - the Xvfb fixture

pytestmark = [pytest.mark.slow, pytest.mark.xvfb]

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ["day-01-guidance.png", "day-02-order.png", "day-03-teach.png", "day-04-hold.png", "day-05-review.png",
         "day-06-escape.png", "day-07-report.png", "day-08-floor.png"]


@pytest.mark.parametrize("xserver", ["1920x1080"], indirect=True)  # a Full HD panel PC
def test_a_day_on_the_station_in_a_real_x_server(xserver, tmp_path):  # noqa: F811
    data, shots, result = tmp_path / "data", tmp_path / "shots", tmp_path / "day.json"
    config = tmp_path / "config"
    env = dict(os.environ, DISPLAY=xserver, QT_QPA_PLATFORM="xcb", XDG_CONFIG_HOME=str(config),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.pop("INSPECTOR_CONFIG", None)
    log = tmp_path / "day.log"
    with open(log, "w") as out:
        try:
            proc = subprocess.run([sys.executable, str(ROOT / "tests" / "day_in_the_life.py"), str(data), str(shots),
                                   str(result)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=1500)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the day did not end:\n{log.read_text()[-4000:]}")
    day = json.loads(result.read_text()) if result.is_file() else {}
    assert proc.returncode == 0 and "failed" not in day, day.get("failed") or log.read_text()[-4000:]
    steps = day["steps"]
    assert list(steps) == ["guidance", "order", "teach", "run", "acknowledged", "review", "escape", "report",
                           "floor", "closed"]

    # what the driver saw at each step
    assert steps["guidance"]["step"] == "order" and "work order first" in steps["guidance"]["start_reason"]
    assert steps["order"]["step"] == "teach" and "BR-100 is not taught" in steps["order"]["start_reason"]
    assert steps["teach"]["n_good"] == 12 and steps["teach"]["by"] == "ann" and steps["teach"]["histogram_bars"] == 12
    run = steps["run"]
    assert run["inspected"] == 22 and run["held"] >= 1 and run["held_verdict"] in ("NG", "REVIEW")
    assert run["held_part"] in run["hold_bar"] and not run["guide_visible"]
    assert steps["acknowledged"]["actor"] == "olaf" and steps["acknowledged"]["still_held"] == run["held"] - 1
    assert steps["review"]["decision"] == "reject" and steps["review"]["signer"] == "ann"
    assert steps["review"]["dialog"]["comment"] == "confirmed under the microscope" == steps["review"]["comment"]
    assert steps["review"]["reason"] == "OVER-LIMIT" and steps["review"]["dialog"]["reason"].startswith("OVER-LIMIT")
    assert steps["escape"]["machine"] == "OK" and steps["escape"]["final"] == "NG"
    assert steps["escape"]["queue_cell"] == "reject → NG"
    assert steps["report"]["parts"] == 22 and steps["report"]["by"] == "ann"
    floor = steps["floor"]
    assert floor["saved"] and floor["window"] == [1920, 1080] and floor["sizes"]["banner"] >= 120
    assert min(floor["sizes"][k] for k in ("reason", "status", "hold")) >= 20
    assert min(floor["sizes"]["start_height"], floor["sizes"]["ack_height"]) >= 48
    assert steps["closed"]["explanations_left"] == 0

    # the screenshots are real pictures of the window (the floor one of the whole screen)
    assert day["shots"] == SHOTS
    for name in SHOTS:
        std, colours, size = image_stats(shots / name)
        assert size == ((1920, 1080) if name == "day-08-floor.png" else (1500, 920)), f"{name}: {size}"
        assert std > 20 and colours > 30, f"{name} looks blank: std {std:.1f}, {colours} colours"

    # the data folder the day left: every part, the audit trail of who did what
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from inspector.pipeline import Inspector
    from inspector.reports.final import final_verdict
    from inspector.settings import Settings

    with Inspector(Settings(data_dir=data, device="cpu", explain="off")) as facade:
        stored = facade.query(order_id="WO-1001")
        assert len(stored) == 22 and all(i.station == "line-3" for i in stored)
        assert all(facade.get(i.id).explanation is not None for i in stored if i.verdict.kind.value != "OK")
        [ack] = facade.acknowledgements()
        assert ack.actor == "olaf" and facade.get(ack.entity_id).verdict.kind.value in ("NG", "REVIEW")
        decided = facade.audit_events(action="review.decided")
        assert [e.actor for e in decided] == ["ann", "ann"]
        escape = next(i for i in stored if i.frame_name == steps["escape"]["part"])
        assert final_verdict(escape, facade.reviews(escape.id)).kind.value == "NG"
        assert (data / "reports" / "WO-1001.pdf").is_file()
        assert [e.actor for e in facade.audit_events(action="settings.changed")] == ["ann"]
        assert facade.verify_audit(deep=False).ok

    if os.environ.get("INSPECTOR_UPDATE_DOC_IMAGES"):
        for name in SHOTS:
            shutil.copy(shots / name, ROOT / "docs" / "img" / name)
