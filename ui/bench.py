"""Measurements of the desktop app behind docs/app.md: ``python -m ui.bench [--out FILE.json]``.

1. time to first window: ``inspector app`` started as a process, "window shown after" line;
2. GUI responsiveness while the sample line folder is inspected (event-loop lag of a 20 ms
   timer, part views per second);
3. a live camera at 30 fps (a paced OpenCV capture of a video made from the sample images):
   frames delivered, frames displayed per second, parts inspected, frames dropped, lag;
4. the camera unplugged for a few seconds mid-run (the real ``CameraSource`` reconnect code,
   the device made to fail): messages shown, whether the line kept running, time from
   re-plug to the next inspected part.

Uses the real embedded model on the device from ``--device`` (default cpu). Runs offscreen
unless DISPLAY is set. Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_data"
ORDER = SAMPLES / "workorders" / "WO-1001_bracket.txt"
GOOD = SAMPLES / "parts" / "BR-100" / "good"
LINE = SAMPLES / "parts" / "BR-100" / "line"


def startup(runs: int, device: str) -> dict:
    """Start ``inspector app`` ``runs`` times; seconds to the shown window."""
    shown, since_start, wall = [], [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, XDG_CONFIG_HOME=str(Path(tmp) / "config"),
                       PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
            env.setdefault("QT_QPA_PLATFORM", "xcb" if os.environ.get("DISPLAY") else "offscreen")
            t0 = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-m", "inspector", "--data-dir", tmp, "--device", device, "app",
                                     "--quit-after-run"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True)
            for line in proc.stdout:
                m = re.search(r"window shown after ([\d.]+) s(?: \(([\d.]+) s after process start\))?", line)
                if m:
                    wall.append(time.perf_counter() - t0)
                    shown.append(float(m.group(1)))
                    if m.group(2):
                        since_start.append(float(m.group(2)))
            proc.wait(60)
    return {"runs": runs, "main_to_window_s": statistics.median(shown),
            "process_start_to_window_s": statistics.median(since_start) if since_start else None,
            "spawn_to_window_line_s": statistics.median(wall)}


class Harness:
    """A MainWindow on a temporary database with BR-100 taught, driven through its event loop."""

    def __init__(self, device: str):
        os.environ.setdefault("QT_QPA_PLATFORM", "xcb" if os.environ.get("DISPLAY") else "offscreen")
        self.tmp = tempfile.TemporaryDirectory()
        os.environ["XDG_CONFIG_HOME"] = str(Path(self.tmp.name) / "config")
        from PySide6.QtCore import QSettings

        QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(Path(self.tmp.name) / "qs"))
        from inspector.pipeline import Inspector
        from inspector.settings import Settings
        from ui.app import MainWindow, make_app
        from ui.panels import EventLoopProbe

        self.app = make_app()
        self.facade = Inspector(Settings(data_dir=Path(self.tmp.name) / "data", device=device))
        wo = self.facade.load_work_order(ORDER)
        self.facade.teach(wo.part_number, sorted(GOOD.glob("*.png")))
        self.window = MainWindow(self.facade)
        self.window.resize(1500, 920)
        self.window.show()
        self.station = self.window.station
        self.station.set_work_order(wo)
        self.probe = EventLoopProbe(self.window)

    def wait(self, ms: int) -> None:
        from PySide6.QtCore import QEventLoop, QTimer

        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def wait_run(self, timeout_ms: int = 900_000):
        from PySide6.QtCore import QEventLoop, QTimer

        loop, out = QEventLoop(), []
        self.station.run_finished.connect(lambda s: (out.append(s), loop.quit()))  # GUI-thread signal
        QTimer.singleShot(timeout_ms, loop.quit)
        loop.exec()
        return out[0] if out else None

    def close(self) -> None:
        self.window.close()
        while self.window.isVisible():
            self.wait(100)
        self.tmp.cleanup()


def lag_stats(probe) -> dict:
    s = probe.stats()
    return {k: round(v, 1) if isinstance(v, float) else v for k, v in s.items()}


def folder_run(h: Harness) -> dict:
    h.station.set_source(str(LINE))
    shown0 = h.station.part_view.shown
    h.probe.start()
    t0 = time.perf_counter()
    h.station.start()
    summary = h.wait_run()
    dt = time.perf_counter() - t0
    h.probe.stop()
    return {"parts": summary.inspected, "seconds": round(dt, 2), "parts_per_s": round(summary.inspected / dt, 2),
            "stage_ms": {k: round(v, 1) for k, v in summary.stage_ms.items()},
            "part_views_per_s": round((h.station.part_view.shown - shown0) / dt, 2),
            "event_loop_lag_ms": lag_stats(h.probe), "timer_ticks_per_s": round(h.probe.stats()["n"] / dt, 1)}


def make_video(path: Path, seconds: float = 12.0, fps: int = 30) -> Path:
    import cv2

    files = sorted(LINE.glob("*.png"))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (512, 512))
    n = int(seconds * fps)
    for i in range(n):
        writer.write(cv2.resize(cv2.imread(str(files[(i // 15) % len(files)])), (512, 512)))
    writer.release()
    return path


def paced_camera(video: Path, fps: float):
    """The real CameraSource (reconnect with backoff) on a video, paced to ``fps``, with a plug
    that can be pulled: while unplugged, reads fail and the device cannot be opened."""
    from inspector.sources.builtin import CameraSource

    class Capture:
        def __init__(self, cap, camera):
            self.cap, self.camera, self.next = cap, camera, 0.0

        def read(self):
            if not self.camera.plugged:
                return False, None
            now = time.perf_counter()
            self.next = max(self.next + 1.0 / fps, now) if self.next else now
            time.sleep(max(0.0, self.next - now))
            return self.cap.read()

        def isOpened(self):  # noqa: N802 (OpenCV naming)
            return self.cap.isOpened()

        def release(self):
            self.cap.release()

    class PacedCamera(CameraSource):
        plugged = True

        def _open_capture(self):
            if not self.plugged:
                return None
            cap = super()._open_capture()
            return Capture(cap, self) if cap is not None else None

    return PacedCamera(str(video), max_backoff_s=1.0)


def camera_run(h: Harness, seconds: float, unplug_at: float | None = None, unplug_for: float = 4.0) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cam = paced_camera(make_video(Path(tmp) / "cam.avi", seconds=max(seconds, 12.0) + 2), fps=30)
        st = h.station
        part_times: list[float] = []
        st.part_shown.connect(lambda _id: part_times.append(time.perf_counter()))  # GUI-thread signal
        n_msgs0, shown0, posted0 = len(st.status_log.messages), st.live.shown, st.runner.mailbox.posted
        h.probe.start()
        t0 = time.perf_counter()
        st.start(source=cam)
        events, running_during = {}, []
        if unplug_at is not None:
            h.wait(int(unplug_at * 1000))
            cam.plugged = False
            events["unplugged_at_s"] = round(time.perf_counter() - t0, 2)
            for _ in range(int(unplug_for * 10)):
                h.wait(100)
                running_during.append(st.is_running())
            cam.plugged = True
            events["replugged_at_s"] = round(time.perf_counter() - t0, 2)
        h.wait(int((t0 + seconds - time.perf_counter()) * 1000))
        st.stop()
        summary = h.wait_run(120_000)
        dt = time.perf_counter() - t0
        h.probe.stop()
        out = {"seconds": round(dt, 1), "camera_frames": st.runner.mailbox.posted - posted0,
               "camera_fps": round((st.runner.mailbox.posted - posted0) / dt, 1),
               "live_view_fps": round((st.live.shown - shown0) / dt, 1), "parts": summary.inspected,
               "dropped_frames": summary.dropped, "event_loop_lag_ms": lag_stats(h.probe)}
        if unplug_at is not None:
            rel = [t - t0 for t in part_times]
            after = [t for t in rel if t > events["replugged_at_s"]]
            during = [t for t in rel if events["unplugged_at_s"] + 0.5 < t < events["replugged_at_s"]]
            out.update(events)
            out["line_running_while_unplugged"] = all(running_during)
            out["parts_while_unplugged"] = len(during)
            out["first_part_after_replug_s"] = round(after[0] - events["replugged_at_s"], 2) if after else None
            out["messages"] = sorted(set(st.status_log.messages[n_msgs0:]))
        return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--startup-runs", type=int, default=3)
    p.add_argument("--out", help="write the results as JSON here too")
    args = p.parse_args(argv)
    results = {"startup": startup(args.startup_runs, args.device)}
    print(json.dumps(results, indent=1), flush=True)
    h = Harness(args.device)
    try:
        results["folder_run"] = folder_run(h)
        print(json.dumps(results["folder_run"], indent=1), flush=True)
        results["camera_30fps"] = camera_run(h, seconds=15)
        print(json.dumps(results["camera_30fps"], indent=1), flush=True)
        results["camera_unplugged"] = camera_run(h, seconds=16, unplug_at=5, unplug_for=4)
        print(json.dumps(results["camera_unplugged"], indent=1), flush=True)
    finally:
        h.close()
    results["platform"] = os.environ.get("QT_QPA_PLATFORM")
    results["cpus"] = os.cpu_count()
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
