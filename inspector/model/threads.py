"""A thread budget for the model: the analysis and the explainer must not fight over the cores.

torch's intra-op pool is one per process (``torch.set_num_threads`` is global), and OpenMP
threads that wait at a barrier for a peer descheduled by another busy thread make a 2-thread
forward pass 30-70x slower on a 2-core station (measured: docs/model.md). So when explanations
run beside the line, each torch call gets half the cores (1 of 2): the line thread and the
explainer thread then each run on a core of their own, at the speed of a 1-thread pass. With
explanations off, or with ``Settings.torch_threads`` set, the numbers are as asked.
"""

from __future__ import annotations

import os


def thread_budget(explain: str, requested: int = 0, cores: int | None = None) -> int:
    """Intra-op threads for torch (and OpenCV): ``requested`` when > 0, else half the cores
    when explanations run beside the line (``explain`` not 'off'), else all of them."""
    cores = max(1, cores or os.cpu_count() or 1)
    if requested and requested > 0:
        return min(int(requested), cores)
    return max(1, cores // 2) if explain != "off" else cores


def apply_thread_budget(threads: int) -> int:
    """Set torch's intra-op threads and OpenCV's to ``threads``; returns it."""
    import cv2
    import torch

    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    return threads
