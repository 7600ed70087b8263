"""The facade's re-judge door: re-inspect stored parts with a new order revision or model version.

A mixin of :class:`inspector.pipeline.Inspector`. ``rejudge_plan`` is the dry run (the
before/after table; nothing written, no right needed); ``rejudge_apply`` writes the plan's new
linked records through the facade's single writer thread and needs the ``reinspect`` right once
accounts exist (a refusal is audited). The CLI (``inspector reinspect``) and the app's
"Re-judge lot..." both come through here; the work itself is ``inspector.reinspect``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from inspector.errors import UsageError
from inspector.model.base import Progress

ENGINES = ("local", "dask")


class ReinspectDoor:
    """Re-judging stored parts (``inspector.reinspect``) for :class:`~inspector.pipeline.Inspector`."""

    settings: Any
    store: Any
    backend: Any
    actor: str
    require: Callable[[str], None]
    _write: Callable[..., Any]
    with_drawn_zones: Callable[[Any], Any]

    def rejudge_plan(self, order_id: str, *, lot: str | None = None, work_order: str | Path | None = None,
                     model: str | None = None, engine: str = "local", scheduler: str | None = None,
                     workers: int = 2, processes: bool = True, client: Any = None,
                     progress: Progress | None = None, cancel: Callable[[], bool] | None = None):
        """Re-judge the current record of every stored part of ``order_id`` (and ``lot``) and return
        the before/after plan (``inspector.reinspect.RejudgePlan``); writes nothing.

        ``work_order``: None (latest stored version), a version number, or a file of the same order
        (a new revision is stored only when the plan is applied). ``model``: a backend name of the
        ``inspector.backends`` group (default: the station's); the current taught reference of the
        part is used. ``engine``: 'local' (this process) or 'dask' (``scheduler`` address, else a
        local cluster of ``workers`` processes; ``client``: an existing ``distributed.Client``).
        Raises ``ReinspectError``, ``WorkOrderError``, ``PluginError``, ``UsageError``.
        """
        from inspector import intake
        from inspector.reinspect import BackendSpec, DaskEngine, LocalEngine, build_plan, resolve_work_order

        if engine not in ENGINES:
            raise UsageError(f"engine {engine!r}: use {' or '.join(ENGINES)}")
        if workers < 1:
            raise UsageError(f"workers must be at least 1, not {workers}")
        wo, version = resolve_work_order(self.store, order_id, work_order)
        name = model or self.settings.backend
        spec = BackendSpec(name, str(self.settings.reference_dir), self.settings.device,
                           int(self.settings.torch_threads or 0))
        if engine == "local":
            runner: Any = LocalEngine(self.backend if name == self.settings.backend else spec.build())
        else:
            runner = DaskEngine(spec, address=scheduler, client=client, n_workers=workers, processes=processes)
        try:
            plan = build_plan(self.store, order_id, self.with_drawn_zones(wo), version, runner, lot=lot,
                              limits=intake.image_limits(self.settings), actor=self.actor, progress=progress,
                              cancel=cancel)
        finally:
            runner.close()
        plan.work_order = wo  # stored as given (zones drawn in the Teach tab are the station's, not the order's)
        return plan

    def rejudge_apply(self, plan: Any, *, progress: Progress | None = None):
        """Write the plan's new records, each linked to the record it re-judges and audited
        (``inspection.rejudged``; the run: ``reinspect.applied``). Needs the ``reinspect`` right.
        Returns ``inspector.reinspect.ApplyResult``; parts another run re-judged first are skipped."""
        from inspector.reinspect import apply_plan

        self.require("reinspect")
        return apply_plan(self.store, plan, self.actor, write=self._write, progress=progress)
