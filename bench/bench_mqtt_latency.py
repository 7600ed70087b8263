"""Publish latency of the MQTT plugin: PartStored on the station's bus -> the verdict received by an
MES subscriber, through a real Mosquitto on 127.0.0.1.

    python bench/bench_mqtt_latency.py [--parts 22] [--replay 500] [--json OUT]

Teaches the sample part BR-100 (12 good images, CPU), starts ``mosquitto`` on a free port,
opens a station with ``plugins: {mqtt: {...}}`` and a paho subscriber (QoS 1), then

1. runs the first ``--parts`` sample line images through the real line (the embedded model on
   CPU): one latency per part, parts arriving at the line's pace;
2. with ``--replay N``: publishes N ``PartStored`` events for those stored records (new ids) on
   the station's bus as fast as it can: the latency under a burst (outbox writes, one SQLite
   transaction each with synchronous=FULL, queueing behind each other).

The PartStored time is taken by a synchronous subscriber on the bus (it runs a few microseconds
after the plugin's background queue received the event); the receive time in the subscriber's
``on_message``. Both are ``time.perf_counter`` in this one process.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins" / "inspector-mqtt" / "tests"))

from mqtt_broker import Broker, Listener, wait_for  # noqa: E402

from inspector.events import PartStored  # noqa: E402
from inspector.line import PartResult  # noqa: E402
from inspector.pipeline import Inspector  # noqa: E402
from inspector.settings import Settings  # noqa: E402

SAMPLES = ROOT / "sample_data"


def summary(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)
    return {"n": len(ms), "median_ms": round(statistics.median(ms), 2),
            "p95_ms": round(ms[min(len(ms) - 1, int(0.95 * len(ms)))], 2), "max_ms": round(ms[-1], 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--parts", type=int, default=22)
    ap.add_argument("--replay", type=int, default=0)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    load_before = round(os.getloadavg()[0], 2)  # other work on the machine shares its cores
    tmp = Path(tempfile.mkdtemp(prefix="bench-mqtt-"))
    (tmp / "broker").mkdir()
    broker = Broker(tmp / "broker").start()
    try:
        data = tmp / "data"
        settings = Settings(data_dir=data, device="cpu", station="bench", explain="off",
                            plugins={"mqtt": {"port": broker.port}})
        facade = Inspector(settings)
        wo = facade.load_work_order(SAMPLES / "workorders" / "WO-1001_bracket.txt")
        facade.teach(wo.part_number, sorted((SAMPLES / "parts" / "BR-100" / "good").glob("*.png")))
        mes = Listener(broker.port, topic="inspector/bench/result", client_id="bench-mes", clean=True)
        stored_at: dict[str, float] = {}
        facade.events.subscribe(lambda e: stored_at.setdefault(e.inspection.id, time.perf_counter()), PartStored)

        def received() -> dict[str, float]:
            return {json.loads(p)["inspection_id"]: t for _, p, _, t in list(mes.messages)}

        folder = tmp / "line"
        folder.mkdir()
        for p in sorted((SAMPLES / "parts" / "BR-100" / "line").glob("*.png"))[:args.parts]:
            shutil.copy(p, folder / p.name)
        t0 = time.perf_counter()
        run = facade.run(str(folder), wo)
        line_s = time.perf_counter() - t0
        wait_for(lambda: len(received()) >= run.inspected, 60, "every line result")
        got = received()
        line = [(got[i] - stored_at[i]) * 1e3 for i in stored_at]
        out = {"host": platform.node(), "python": platform.python_version(), "cpu_count": os.cpu_count(),
               "load_avg_1m_before_after": [load_before, round(os.getloadavg()[0], 2)],
               "line": {**summary(line), "parts_per_s": round(run.inspected / line_s, 2)}}

        if args.replay:
            records = facade.query(limit=None)
            t0 = time.perf_counter()
            for k in range(args.replay):
                insp = dataclasses.replace(records[k % len(records)], id=uuid.uuid4().hex)
                facade.events.publish(PartStored("replay", PartResult(insp, None, None)))
            publish_s = time.perf_counter() - t0
            wait_for(lambda: len(received()) >= run.inspected + args.replay, 300, "every replayed result")
            got = received()
            burst = [(got[i] - stored_at[i]) * 1e3 for i in stored_at if i in got][run.inspected:]
            done_s = max(got.values()) - t0
            out["burst"] = {**summary(burst), "events": args.replay, "publish_s": round(publish_s, 3),
                            "all_received_s": round(done_s, 3), "msgs_per_s": round(args.replay / done_s, 1)}
        mes.close()
        facade.close()
    finally:
        broker.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
