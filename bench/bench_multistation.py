"""Several stations storing parts into one PostgreSQL server at once (issue 12, point 7a).

    python bench/bench_multistation.py                                  # 4 stations x 5 parts/s x 60 s
    python bench/bench_multistation.py --stations 4 --rate 10 --seconds 120 --json out.json
    python bench/bench_multistation.py --url postgresql+psycopg://user@host/db   # an existing server

Each station is its own process (``--worker``): a real ``Inspector`` facade with its own data
folder and image store, loading the same work order and calling ``inspect_frame`` for every part
on a fixed schedule (``--rate`` parts per second, all stations started together). Each part goes
the station's whole store path: judge, image file (fsync), the record in one transaction with its
``inspection.recorded`` audit event (the chain's advisory lock is shared by all stations), the part
id from the shared counter. The model is replaced by a fixed detector (a dark bar in every 10th
image is a scratch): what is measured is the store, not the analysis.

Afterwards the parent checks the database against what every station reported: **lost** (reported
stored, not in the database), **duplicated** (an id or a part id twice), records without their
audit event, and the audit chain (``verify``, images left out: each station has its own folder).
It prints one JSON object: parts, lost, duplicated, store latency p50/p95/p99/max (the
``store`` timing of ``inspect_frame``: PNG encoding of the camera array, image file with fsync,
the transaction), the achieved rate over the stations' wall time, and how late parts started
(a station that cannot keep the rate falls behind: then the rate it achieved is the figure).

Without ``--url`` a private PostgreSQL server is started (Debian binaries, via tests/pg.py) with
``fsync`` and ``synchronous_commit`` on, as a station's server would run. The results are in
docs/reliability.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

ORDER = HERE.parent / "sample_data" / "workorders" / "WO-1001_bracket.txt"


class BarBackend:
    """A fixed stand-in model: every dark pixel run is a scratch (region and sizes by the model's own code)."""

    def load(self, device: str) -> None:
        pass

    def is_taught(self, part_number: str) -> bool:
        return True

    def info(self):
        from inspector.domain import ModelInfo

        return ModelInfo("bench-bar", "1", "0" * 64)

    def analyze(self, image, work_order):
        import numpy as np

        from inspector.domain import Analysis, Finding
        from inspector.model.measure import region_from_mask

        h, w = image.shape[:2]
        dark = image.max(axis=2) < 40
        findings = []
        px = work_order.pixel_size_mm or 0.05
        if dark.any():
            r = region_from_mask(dark, np.full((h, w), 3.0, np.float32))
            findings.append(Finding(r, "scratch", 0.95, length_mm=r.length_px * px, width_mm=r.width_px * px,
                                    area_mm2=r.area_px * px * px))
        return Analysis(np.zeros((h, w), np.float32), 3.0 if findings else 0.1, findings,
                        {"threshold": 1.0, "review_low": 0.8}, self.info())

    def explain(self, image, analysis, verdict, work_order):
        from inspector.domain import Explanation

        return Explanation("bench", fallback=True, generator="template")


def part_image(station: str, k: int, size: int):
    import numpy as np

    rng = np.random.default_rng(abs(hash((station, k))) % (2**32))
    img = (rng.random((size * 3 // 4, size, 3)) * 80 + 120).astype(np.uint8)
    if k % 10 == 3:
        img[size // 4 : size // 4 + 3, 10 : size // 2] = 5  # a scratch: NG
    return img


def worker(args: argparse.Namespace) -> int:
    """One station: wait for the common start, store ``rate`` parts per second for ``seconds``."""
    import cv2

    from inspector.domain import Frame
    from inspector.pipeline import Inspector
    from inspector.settings import Settings

    settings = Settings(data_dir=Path(args.data), database_url=args.url, station=args.station, explain="off",
                        device="cpu")
    out = {"station": args.station, "ids": [], "part_ids": [], "store_ms": [], "late_ms": [], "spooled": 0,
           "errors": []}
    with Inspector(settings, backend=BarBackend()) as f:
        wo = f.load_work_order(ORDER)
        f.store.count_inspections()  # connection warm before the clock starts
        while time.time() < args.start:
            time.sleep(0.005)
        n = int(args.rate * args.seconds)
        for k in range(n):
            due = args.start + k / args.rate
            now = time.time()
            if due > now:
                time.sleep(due - now)
            out["late_ms"].append(max(0.0, (time.time() - due) * 1e3))  # the image is made after this
            image = part_image(args.station, k, args.size)
            encoded = cv2.imencode(".png", image[:, :, ::-1])[1].tobytes() if args.encoded else None
            frame = Frame(image, source=f"bench:{args.station}", index=k, name=f"{args.station}-{k:06d}",
                          encoded=encoded, ext=".png" if encoded else "")
            try:
                res = f.inspect_frame(frame, wo)
            except Exception as exc:  # noqa: BLE001 - counted, the station goes on
                out["errors"].append(f"{type(exc).__name__}: {exc}")
                continue
            out["ids"].append(res.inspection.id)
            out["part_ids"].append(res.inspection.part_id)
            out["store_ms"].append(res.inspection.timings_ms["store"])
            out["spooled"] += int(bool(res.spooled))
        out["wall_s"] = time.time() - args.start
    Path(args.out).write_text(json.dumps(out))
    return 0


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return round(s[min(len(s) - 1, int(q * len(s)))], 2) if s else 0.0


def check(url: str, reports: list[dict]) -> dict:
    """What the database holds against what the stations reported."""
    from sqlalchemy import func, select

    from inspector.store import Store
    from inspector.store.tables import InspectionRow
    from inspector.trace import Audit

    with tempfile.TemporaryDirectory() as tmp, Store.open(url, Path(tmp) / "images") as store:
        with store.engine.connect() as conn:
            rows = conn.execute(select(InspectionRow.id, InspectionRow.part_id, InspectionRow.station)).all()
            t = _events_table()
            n_events = conn.scalar(select(func.count()).select_from(t).where(t.c.action == "inspection.recorded"))
        result = Audit(store).verify(images=False)
    ids = [i for r in reports for i in r["ids"]]
    stored = {r.id for r in rows}
    part_ids = [r.part_id for r in rows]
    return {
        "reported": len(ids), "stored": len(rows), "lost": len(set(ids) - stored),
        "duplicated_ids": len(ids) - len(set(ids)), "duplicated_part_ids": len(part_ids) - len(set(part_ids)),
        "unreported_in_db": len(stored - set(ids)), "recorded_events": int(n_events or 0),
        "per_station": {s: sum(1 for r in rows if r.station == s) for s in sorted({r.station for r in rows})},
        "audit_ok": result.ok, "audit_events": result.n_events, "audit_problems": result.problems[:5],
    }


def _events_table():
    from inspector.store.trace_tables import AuditEventRow

    return AuditEventRow.__table__


def durable_server():
    """A private PostgreSQL server with fsync and synchronous commit on (tests/pg.py's, restarted durable)."""
    sys.path.insert(0, str(HERE.parent / "tests"))
    from pg import PostgresServer, find_bin_dir

    class Durable(PostgresServer):
        def start(self) -> None:
            super().start()
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")
            opts = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=on -c synchronous_commit=on " \
                   "-c max_connections=100"
            self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", opts, "-w", "-t", "60", "start")

    bins = find_bin_dir()
    if bins is None:
        raise SystemExit("no PostgreSQL binaries: apt-get install -y postgresql, or give --url")
    server = Durable(bins)
    server.start()
    return server


def run(stations: int, rate: float, seconds: float, size: int, url: str | None, encoded: bool = False) -> dict:
    server = None
    if url is None:
        server = durable_server()
        url = server.create_database()
    try:
        from inspector.store import Store

        with tempfile.TemporaryDirectory() as tmp:
            with Store.open(url, Path(tmp) / "images"):
                pass  # the schema once, before the stations start
            start = time.time() + 8.0 + stations  # every station imported and connected by then
            procs, outs = [], []
            for i in range(stations):
                out = Path(tmp) / f"st-{i}.json"
                outs.append(out)
                procs.append(subprocess.Popen([
                    sys.executable, __file__, "--worker", "--url", url, "--station", f"st-{i}",
                    "--rate", str(rate), "--seconds", str(seconds), "--size", str(size), "--start", str(start),
                    "--data", str(Path(tmp) / f"st-{i}"), "--out", str(out), *(["--encoded"] if encoded else [])]))
            codes = [p.wait() for p in procs]
            reports = [json.loads(o.read_text()) for o in outs if o.is_file()]
            store_ms = [v for r in reports for v in r["store_ms"]]
            late = [v for r in reports for v in r["late_ms"]]
            summary = {
                "stations": stations, "rate_per_station": rate, "seconds": seconds, "image_px": [size, size * 3 // 4],
                "frames": "PNG bytes" if encoded else "arrays (PNG-encoded by the station)",
                "exit_codes": codes, "errors": [e for r in reports for e in r["errors"]][:5],
                "spooled": sum(r["spooled"] for r in reports),
                "store_ms": {"p50": pct(store_ms, 0.5), "p95": pct(store_ms, 0.95), "p99": pct(store_ms, 0.99),
                             "max": round(max(store_ms), 2) if store_ms else 0.0,
                             "mean": round(statistics.fmean(store_ms), 2) if store_ms else 0.0},
                "late_ms": {"p50": pct(late, 0.5), "p99": pct(late, 0.99)},
                "wall_s": round(max((r.get("wall_s", seconds) for r in reports), default=seconds), 1),
                "achieved_parts_per_s": round(len(store_ms) / max((r.get("wall_s", seconds) for r in reports),
                                                                  default=seconds), 2),
                **check(url, reports),
                "cpus": os.cpu_count(), "load_avg": os.getloadavg(),
            }
            return summary
    finally:
        if server is not None:
            server.stop()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--stations", type=int, default=4)
    p.add_argument("--rate", type=float, default=5.0, help="parts per second per station")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--size", type=int, default=640, help="image width in px (height 3/4 of it)")
    p.add_argument("--encoded", action="store_true",
                   help="frames carry their PNG file bytes (as from files or a hot folder): stored as they are, "
                        "so the store time has no PNG encoding in it")
    p.add_argument("--url", help="an existing PostgreSQL database (default: a private durable server)")
    p.add_argument("--json", type=Path, help="also write the result here")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    for name in ("--station", "--start", "--data", "--out"):
        p.add_argument(name, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        args.start = float(args.start)
        return worker(args)
    result = run(args.stations, args.rate, args.seconds, args.size, args.url, args.encoded)
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    ok = result["lost"] == 0 and result["duplicated_ids"] == 0 and result["duplicated_part_ids"] == 0 \
        and result["audit_ok"] and not result["errors"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
