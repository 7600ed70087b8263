"""Verdict-to-output latency of the Modbus plugin, against a simulated PLC (pymodbus server) on 127.0.0.1.

    python bench/bench_modbus_latency.py [--events 200] [--line] [--json OUT]

1. ``--events N``: a station with ``plugins: {modbus: {...}}`` (heartbeat every 500 ms and the
   trigger input polled every 20 ms on the same connection, as on a line) hears N ``PartJudged``
   events published on its bus, 50 ms apart, verdicts NG/OK/REVIEW in turn. Latency: the event's
   publish time -> the output coil's rising write arriving at the PLC (the simulator's datastore
   hook). Both are ``time.perf_counter`` in this one process.
2. ``--line``: teaches the sample part BR-100 (CPU), makes a lossless (FFV1) video of the 22 sample line parts and
   runs it in software-trigger mode; the PLC raises its trigger input for each part and waits for
   the verdict output. Per part: trigger edge set at the PLC -> ``TriggerRequested`` (the poll),
   -> ``PartJudged`` (capture, analysis, judging), -> the output coil at the PLC; and
   ``PartJudged`` -> ``PartStored`` (what ``signal_at: stored`` would add).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_data"
COILS = {"NG": 0, "OK": 1, "REVIEW": 2}
TRIGGER = 7


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def summary(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)
    return {"n": len(ms), "median_ms": round(statistics.median(ms), 2),
            "p95_ms": round(ms[min(len(ms) - 1, int(0.95 * len(ms)))], 2), "max_ms": round(ms[-1], 2)}


def rise_after(plc, coil: int, t0: float, timeout: float = 60.0) -> float | None:
    w = plc.wait_write(lambda w: w[1] == "coil" and w[2] == coil and w[3][0] and w[0] >= t0, timeout)
    return None if w is None else w[0]


def section(port: int) -> dict:
    return {"host": "127.0.0.1", "port": port, "pulse_ms": 20, "heartbeat_ms": 500,
            "trigger_input": "discrete_input", "trigger_address": TRIGGER, "poll_ms": 20}


def bench_events(n: int, tmp: Path) -> dict:
    from inspector_modbus import PlcLink
    from inspector_modbus.simulator import PlcSimulator

    from inspector.domain import Inspection, ModelInfo, Verdict, VerdictKind
    from inspector.events import PartJudged
    from inspector.pipeline import Inspector
    from inspector.settings import Settings

    plc = PlcSimulator("127.0.0.1", free_port())
    station = Inspector(Settings(data_dir=tmp / "events", device="cpu", plugins={"modbus": section(plc.port)}))
    (link,) = [p for p in station._publishers if isinstance(p, PlcLink)]
    link.wait_connected(20)
    time.sleep(0.5)
    lat: list[float] = []
    try:
        for i in range(n):
            kind = ("NG", "OK", "REVIEW")[i % 3]
            now = datetime.now(UTC)
            insp = Inspection(id=f"b{i}", order_id="WO-1001", part_number="BR-100", lot="L", image_sha256="",
                              source="bench", frame_name=f"f{i}", station="s", captured_at=now, inspected_at=now,
                              model=ModelInfo("x", "0", "0"), thresholds={}, image_score=0.0, findings=[],
                              verdict=Verdict(VerdictKind(kind)))
            t0 = time.perf_counter()
            station.events.publish(PartJudged("bench", insp))
            t1 = rise_after(plc, COILS[kind], t0)
            if t1 is not None:
                lat.append((t1 - t0) * 1e3)
            time.sleep(0.05)
    finally:
        station.close()
        plc.close()
    return {"judged_to_coil": summary(lat), "missed": n - len(lat), "stats": dict(link.stats)}


def bench_line(tmp: Path) -> dict:
    import cv2
    from inspector_modbus.simulator import PlcSimulator

    from inspector.events import PartJudged, PartStored, TriggerRequested
    from inspector.pipeline import Inspector
    from inspector.settings import Settings

    data = tmp / "line"
    with Inspector(Settings(data_dir=data, device="cpu", explain="off")) as f:
        wo = f.load_work_order(SAMPLES / "workorders" / "WO-1001_bracket.txt")
        f.teach(wo.part_number, sorted((SAMPLES / "parts" / "BR-100" / "good").glob("*.png")))
    parts = sorted((SAMPLES / "parts" / "BR-100" / "line").glob("line_*.png"))
    first = cv2.imread(str(parts[0]))
    video = tmp / "belt.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"FFV1"), 5, first.shape[1::-1])
    for p in parts:
        writer.write(cv2.imread(str(p)))
    writer.release()

    plc = PlcSimulator("127.0.0.1", free_port())
    station = Inspector(Settings(data_dir=data, device="cpu", explain="off", trigger_mode="software",
                                 plugins={"modbus": section(plc.port)}))
    times: dict[str, list[float]] = {"requested": [], "judged": [], "stored": []}
    verdicts: list[str] = []

    def note(event):
        key = {TriggerRequested: "requested", PartJudged: "judged", PartStored: "stored"}[type(event)]
        times[key].append(time.perf_counter())
        if isinstance(event, PartJudged):
            verdicts.append(event.inspection.verdict.kind.value)

    station.events.subscribe(note, TriggerRequested, PartJudged, PartStored)
    wo = station.load_work_order(SAMPLES / "workorders" / "WO-1001_bracket.txt")
    cancel = threading.Event()
    line = threading.Thread(target=station.run, args=(f"video:{video}", wo), kwargs={"cancel": cancel})
    line.start()
    rows = []
    try:
        time.sleep(1.0)
        for i in range(len(parts)):
            t_edge = time.perf_counter()
            plc.set_input(TRIGGER, True)
            deadline = time.monotonic() + 120
            while len(times["stored"]) <= i and time.monotonic() < deadline:
                time.sleep(0.005)
            plc.set_input(TRIGGER, False)
            if len(times["stored"]) <= i:
                break
            kind = verdicts[i]
            t_coil = rise_after(plc, COILS[kind], times["judged"][i], 10)
            rows.append({"verdict": kind, "edge_to_trigger_ms": (times["requested"][i] - t_edge) * 1e3,
                         "trigger_to_judged_ms": (times["judged"][i] - times["requested"][i]) * 1e3,
                         "judged_to_coil_ms": (t_coil - times["judged"][i]) * 1e3 if t_coil else None,
                         "judged_to_stored_ms": (times["stored"][i] - times["judged"][i]) * 1e3,
                         "edge_to_coil_ms": (t_coil - t_edge) * 1e3 if t_coil else None})
            time.sleep(0.1)  # the pulse ends; the PLC's input is seen low before the next edge
    finally:
        cancel.set()
        line.join(60)
        station.close()
        plc.close()
    out = {k: summary([r[k] for r in rows if r[k] is not None]) for k in
           ("edge_to_trigger_ms", "trigger_to_judged_ms", "judged_to_coil_ms", "judged_to_stored_ms", "edge_to_coil_ms")}
    out["parts"] = len(rows)
    out["per_part"] = [{k: round(v, 2) if isinstance(v, float) else v for k, v in r.items()} for r in rows]
    out["verdicts"] = {k: verdicts.count(k) for k in ("OK", "NG", "REVIEW")}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=200)
    ap.add_argument("--line", action="store_true", help="also run the sample line with PLC triggers (teaches, ~2 min)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-modbus-"))
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.machine()) if Path("/proc/cpuinfo").exists() else ""
    result = {"machine": f"{cpu}, Python {platform.python_version()}",
              "when": datetime.now(UTC).isoformat(timespec="seconds"),
              "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
              "load_average_before": [round(x, 2) for x in os.getloadavg()]}
    try:
        if args.events:
            result["events"] = bench_events(args.events, tmp)
            print("PartJudged -> coil at the PLC:", result["events"]["judged_to_coil"], flush=True)
        if args.line:
            result["line"] = bench_line(tmp)
            for k, v in result["line"].items():
                if k != "per_part":
                    print(f"line {k}: {v}", flush=True)
            for i, r in enumerate(result["line"]["per_part"], 1):
                print(f"part {i:2d} {r['verdict']:6s} trigger->judged {r['trigger_to_judged_ms']:8.1f} ms", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]  # other jobs on the machine
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
