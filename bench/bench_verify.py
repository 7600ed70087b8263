"""How fast ``audit verify`` checks a sealed archive (issue 12, point 4).

    python bench/bench_verify.py                 # 5,000 records in a temporary SQLite database
    python bench/bench_verify.py --records 20000 --images 200

Records are synthetic (``inspector.store.samples``: 640x480 images, 0-5 findings each), saved
through a store with the audit seal installed (one ``inspection.recorded`` event each) after
the work order was loaded with its audited ``workorder.loaded``. Prints one JSON object: the
time to store them, and ``Audit.verify`` with and without hashing the images. Figures in
docs/reliability.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

from inspector.store import Store  # noqa: E402
from inspector.store.samples import sample_image, sample_inspection, sample_work_order  # noqa: E402
from inspector.trace import Audit  # noqa: E402
from inspector.trace.changes import record_work_order  # noqa: E402
from inspector.trace.seal import install  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--records", type=int, default=5000)
    p.add_argument("--images", type=int, default=50, help="distinct images the records share")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "inspector.db", Path(tmp) / "images")
        install(store)
        rng = np.random.default_rng(0)
        record_work_order(store, sample_work_order(), "bench")
        shas = [store.images.put_array(sample_image(rng)) for _ in range(args.images)]
        t0 = time.perf_counter()
        for k in range(0, args.records, 100):
            n = min(100, args.records - k)
            store.save_inspections([sample_inspection(rng, shas[(k + i) % len(shas)],
                                                      n_findings=(0, 0, 0, 1, 2, 3, 5)[(k + i) % 7])
                                    for i in range(n)])
        out = {"records": args.records, "images": args.images, "store_s": round(time.perf_counter() - t0, 2)}
        for images in (False, True):
            t0 = time.perf_counter()
            result = Audit(store).verify(images=images)
            dt = time.perf_counter() - t0
            out["verify_images" if images else "verify"] = {
                "ok": result.ok, "events": result.n_events, "s": round(dt, 2),
                "records_per_s": round(args.records / dt)}
        store.close()
    out["load_avg"] = os.getloadavg()
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
