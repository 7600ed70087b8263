"""Benchmark: peak memory and time of a lot PDF report (and exports) for a synthetic lot.

    python bench/bench_report.py                      # 2,000 parts, 8 % NG + 4 % REVIEW, in memory
    python bench/bench_report.py --ng-rate 1.0        # worst case: every part flagged and pictured
    python bench/bench_report.py --backend store      # through a real SQLite Store + image folder
    python bench/bench_report.py --exports            # also time csv/xlsx/json exports

Each run is one process; peak RSS is the process high-water mark (ru_maxrss) after the data are
set up ("baseline") and after the report ("peak"). Images are synthetic 1280x960 RGB made
from the content hash on every read (the memory backend) or stored as JPEG files (store).
Prints one JSON line. Results are recorded in docs/reports.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from inspector.reports.synthetic import copy_to_store, synthetic_lot  # noqa: E402


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", type=int, default=2000)
    ap.add_argument("--ng-rate", type=float, default=0.08)
    ap.add_argument("--review-rate", type=float, default=0.04)
    ap.add_argument("--image", default="1280x960", help="WxH of the synthetic images")
    ap.add_argument("--backend", choices=("memory", "store"), default="memory")
    ap.add_argument("--gallery-limit", type=int, default=None)
    ap.add_argument("--exports", action="store_true")
    ap.add_argument("--keep", help="copy the PDF here")
    ap.add_argument("--make-store", metavar="DIR", help=argparse.SUPPRESS)
    a = ap.parse_args()
    w, h = (int(v) for v in a.image.lower().split("x"))
    review = min(a.review_rate, max(0.0, 1.0 - a.ng_rate))
    if a.make_store or a.backend == "memory":
        mem = synthetic_lot(a.parts, ng_rate=a.ng_rate, review_rate=review, image_size=(w, h), seed=1)
    if a.make_store:
        from inspector.store import Store

        with Store.open(f"sqlite:///{a.make_store}/bench.db", f"{a.make_store}/images") as st:
            copy_to_store(mem, st, image_format="jpg")
        return
    from inspector.reports.export import export
    from inspector.reports.pdf import build_work_order_report

    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        source, store = (mem if a.backend == "memory" else None), None
        setup_s = 0.0
        if a.backend == "store":
            from inspector.store import Store

            # Fill the store in a child process so its memory does not count as this one's peak.
            t = time.perf_counter()
            subprocess.run([sys.executable, __file__, "--make-store", tmp, "--parts", str(a.parts), "--ng-rate",
                            str(a.ng_rate), "--review-rate", str(review), "--image", a.image], check=True)
            setup_s = time.perf_counter() - t
            store = Store.open(f"sqlite:///{tmp}/bench.db", f"{tmp}/images")
            source = store
        baseline = rss_mib()
        t = time.perf_counter()
        info = build_work_order_report(source, "WO-1001", os.path.join(tmp, "lot.pdf"), generated_by="bench",
                                       gallery_limit=a.gallery_limit)
        report_s = time.perf_counter() - t
        peak = rss_mib()
        size = os.path.getsize(info.path)
        if a.keep:
            import shutil

            shutil.copy(info.path, a.keep)
        result = {
            "parts": a.parts, "flagged": info.n_flagged, "pictured": info.n_gallery, "backend": a.backend,
            "image": a.image, "pages": info.pages, "pdf_mib": round(size / 2**20, 1),
            "report_s": round(report_s, 1), "setup_s": round(setup_s, 1), "rss_baseline_mib": round(baseline),
            "rss_peak_mib": round(peak), "rss_growth_mib": round(peak - baseline),
            "python": platform.python_version(), "cpus": os.cpu_count(),
        }
        if a.exports:
            for fmt, name in (("csv", "x.csv"), ("xlsx", "x.xlsx"), ("json", "x.json")):
                t = time.perf_counter()
                export(source, os.path.join(tmp, name), fmt, order_id="WO-1001",
                       tables=("inspections", "findings", "reviews", "checks"))
                result[f"export_{fmt}_s"] = round(time.perf_counter() - t, 2)
            result["rss_after_exports_mib"] = round(rss_mib())
        if store is not None:
            store.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
