"""A real line run driven over OPC UA: the sample part BR-100 is taught with the real embedded model,
a video of three line parts runs in software-trigger mode, and an asyncua client on 127.0.0.1
arms the station, triggers each part with its serial and reads the result the line stored."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import cv2
import pytest
from asyncua.sync import Client
from inspector_opcua import nodes

from inspector.pipeline import Inspector
from inspector.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
SAMPLE_ORDER = ROOT / "sample_data" / "workorders" / "WO-1001_bracket.txt"
SAMPLE_GOOD = ROOT / "sample_data" / "parts" / "BR-100" / "good"
SAMPLE_LINE = ROOT / "sample_data" / "parts" / "BR-100" / "line"
PARTS = ("line_01.png", "line_04.png", "line_07.png")
NS_URI = "urn:test:inspector-line"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def taught(tmp_path_factory) -> Path:
    """A reference folder with BR-100 taught from the 12 sample good images."""
    data = tmp_path_factory.mktemp("opcua-taught")
    with Inspector(Settings(data_dir=data, device="cpu", explain="off")) as facade:
        wo = facade.load_work_order(SAMPLE_ORDER)
        facade.teach(wo.part_number, sorted(SAMPLE_GOOD.glob("*.png")))
    return data / "references"


def belt_video(path: Path) -> Path:
    """The three parts as a lossless (FFV1) video, one frame per part: verdicts as for the PNG files."""
    first = cv2.imread(str(SAMPLE_LINE / PARTS[0]))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), 5, first.shape[1::-1])
    for name in PARTS:
        writer.write(cv2.imread(str(SAMPLE_LINE / name)))
    writer.release()
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(fn, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while not (value := fn()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


def test_a_client_triggers_parts_of_a_running_line_and_reads_their_results(tmp_path, taught):
    data = tmp_path / "data"
    shutil.copytree(taught, data / "references")
    port = free_port()
    settings = Settings(data_dir=data, device="cpu", explain="off", station="line-3", trigger_mode="software",
                        plugins={"opcua": {"endpoint": f"opc.tcp://127.0.0.1:{port}/line3", "namespace": NS_URI}})
    video = belt_video(tmp_path / "belt.avi")
    with Inspector(settings) as station:
        wo = station.load_work_order(SAMPLE_ORDER)
        client = Client(f"opc.tcp://127.0.0.1:{port}/line3", timeout=30)
        client.connect()
        try:
            ns = client.get_namespace_index(NS_URI)

            def read(path):
                return client.get_node(nodes.node_id(path, ns)).read_value()

            vision = client.get_node(nodes.node_id("", ns))
            vision.call_method(f"{ns}:SelectWorkOrder", "WO-1001")
            vision.call_method(f"{ns}:Start")
            cancel = threading.Event()
            summary = {}
            line = threading.Thread(target=lambda: summary.setdefault("s", station.run(
                f"video:{video}", wo, cancel=cancel)), daemon=True)
            line.start()
            try:
                drive(read, vision, ns, summary, cancel, line)
            finally:
                cancel.set()  # a failed check must not leave the line waiting for triggers
                line.join(timeout=120)
            records = {r.part_id: r for r in station.query(limit=None)}
            serials = [f"BR-SN-{i:05d}" for i in range(1, len(PARTS) + 1)]
            assert sorted(records) == serials
            last = records[serials[-1]]
            assert read("ResultManagement.LastResult.InspectionId") == last.id
            assert read("ResultManagement.LastResult.Verdict") == last.verdict.kind.value
            assert read("ResultManagement.LastResult.ClauseIds") == list(last.verdict.clause_ids)
            assert read("ResultManagement.LastResult.ImageScore") == pytest.approx(last.image_score)
        finally:
            client.disconnect()


def drive(read, vision, ns, summary, cancel, line) -> None:
    """Trigger each part over OPC UA and check what the server shows while the line runs."""
    assert wait_for(lambda: read("VisionStateMachine.CurrentState").Text == "Operational")
    assert read("ActiveWorkOrder") == "WO-1001"
    for i in range(1, len(PARTS) + 1):
        serial = f"BR-SN-{i:05d}"
        vision.call_method(f"{ns}:Trigger", serial)
        assert wait_for(lambda i=i: read("ResultManagement.Counters.Total") == i), serial
        assert read("ResultManagement.LastResult.PartId") == serial
        assert read("ResultManagement.LastResult.OrderId") == "WO-1001"
    cancel.set()
    line.join(timeout=120)
    assert wait_for(lambda: read("VisionStateMachine.CurrentState").Text == "Preoperational")
    s = summary["s"]
    assert s.inspected == len(PARTS)
    counts = [read(f"ResultManagement.Counters.{k}") for k in ("Ok", "Ng", "Review")]
    assert counts == [s.counts["OK"], s.counts["NG"], s.counts["REVIEW"]]
