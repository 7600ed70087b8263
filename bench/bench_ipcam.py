"""Benchmark the IP camera source against a real RTSP server (gst-rtsp-server) and a real HTTP MJPEG
server on 127.0.0.1, serving the 512x512 sample parts.

    python bench/bench_ipcam.py [--seconds 15] [--fps 25] [--restarts 3] [--json OUT]

Measures (a) open to first frame, (b) latency: from the server pushing a frame (just before
``appsrc`` push-buffer, so JPEG encoding, RTP, FFmpeg's demuxing and decoding, the colour
conversion and the hand-over from the reader thread are all inside) to the source yielding it to
a consumer that takes every frame, for RTSP over TCP (with and without ``low_delay``), RTSP over
UDP and HTTP MJPEG (from the server writing the part), and frames the consumer missed; (c) the
gap when the server process is killed and started again at once (kill -> first frame of the new
process, default backoff). Needs the plugin installed and the Debian GStreamer packages
(.ci/debian-deps).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins" / "inspector-ipcam" / "tests"))

from ipcam_stream import MjpegServer, RtspServer, read_stamp  # noqa: E402


class _NoSettings:
    def plugin(self, name):
        return None


def _ms(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {
        "median_ms": round(statistics.median(values), 2),
        "p95_ms": round(values[max(0, int(len(values) * 0.95) - 1)], 2),
        "max_ms": round(values[-1], 2),
        "n": len(values),
    }


def _latency(url: str, pushed, seconds: float, **options) -> dict:
    from inspector_ipcam import IPCamSource

    src = IPCamSource(url, settings=_NoSettings(), **options)
    t0 = time.monotonic()
    got: list[tuple[int, int]] = []
    with src:
        frames = iter(src)
        next(frames)
        first_s = time.monotonic() - t0
        end = time.monotonic() + seconds
        for frame in frames:
            got.append((read_stamp(frame.image), time.monotonic_ns()))
            if time.monotonic() > end:
                break
    push = pushed()
    lat = [(ns - push[n]) / 1e6 for n, ns in got if n in push]
    numbers = [n for n, _ in got]
    missed = (numbers[-1] - numbers[0] + 1 - len(numbers)) if numbers else 0
    return {
        "open_to_first_frame_s": round(first_s, 3),
        "latency": _ms(lat),
        "frames": len(numbers),
        "missed_by_consumer": missed,
        "dropped": src.dropped,
    }


def _restart_gap(tmp: Path, restarts: int, fps: float) -> dict:
    from inspector_ipcam import IPCamSource

    server = RtspServer(tmp, fps=fps).start()
    gaps = []
    try:
        src = IPCamSource(server.url(), settings=_NoSettings())
        with src:
            frames = iter(src)
            next(frames)
            for _ in range(restarts):
                before = src.stats()["losses"]
                killed = time.monotonic()
                server.restart()  # kill, then start again at once (returns when it listens)
                for _frame in frames:  # frames still buffered from the old process come first
                    if src.stats()["losses"] > before:
                        break
                gaps.append(time.monotonic() - killed)
    finally:
        server.stop()
    return {"median_s": round(statistics.median(gaps), 2), "max_s": round(max(gaps), 2), "n": len(gaps)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=15.0)
    p.add_argument("--fps", type=float, default=25.0)
    p.add_argument("--restarts", type=int, default=3)
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    out: dict = {"machine": platform.platform(), "fps": args.fps, "seconds": args.seconds}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for name, options in (
            ("rtsp_tcp", {}),
            ("rtsp_tcp_no_low_delay", {"low_delay": False}),
            ("rtsp_udp", {"transport": "udp"}),
        ):
            (tmp / name).mkdir()
            server = RtspServer(tmp / name, fps=args.fps).start()
            try:
                out[name] = _latency(server.url(), server.pushes, args.seconds, **options)
            finally:
                server.stop()
            print(name, json.dumps(out[name]), flush=True)
        mjpeg = MjpegServer(fps=args.fps).start()
        try:
            out["http_mjpeg"] = _latency(mjpeg.url, lambda: dict(mjpeg.pushed), args.seconds)
        finally:
            mjpeg.stop()
        print("http_mjpeg", json.dumps(out["http_mjpeg"]), flush=True)
        out["restart_gap"] = _restart_gap(tmp, args.restarts, args.fps)
        print("restart_gap", json.dumps(out["restart_gap"]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
