"""Helpers for the parts tests: a belt video written with OpenCV (parts enter, sit, leave), a
facade with the fast scratch backend, and running a line on a thread until a condition holds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

BELT_GREY = 24


def belt(h: int, w: int, seed: int = 0) -> np.ndarray:
    """An empty dark belt (BGR), slightly textured."""
    rng = np.random.default_rng(seed)
    return np.clip(BELT_GREY + rng.normal(0, 3, (h, w, 1)), 0, 255).astype(np.uint8).repeat(3, axis=2)


def part_on_belt(part: np.ndarray, empty: np.ndarray, shift: int) -> np.ndarray:
    """``part`` (BGR, the belt's size) moved ``shift`` px to the right on the belt (entering/leaving)."""
    out = empty.copy()
    w = part.shape[1]
    if shift >= w or shift <= -w:
        return out
    if shift >= 0:
        out[:, shift:] = part[:, : w - shift]
    else:
        out[:, : w + shift] = part[:, -shift:]
    return out


def write_belt_video(path: Path, parts: Sequence[np.ndarray], *, sit: int = 6, empty_between: int = 4,
                     steps: int = 4, lead: int = 5, fps: int = 25, blur_first: bool = True) -> Path:
    """A lossless belt video: ``lead`` empty frames, then per part: enter in ``steps`` moves from the
    left, sit ``sit`` frames (the first one motion-blurred when ``blur_first``), leave to the right in
    ``steps`` moves, ``empty_between`` empty frames."""
    h, w = parts[0].shape[:2]
    empty = belt(h, w)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), fps, (w, h))
    assert writer.isOpened(), "OpenCV cannot write FFV1 here"
    for _ in range(lead):
        writer.write(empty)
    for part in parts:
        for k in range(steps, 0, -1):
            writer.write(part_on_belt(part, empty, -k * w // (steps + 1)))
        for i in range(sit):
            frame = part_on_belt(part, empty, 0)
            if blur_first and i == 0:
                frame = cv2.GaussianBlur(frame, (0, 0), 1.2)  # settling, still a little blurred
            writer.write(frame)
        for k in range(1, steps + 1):
            writer.write(part_on_belt(part, empty, k * w // (steps + 1)))
        for _ in range(empty_between):
            writer.write(empty)
    writer.release()
    return path


def run_in_thread(facade, source, wo, **kw) -> tuple[threading.Thread, threading.Event, dict]:
    """``facade.run`` on a thread; returns (thread, cancel, out) with out['summary'] when done."""
    cancel = threading.Event()
    out: dict = {}

    def body() -> None:
        try:
            out["summary"] = facade.run(source, wo, cancel=cancel, **kw)
        except Exception as exc:  # surfaced by the test
            out["error"] = exc

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, cancel, out


def wait_for(cond: Callable[[], bool], timeout: float = 60.0) -> bool:
    """Poll ``cond`` until true or ``timeout`` (a deadline for a hung test, not a timing assertion)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return cond()
