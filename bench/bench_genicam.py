"""Benchmark the GenICam source against Aravis's fake GigE Vision camera on 127.0.0.1.

    python bench/bench_genicam.py [--frames 100] [--triggers 50] [--restarts 3] [--json OUT]

Measures (a) camera discovery (``Aravis.update_device_list``) and open-to-first-frame, (b) the
free-run frame rate the source delivers and frames lost (the fake streams 512x512 Mono8 at its
default 25 fps), (c) software trigger to frame (``software_trigger()`` until the frame leaves the
source: TriggerSoftware over GVCP, exposure, GVSP transfer, conversion to RGB), and (d) the gap
when the camera process is killed and started again (kill -> first frame of the new process),
with the source's default probe and backoff settings; and (e) the conversion of one buffer to RGB. Needs the plugin installed and
``arv-fake-gv-camera-0.8`` (Debian aravis-tools); 127.0.0.1:3956 must be free.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins" / "inspector-genicam" / "tests"))

from genicam_fake import FakeCamera, Reader, wait_for  # noqa: E402


class _NoSettings:
    def plugin(self, name):
        return None


def _ms(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {"median_ms": round(statistics.median(values) * 1e3, 2),
            "p95_ms": round(values[max(0, int(len(values) * 0.95) - 1)] * 1e3, 2),
            "max_ms": round(values[-1] * 1e3, 2), "n": len(values)}


def _conversion() -> dict[str, float]:
    """Milliseconds to turn one buffer into RGB (median of 20), per format and size."""
    import numpy as np
    from inspector_genicam.convert import bytes_per_pixel, to_rgb

    rng = np.random.default_rng(0)
    out = {}
    for fmt in ("Mono8", "BayerRG8", "RGB8"):
        for w, h in ((512, 512), (2448, 2048)):
            data = rng.integers(0, 256, w * h * bytes_per_pixel(fmt), dtype=np.uint8).tobytes()
            times = []
            for _ in range(20):
                t = time.perf_counter()
                to_rgb(data, w, h, fmt)
                times.append(time.perf_counter() - t)
            out[f"{fmt}_{w}x{h}_ms"] = round(statistics.median(times) * 1e3, 3)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--triggers", type=int, default=50)
    ap.add_argument("--restarts", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    from inspector_genicam.aravis import aravis_version, list_cameras
    from inspector_genicam.source import GenICamSource

    out_convert = _conversion()
    fake = FakeCamera("BENCH1", Path("/tmp")).start()
    out: dict = {"machine": platform.machine(), "python": platform.python_version(), "aravis": aravis_version(),
                 "camera": "arv-fake-gv-camera-0.8 -i 127.0.0.1, 512x512 Mono8"}
    try:
        t = time.perf_counter()
        list_cameras()
        out["discovery_s"] = round(time.perf_counter() - t, 3)

        src = GenICamSource("Aravis-Fake-BENCH1", settings=_NoSettings(), pixel_format="Mono8")
        t = time.perf_counter()
        with src:
            frames = iter(src)
            next(frames)
            out["open_to_first_frame_s"] = round(time.perf_counter() - t, 3)
            t = time.perf_counter()
            for _ in range(args.frames):
                next(frames)
            seconds = time.perf_counter() - t
            out["free_run"] = {"frames": args.frames, "fps": round(args.frames / seconds, 2),
                               "dropped": src.dropped, "underruns": src.underruns}

        src = GenICamSource("127.0.0.1", settings=_NoSettings(), pixel_format="Mono8")
        src.set_trigger_mode("software")
        latencies = []
        with src:
            reader = Reader(src).start()
            for i in range(args.triggers):
                t = time.perf_counter()
                src.software_trigger()
                if not reader.wait_count(i + 1, timeout=10):
                    raise SystemExit(f"trigger {i + 1} gave no frame")
                latencies.append(time.perf_counter() - t)
            reader.stop()
        out["software_trigger_to_frame"] = _ms(latencies)

        gaps, detected = [], []
        src = GenICamSource("Aravis-Fake-BENCH1", settings=_NoSettings(), pixel_format="Mono8")
        lost_at: list[float] = []
        src.on_error = lambda err: lost_at.append(time.perf_counter())
        with src:
            reader = Reader(src).start()
            reader.wait_count(3)
            for _ in range(args.restarts):
                n, lost_at[:] = reader.count(), []
                t = time.perf_counter()
                fake.restart()
                if not reader.wait_count(n + 1, timeout=120):
                    raise SystemExit("no frame after a restart")
                gaps.append(time.perf_counter() - t)
                if lost_at:
                    detected.append(lost_at[0] - t)
                wait_for(lambda n=n: reader.count() > n + 3, 10)
            reader.stop()
        out["restart_to_first_frame"] = _ms(gaps)
        out["restart_to_loss_reported"] = _ms(detected) if detected else None
        out["settings"] = {"probe_s": src.options.probe_s, "stall_s": src.options.stall_s,
                           "max_backoff_s": src.options.max_backoff_s, "buffers": src.options.buffers}
    finally:
        fake.stop()
    out["convert_to_rgb"] = out_convert
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
