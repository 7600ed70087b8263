"""Where the analysis of a re-inspection runs: this process (``local``) or Dask workers (``dask``).

Both engines feed the same :func:`~inspector.reinspect.work.rejudge_image` with the parts' stored
images and yield :class:`~inspector.reinspect.work.Rejudged` results; neither writes anything (the
client records the results in one place). ``DaskEngine`` talks to a running scheduler (an
address, production), or starts a ``distributed.LocalCluster`` on this machine, or uses a given
``Client`` (tests). A worker builds its backend once (:class:`BackendPlugin`) and keeps it; the
client keeps at most ``2 x workers`` parts in flight, so memory stays bounded for any lot size.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from inspector.domain import WorkOrder
from inspector.reinspect.plan import ReinspectError
from inspector.reinspect.work import BackendSpec, PartImage, Rejudged, rejudge_image
from inspector.sources import ImageLimits


class LocalEngine:
    """Analyse in this process with ``backend`` (the station's own, or one built for ``--model``)."""

    name = "local"
    workers = 1

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        getattr(backend, "warm_up", lambda: None)()  # as the line does before its first part
        self.load_s = 0.0  # before the plan's clock starts

    def run(self, items: Iterable[PartImage], work_order: WorkOrder, limits: ImageLimits | None,
            cancel: Callable[[], bool] | None = None, warm: PartImage | None = None) -> Iterator[Rejudged]:
        for item in items:
            if cancel is not None and cancel():
                return
            yield rejudge_image(self.backend, item, work_order, limits, worker="local")

    def close(self) -> None:
        pass


def worker_environ() -> dict:
    """Dask's environment for worker processes without ``MALLOC_TRIM_THRESHOLD_``: setting it turns
    off glibc's adaptive mmap threshold, and the model then re-maps its large buffers on every part
    (measured: 2.2-2.7x slower analysis per part; docs/reliability.md)."""
    import dask

    env = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {})
    env.pop("MALLOC_TRIM_THRESHOLD_", None)
    return env


class DaskEngine:
    """Analyse on Dask distributed workers (see the module docstring)."""

    name = "dask"

    def __init__(self, spec: BackendSpec, *, address: str | None = None, client: Any = None,
                 n_workers: int = 2, processes: bool = True) -> None:
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - distributed is a declared dependency
            raise ReinspectError("--engine dask needs the 'distributed' package (pip install "
                                 "'inspector[distributed]')") from exc
        self._own: list[Any] = []
        try:
            if client is None and address:
                client = Client(address)  # waits distributed.comm.timeouts.connect (dask config, 30 s)
                self._own.append(client)
            elif client is None:
                where = {"host": "127.0.0.1"} if processes else {}  # in-process workers talk inproc://
                with dask.config.set({"distributed.nanny.pre-spawn-environ": worker_environ()}):
                    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=processes,
                                           dashboard_address=None, **where)
                self._own.append(cluster)
                client = Client(cluster)
                self._own.insert(0, client)
        except (OSError, TimeoutError, RuntimeError) as exc:
            self.close()
            what = f"reach the Dask scheduler {address}" if address else "start a local Dask cluster"
            raise ReinspectError(f"cannot {what}: {exc}") from exc
        self.client = client
        from inspector.reinspect.dask_worker import host_of

        info = client.scheduler_info()["workers"]
        if not info:
            self.close()
            raise ReinspectError(f"the Dask scheduler {address or ''} has no workers: start some "
                                 "(dask worker SCHEDULER_ADDRESS --nthreads 1)")
        self.workers = len(info)
        per_host = Counter(host_of(addr) for addr in info)
        self.spec = BackendSpec(spec.name, spec.reference_dir, spec.device, spec.threads, dict(per_host))
        self.load_s = 0.0

    def run(self, items: Iterable[PartImage], work_order: WorkOrder, limits: ImageLimits | None,
            cancel: Callable[[], bool] | None = None, warm: PartImage | None = None) -> Iterator[Rejudged]:
        """``warm``: a part each worker judges once before the run (discarded), so that the lazy
        set-up of the model (references, the typing head on the first finding) is paid up front and
        counted in ``load_s``; default: the first part."""
        from distributed import as_completed

        from inspector.reinspect.dask_worker import PLUGIN, BackendPlugin, judge_on_worker, load_on_worker

        client = self.client
        source = iter(items)
        first = next(source, None)
        if first is None:
            return
        source = itertools.chain([first], source)
        t0 = time.perf_counter()
        client.register_plugin(BackendPlugin(self.spec), name=PLUGIN)  # a fresh backend each run
        addrs = list(client.scheduler_info()["workers"])
        [wo] = client.scatter([work_order], broadcast=True, hash=False)
        try:  # every worker loads its model and judges the first part once (warm-up) before the run
            client.gather([client.submit(load_on_worker, warm or first, wo, limits, workers=[a], pure=False,
                                         allow_other_workers=False) for a in addrs])
        except Exception as exc:
            raise ReinspectError(f"the model backend {self.spec.name!r} cannot load on the workers: {exc}") from exc
        self.load_s = time.perf_counter() - t0
        run, keys = uuid.uuid4().hex[:8], {}
        pending = as_completed()

        def submit_next() -> None:
            if cancel is not None and cancel():
                return
            item = next(source, None)
            if item is not None:
                fut = client.submit(judge_on_worker, item, wo, limits, pure=False, key=f"rejudge-{run}-{item.key}")
                keys[fut.key] = item.key
                pending.add(fut)

        for _ in range(2 * self.workers):
            submit_next()
        for fut in pending:
            try:
                result = fut.result()
            except Exception as exc:  # a worker died: the part is reported, the run goes on
                result = Rejudged(keys[fut.key], error=f"worker failed: {exc}")
            keys.pop(fut.key, None)
            fut.release()
            yield result
            submit_next()

    def close(self) -> None:
        for obj in self._own:
            try:
                obj.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
        self._own = []
