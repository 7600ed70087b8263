"""The worker side of the Dask engine: one model backend per worker, and the task functions.

Imported on the client (to register the plugin and name the tasks) and on every worker (to run
them); it imports ``distributed``, so only the Dask engine imports this module.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any
from urllib.parse import urlsplit

from distributed import WorkerPlugin, get_worker

from inspector.domain import WorkOrder
from inspector.reinspect.work import BackendSpec, PartImage, Rejudged, rejudge_image
from inspector.sources import ImageLimits

PLUGIN = "inspector-backend"
log = logging.getLogger(__name__)


def host_of(address: str) -> str:
    """'tcp://10.0.0.5:40211' -> '10.0.0.5' (in-process workers: their 'inproc://' host)."""
    return urlsplit(address).hostname or address


class BackendPlugin(WorkerPlugin):
    """Holds one model backend per worker, built on first use (in a task thread, not the worker's
    event loop) and kept for every later part of the run; dropped when the worker closes."""

    def __init__(self, spec: BackendSpec) -> None:
        self.spec = spec
        self._backend: Any = None
        self._lock = threading.Lock()
        self.host = ""

    def __getstate__(self) -> dict[str, Any]:
        return {"spec": self.spec}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["spec"])

    def setup(self, worker: Any) -> None:
        self.host = host_of(worker.address)
        if os.environ.get("MALLOC_TRIM_THRESHOLD_"):  # set by Dask's nanny unless configured away
            log.warning("worker %s: MALLOC_TRIM_THRESHOLD_ is set: the analysis runs about 2x slower; start "
                        "workers with --no-nanny or without it in distributed.nanny.pre-spawn-environ "
                        "(docs/reliability.md)", worker.address)

    def teardown(self, worker: Any) -> None:
        self._backend = None

    def backend(self) -> Any:
        with self._lock:
            if self._backend is None:
                self._backend = self.spec.build(self.host)
            return self._backend


def _plugin() -> BackendPlugin:
    return get_worker().plugins[PLUGIN]


def load_on_worker(item: PartImage, work_order: WorkOrder, limits: ImageLimits | None) -> str:
    """Build this worker's backend now (a model that cannot load fails the run at once) and judge
    one part, discarded: the part's reference and the first passes' set-up are paid before the run."""
    backend = _plugin().backend()
    rejudge_image(backend, item, work_order, limits)
    return f"{backend.info().name}@{get_worker().address}"


def judge_on_worker(item: PartImage, work_order: WorkOrder, limits: ImageLimits | None) -> Rejudged:
    """Re-judge one part on this worker with its backend (``work.rejudge_image``)."""
    return rejudge_image(_plugin().backend(), item, work_order, limits, worker=get_worker().address)
