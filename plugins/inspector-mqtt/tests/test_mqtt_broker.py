"""The MQTT plugin against a real Mosquitto (started here on 127.0.0.1) and a real paho subscriber.

A real line run (the taught sample part, the embedded model on CPU) publishes its verdicts; the
broker is stopped mid-run and started again on the same port with nothing lost or repeated; a
station process that dies leaves its last will (offline) retained; results that waited in the
outbox when a station closed are sent by the next start, once; commands come back answered.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from mqtt_broker import MOSQUITTO, Broker, Listener, retained, wait_for

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "sample_data"
SAMPLE_ORDER = SAMPLES / "workorders" / "WO-1001_bracket.txt"
SAMPLE_LINE = SAMPLES / "parts" / "BR-100" / "line"
TOPIC = "inspector/line-1"

pytestmark = pytest.mark.skipif(not Path(MOSQUITTO).exists(), reason="Debian mosquitto is not installed")


@pytest.fixture(scope="module")
def taught(tmp_path_factory) -> Path:
    """BR-100 taught from the 12 sample good images with the real model (once per module)."""
    from inspector.pipeline import Inspector
    from inspector.settings import Settings

    data = tmp_path_factory.mktemp("mqtt-taught")
    with Inspector(Settings(data_dir=data, device="cpu", explain="off")) as facade:
        wo = facade.load_work_order(SAMPLE_ORDER)
        facade.teach(wo.part_number, sorted((SAMPLES / "parts" / "BR-100" / "good").glob("*.png")))
    return data / "references"


@pytest.fixture
def broker(tmp_path):
    folder = tmp_path / "broker"
    folder.mkdir()
    b = Broker(folder).start()
    yield b
    b.stop()


def settings(data: Path, port: int, **mqtt):
    from inspector.settings import Settings

    section = {"port": port, "reconnect_min_s": 0.2, "reconnect_max_s": 0.5, **mqtt}
    return Settings(data_dir=data, device="cpu", station="line-1", operator="op1", explain="off",
                    plugins={"mqtt": section})


def station_data(tmp_path: Path, taught: Path, name: str = "data") -> Path:
    data = tmp_path / name
    shutil.copytree(taught, data / "references")
    return data


def parts(tmp_path: Path, names: list[str], folder: str) -> str:
    out = tmp_path / folder
    out.mkdir()
    for n in names:
        shutil.copy(SAMPLE_LINE / n, out / n)
    return str(out)


def waiting(data: Path) -> int:
    with sqlite3.connect(data / "mqtt-outbox.sqlite") as db:
        return db.execute("SELECT COUNT(*) FROM outbox WHERE acked_at IS NULL").fetchone()[0]


@pytest.mark.slow
def test_a_line_run_publishes_each_verdict_and_a_retained_status(tmp_path, taught, broker):
    from inspector.pipeline import Inspector

    mes = Listener(broker.port)
    facade = Inspector(settings(station_data(tmp_path, taught), broker.port))
    wo = facade.load_work_order(SAMPLE_ORDER)
    summary = facade.run(parts(tmp_path, ["line_01.png", "line_02.png", "line_04.png"], "run"), wo)
    assert summary.inspected == 3
    wait_for(lambda: len(mes.on("/result")) == 3, 30, "3 results")
    stored = {i.id: i for i in facade.query(limit=None)}
    facade.close()

    results = {r["inspection_id"]: r for r in mes.on("/result")}
    assert set(results) == set(stored)
    for iid, r in results.items():
        insp = stored[iid]
        assert r["schema"] == 1 and r["station"] == "line-1" and r["run_id"] == summary.run_id
        assert (r["order_id"], r["lot"], r["part_number"]) == (wo.order_id, wo.lot, wo.part_number)
        assert r["verdict"] == insp.verdict.kind.value
        assert r["clause_ids"] == list(insp.verdict.clause_ids)
        assert r["image_sha256"] == insp.image_sha256 and len(r["image_sha256"]) == 64
        assert r["model"]["version"] == insp.model.version and r["model"]["weights_hash"] == insp.model.weights_hash
        assert r["part_id"] == (getattr(insp, "part_id", "") or "")
        assert {"analyze", "judge", "store"} <= set(r["timings_ms"])
        assert [f["defect_type"] for f in r["findings"]] == [f.defect_type for f in insp.findings]
        assert [f["length_mm"] for f in r["findings"]] == pytest.approx([f.length_mm for f in insp.findings])
    flagged = [r for r in results.values() if r["verdict"] == "NG"]
    assert flagged and all(r["findings"] and r["clause_ids"] for r in flagged)
    assert any(f["area_mm2"] > 0 for r in flagged for f in r["findings"])

    statuses = mes.on("/status")
    assert any(s["state"] == "online" and s["line"] == "running" and s["order_id"] == "WO-1001" for s in statuses)
    final = retained(broker.port, f"{TOPIC}/status")
    assert final["state"] == "offline" and final["reason"] == "station closed"
    assert final["counts"]["total"] == 3 and final["outbox_waiting"] == 0
    mes.close()


@pytest.mark.slow
def test_broker_restart_mid_run_loses_nothing_and_repeats_nothing(tmp_path, taught, broker):
    from inspector.pipeline import Inspector

    mes = Listener(broker.port)  # an MES client with a persistent session (QoS 1)
    data = station_data(tmp_path, taught)
    facade = Inspector(settings(data, broker.port))
    wo = facade.load_work_order(SAMPLE_ORDER)
    facade.run(parts(tmp_path, ["line_01.png", "line_02.png"], "before"), wo)
    wait_for(lambda: len(mes.on("/result")) == 2, 30, "the first 2 results")

    broker.stop()
    facade.run(parts(tmp_path, ["line_03.png", "line_04.png", "line_05.png"], "down"), wo)
    wait_for(lambda: waiting(data) == 3, 30, "3 results waiting in the outbox while the broker is down")
    assert len(mes.on("/result")) == 2

    broker.start()  # same port
    facade.run(parts(tmp_path, ["line_06.png"], "after"), wo)
    wait_for(lambda: len(mes.on("/result")) >= 6, 60, "all 6 results after the restart")
    stored = sorted(facade.query(limit=None), key=lambda i: i.inspected_at)
    facade.close()
    wait_for(lambda: any(s["state"] == "offline" for s in mes.on("/status")), 30, "the offline status")

    got = [r["inspection_id"] for r in mes.on("/result")]
    assert len(got) == len(set(got)) == 6, "a result was lost or repeated"
    assert got == [i.id for i in stored], "results arrive in the order the parts were stored"
    assert waiting(data) == 0
    mes.close()


def test_a_station_process_that_dies_leaves_its_last_will(tmp_path, broker):
    mes = Listener(broker.port)
    script = ("import sys, time\nfrom inspector.pipeline import Inspector\nfrom inspector.settings import Settings\n"
              "s = Settings(data_dir=sys.argv[1], station='line-1', plugins={'mqtt': {'port': int(sys.argv[2])}})\n"
              "f = Inspector(s)\nprint('ready', flush=True)\ntime.sleep(300)\n")
    proc = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "data"), str(broker.port)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        wait_for(lambda: any(s["state"] == "online" for s in mes.on("/status")), 30, "the online status")
        assert retained(broker.port, f"{TOPIC}/status")["state"] == "online"
        proc.kill()  # no clean disconnect: the broker publishes the will
        proc.wait(10)
        wait_for(lambda: mes.on("/status")[-1]["state"] == "offline", 30, "the last will")
    finally:
        if proc.poll() is None:
            proc.kill()
    will = retained(broker.port, f"{TOPIC}/status")
    assert will == {**will, "state": "offline", "reason": "connection lost", "station": "line-1"}
    assert "counts" not in will, "the will is set at connect: it carries no (stale) counters"
    mes.close()


@pytest.mark.slow
def test_results_waiting_at_close_are_sent_once_by_the_next_start(tmp_path, taught, broker):
    """A station closed while the broker was away sends its waiting results at its next start;
    the same stored parts heard again (a replay on the real bus) are never sent twice."""
    from inspector.events import PartStored
    from inspector.line import PartResult
    from inspector.pipeline import Inspector

    data = station_data(tmp_path, taught)
    broker.stop()
    with Inspector(settings(data, broker.port, close_timeout_s=0.5)) as facade:
        wo = facade.load_work_order(SAMPLE_ORDER)
        facade.run(parts(tmp_path, ["line_07.png", "line_08.png"], "run"), wo)
        records = sorted(facade.query(limit=None), key=lambda i: i.inspected_at)
    assert waiting(data) == 2

    broker.start()
    mes = Listener(broker.port)
    facade = Inspector(settings(data, broker.port))
    wait_for(lambda: len(mes.on("/result")) == 2, 30, "the 2 results that waited")
    for insp in records:  # the same stored parts heard again
        facade.events.publish(PartStored("replay", PartResult(insp, None, None)))
    facade.close()
    wait_for(lambda: any(s["state"] == "offline" for s in mes.on("/status")), 30, "the offline status")
    assert [r["inspection_id"] for r in mes.on("/result")] == [i.id for i in records]
    assert waiting(data) == 0
    mes.close()


def camera_video(tmp_path: Path) -> str:
    """A lossless looping video of one sample part: a camera that never ends (OpenCV reads it)."""
    import cv2

    image = cv2.imread(str(SAMPLE_LINE / "line_02.png"))
    path = tmp_path / "camera.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), 25, (image.shape[1], image.shape[0]))
    assert writer.isOpened(), "OpenCV cannot write FFV1 here"
    for _ in range(10):
        writer.write(image)
    writer.release()
    return str(path)


@pytest.mark.slow
def test_trigger_messages_inspect_one_part_each_with_their_part_id(tmp_path, taught, broker):
    """MQTT in, MQTT out: a line in software-trigger mode on a live (looping video) camera."""
    from inspector.pipeline import Inspector
    from inspector.sources.builtin import CameraSource

    mes = Listener(broker.port)
    facade = Inspector(settings(station_data(tmp_path, taught), broker.port))
    wo = facade.load_work_order(SAMPLE_ORDER)
    cancel, out = threading.Event(), {}

    def line() -> None:
        try:
            out["summary"] = facade.run(CameraSource(camera_video(tmp_path), max_backoff_s=0.05), wo, cancel=cancel,
                                        trigger_mode="software")
        except Exception as exc:  # surfaced below
            out["error"] = exc

    thread = threading.Thread(target=line, daemon=True)
    thread.start()
    try:
        mes.publish(f"{TOPIC}/cmd/trigger", json.dumps({"part_id": "SN-0001", "request_id": "t1"}))
        wait_for(lambda: len(mes.on("/result")) == 1, 120, f"the first triggered part {out}")
        mes.publish(f"{TOPIC}/cmd/trigger", "SN-0002")
        wait_for(lambda: len(mes.on("/result")) == 2, 120, f"the second triggered part {out}")
        mes.publish(f"{TOPIC}/cmd/trigger", json.dumps({"part_id": "x" * 200, "request_id": "t3"}))
        wait_for(lambda: len(mes.on("/cmd/reply")) == 3, 30, "3 replies")
    finally:
        cancel.set()
        thread.join(60)
    facade.close()
    assert "error" not in out and out["summary"].inspected == 2, "frames without a trigger are never parts"
    assert [r["part_id"] for r in mes.on("/result")] == ["SN-0001", "SN-0002"]
    replies = mes.on("/cmd/reply")
    assert [(r["ok"], r["part_id"], r["request_id"]) for r in replies[:2]] == [(True, "SN-0001", "t1"),
                                                                              (True, "SN-0002", "")]
    assert replies[2]["ok"] is False and replies[2]["request_id"] == "t3" and "200 characters" in replies[2]["error"]
    mes.close()
