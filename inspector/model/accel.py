"""CUDA fast path: memory-mode scoring of a fixed-shape batch captured in a CUDA graph.

Eager PyTorch runs the ~60 small kernels of the backbone one launch at a time, which bounds
batch-1 latency by the CPU (several ms); a CUDA graph replays them in one call. A
:class:`GraphScorer` owns a pinned host buffer and a device buffer for (B, H, W, 3) uint8
images, the captured graph (upload -> resize -> backbone (fp16, channels-last) -> nearest-
neighbour distances -> smoothing -> working-resolution map) and pinned outputs. One scorer
per (reference, batch, image size); the last batch of a run is padded to B.

Disabled with env ``INSPECTOR_CUDA_GRAPHS=0`` (eager CUDA is then used).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch


def graphs_enabled() -> bool:
    """True unless env INSPECTOR_CUDA_GRAPHS is '0', 'false' or 'no'."""
    return os.environ.get("INSPECTOR_CUDA_GRAPHS", "1").strip().lower() not in ("0", "false", "no")


class GraphScorer:
    """A captured ``fn(uint8 (B,H,W,3) on device) -> (map (B,h,w), scores (B,))`` for one shape."""

    def __init__(self, fn: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]], batch: int,
                 height: int, width: int, device: torch.device):
        import torch

        self.batch = batch
        self.inp = torch.zeros((batch, height, width, 3), dtype=torch.uint8, device=device)
        self.host_in = torch.zeros((batch, height, width, 3), dtype=torch.uint8).pin_memory()
        side = torch.cuda.Stream(device=device)
        side.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(side), torch.inference_mode():
            for _ in range(3):  # warm-up: cuDNN picks its algorithms outside the capture
                fn(self.inp)
        torch.cuda.current_stream(device).wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph), torch.inference_mode():
            self.out_map, self.out_score = fn(self.inp)
        self.host_map = torch.empty(self.out_map.shape, dtype=self.out_map.dtype).pin_memory()
        self.host_score = torch.empty(self.out_score.shape, dtype=self.out_score.dtype).pin_memory()
        self.device = device
        self._lock = threading.Lock()

    def __call__(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Score up to ``batch`` same-size images -> (maps (n,h,w) float32, scores (n,) float32)."""
        import torch

        n = len(images)
        if n > self.batch:
            raise ValueError(f"{n} images for a graph captured at batch {self.batch}")
        with self._lock:
            buf = self.host_in.numpy()
            for i, im in enumerate(images):
                buf[i] = im
            self.inp.copy_(self.host_in, non_blocking=True)
            self.graph.replay()
            self.host_map.copy_(self.out_map, non_blocking=True)
            self.host_score.copy_(self.out_score, non_blocking=True)
            torch.cuda.current_stream(self.device).synchronize()
            return self.host_map.numpy()[:n].astype(np.float32), self.host_score.numpy()[:n].astype(np.float32)
