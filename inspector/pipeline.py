"""The Inspector facade: the one place that ties work orders, sources, model, judge and store together.

The CLI and the desktop app talk to the core only through :class:`Inspector`. It owns two
background threads: one *writer* (every database write is serialised through it: SQLite
allows one writer, and a crash never leaves half a record) and one *explainer* (NG/REVIEW
explanations are written after the verdict, so they never hold the line).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from inspector import intake, plugins
from inspector.domain import Analysis, Explanation, Frame, Inspection, VerdictKind, WorkOrder, utcnow
from inspector.errors import InspectorError, LineError, NotFound, UsageError, describe
from inspector.events import (
    EVENT_TYPES,
    EventBus,
    ExplanationReady,
    PartFailed,
    PartJudged,
    PartStored,
    SourceLost,
)
from inspector.facade_backlog import BacklogDoor
from inspector.facade_parts import PartsDoor
from inspector.facade_records import RecordsDoor, render_display
from inspector.facade_reinspect import ReinspectDoor
from inspector.facade_spool import SpoolDoor
from inspector.facade_station import StationDoor
from inspector.facade_trace import TraceDoor
from inspector.facade_zones import ZonesDoor
from inspector.judging import judge_frame
from inspector.line import PartResult, RunSummary, run_line
from inspector.model.base import Cancelled, LabelledExample, ModelBackend, ModelError, Progress, TeachResult
from inspector.model.threads import apply_thread_budget, thread_budget
from inspector.settings import Settings
from inspector.sources import IMAGE_SUFFIXES, FrameSource, SourceError, open_source, read_image

__all__ = ["EVENT_TYPES", "IMAGE_SUFFIXES", "Cancelled", "Inspector", "InspectorError", "LabelledExample",
           "LineError", "ModelError", "NotFound", "PartResult", "RunSummary", "SourceError", "UsageError",
           "describe", "open_source", "read_image", "render_display"]

log = logging.getLogger(__name__)

MAX_EXPLAIN_BACKLOG = 8  # beyond this many queued flagged parts, explanations use the template


class Inspector(RecordsDoor, TraceDoor, ZonesDoor, BacklogDoor, SpoolDoor, PartsDoor, ReinspectDoor,
                StationDoor):
    """Facade over the core. Thread-safe for one GUI/CLI thread plus its own workers.

    ``events`` is the line's event bus (``inspector.events``): the app, the CLI and every
    publisher plugin (entry-point group ``inspector.publishers``) subscribe to it.
    """

    def __init__(self, settings: Settings | None = None, *, backend: ModelBackend | None = None,
                 store: Any | None = None, publishers: bool = True):
        self.settings = settings or Settings.load()
        self.settings.ensure_dirs()
        self._backend = backend
        self._store = store
        self._lock = threading.Lock()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inspector-writer")
        self._explainer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inspector-explainer")
        self._pending: set[Future] = set()
        self.events = EventBus()
        # publisher plugins (MQTT, OPC UA, PLC, HTTP) run with a station: the app, `inspector inspect`
        self._publishers: list[Any] = plugins.start_publishers(self.settings, self) if publishers else []
        self.actor = self.settings.operator or "station"
        self.user = None  # the signed-in domain.User, if any
        self._closed = False

    # --- parts built lazily so the window appears fast -------------------------------------

    @property
    def store(self):
        with self._lock:
            if self._store is None:
                from inspector.store import Store

                self._store = Store.open(self.settings.database_url, Path(self.settings.image_dir),
                                         busy_timeout_ms=self.settings.db_busy_timeout_ms)
                self.seal_records(self._store)  # every record it stores gets its audit event (facade_trace)
            return self._store

    @property
    def backend(self) -> ModelBackend:
        with self._lock:
            if self._backend is None:
                factory = plugins.get("inspector.backends", self.settings.backend)
                backend = plugins.call_backend(factory, Path(self.settings.reference_dir), self.settings.device,
                                               self.settings)  # a plugin backend reads its settings section
                apply_thread_budget(thread_budget(self.settings.explain, self.settings.torch_threads))
                backend.load(self.settings.device)
                self._backend = backend
            return self._backend

    @property
    def audit(self):
        from inspector.trace import Audit

        return Audit(self.store)

    # --- who is working ------------------------------------------------------------------------

    def sign_in(self, username: str, password: str):
        """Authenticate a user for this session (AuthError on failure); their name is recorded."""
        from inspector.trace import Accounts

        self.user = self._write(Accounts(self.store).authenticate, username, password, source=self.auth_source)
        self.actor = self.user.username
        return self.user

    def sign_out(self) -> None:
        self.user = None
        self.actor = self.settings.operator or "station"

    def require(self, permission: str) -> None:
        """Raise PermissionDenied unless the signed-in user may do ``permission``.

        A station with no accounts yet runs open (the settings' operator name is recorded);
        once accounts exist, teaching, reports, exports and user work need a signed-in user.
        Inspecting never does: the line runs unattended.
        """
        from inspector.trace import Accounts, PermissionDenied, require

        if permission == "inspect" or not Accounts(self.store).has_users():
            return
        try:
            if self.user is None:
                raise PermissionDenied(f"sign in first: {permission} needs an account with that right", permission)
            require(self.user, permission)
        except PermissionDenied as exc:  # every refusal is audited (docs/reliability.md)
            self.refused("permission.denied", str(exc), permission)
            raise

    def _record(self, action: str, entity: str, entity_id: str, before: Any = None, after: Any = None) -> None:
        """Append an audit event through the writer (append-only, hash-chained)."""
        self._write(self.audit.append, self.actor, action, entity, entity_id, before, after)

    def _write(self, fn: Callable, *args: Any, **kwargs: Any) -> Any:
        """Run a database write on the single writer thread and wait for it (raises its error)."""
        return self._writer.submit(fn, *args, **kwargs).result()

    # --- work orders ------------------------------------------------------------------------

    def load_work_order(self, path: str | Path | None = None, *, text: str | None = None) -> WorkOrder:
        """Parse a work order file (or pasted text), store it (new version if changed), audit it.

        Returns it with ``version`` set: the stored version parts judged against it record.
        Raises ``inspector.workorder.WorkOrderError`` naming the line and problem.
        """
        from inspector.workorder import load_work_order, parse_work_order

        wo = load_work_order(path) if text is None else parse_work_order(text, source_name="<pasted>")
        from inspector.trace.changes import record_work_order

        version = self._write(record_work_order, self.store, wo, self.actor)  # audited in the same transaction
        return replace(wo, version=version)  # inspections judged against it record this exact version

    def find_work_order(self, order_id: str) -> WorkOrder:
        """A work order by id (as typed or scanned): the store first, then the work-order folder."""
        order_id = order_id.strip()
        try:
            return self.store.get_work_order(order_id)
        except LookupError:  # the store's NotFoundError
            pass
        folder = Path(self.settings.data_dir) / "workorders"
        for p in sorted(folder.glob(f"{order_id}*")) if folder.is_dir() else []:
            return self.load_work_order(p)
        raise KeyError(f"work order {order_id!r} is not in the database nor in {folder}")

    def list_work_orders(self) -> list[WorkOrder]:
        return self.store.list_work_orders()

    # --- teaching ---------------------------------------------------------------------------

    def teach(self, part_number: str, good: Sequence[np.ndarray | str | Path],
              examples: Sequence[LabelledExample] = (), template: np.ndarray | str | Path | None = None,
              *, progress: Progress | None = None, work_order: WorkOrder | None = None) -> TeachResult:
        """Teach a part from good images (arrays or files); persists the reference and audits it.

        ``work_order``: example labels must name its defect words, and its size limits set the
        limit-size probes of the teach result's miss-rate estimate (``TeachResult.miss_estimate``).
        """
        self.require("teach")
        limits = intake.image_limits(self.settings)
        images = [read_image(g, limits) if isinstance(g, (str, Path)) else g for g in good]
        if isinstance(template, (str, Path)):
            template = read_image(template, limits)
        more = {"work_order": work_order} if work_order is not None else {}
        result = self.backend.teach(part_number, images, examples, template,
                                    target_false_reject=self.settings.target_false_reject, progress=progress, **more)
        from inspector.trace.changes import record_teach

        # the reference and its model.taught / threshold.changed events commit together
        self._write(record_teach, self.store, result, self.backend.info().weights_hash, self.actor,
                    target_false_reject=self.settings.target_false_reject)
        return result

    def save_settings(self, new: Settings, path: Path | None = None) -> Path:
        """Save station settings to the settings file; every changed field is audited.

        A change of the calibration target (``target_false_reject``) needs the 'teach' right
        and is recorded as ``threshold.changed``; the rest as ``settings.changed``.
        """
        names = [f.name for f in fields(Settings)]
        old = {n: getattr(self.settings, n) for n in names}
        changed = {n: (old[n], getattr(new, n)) for n in names if old[n] != getattr(new, n)}
        if "target_false_reject" in changed:
            self.require("teach")
        saved = new.save(path)
        frr = changed.pop("target_false_reject", None)
        if frr is not None:
            self._record("threshold.changed", "settings", "target_false_reject",
                         {"target_false_reject": frr[0]}, {"target_false_reject": frr[1]})
        if changed:
            self._record("settings.changed", "settings", self.settings.station,
                         {f: str(a) for f, (a, _) in changed.items()}, {f: str(b) for f, (_, b) in changed.items()})
        return saved

    # --- inspection -------------------------------------------------------------------------

    def add_explanation_listener(self, fn: Callable[[str, Explanation], None]) -> Callable[[], None]:
        """``fn(inspection_id, explanation)`` when one is stored (explainer thread); returns an
        unsubscribe. A shorthand for subscribing to :class:`~inspector.events.ExplanationReady`."""
        return self.events.subscribe(lambda e: fn(e.inspection_id, e.explanation), ExplanationReady)

    def inspect_frame(self, frame: Frame, work_order: WorkOrder, *, explain: str | None = None,
                      run_id: str = "") -> PartResult:
        """Analyse, judge and store one part; returns once the record is committed.

        ``explain``: 'async' (default from settings), 'sync' or 'off'. An image that cannot be
        judged (unreadable, unsupported, not the taught size) is stored as REVIEW with the reason
        and no findings (``inspector.intake``). Publishes ``PartJudged``.
        """
        work_order = self.with_drawn_zones(work_order)  # zones the QE drew in the Teach tab
        judged = judge_frame(self.backend, frame, work_order)  # the one verdict path (also `inspector reinspect`)
        if (problem := judged.problem) is not None:  # unreadable, unsupported or wrong-size image: REVIEW
            frame = intake.storable(frame)
            refused = intake.refused_inspection(frame, work_order, problem, model=self.backend.info(),
                                                station=self.settings.station, operator=self.actor)
            refused.work_order_version, refused.part_id = work_order.version, self.part_id_for(frame, work_order)
            self.events.publish(PartJudged(run_id, refused))
            spooled = self._write(self._store_part, refused, frame)  # facade_spool: the store, or the spool
            return PartResult(refused, frame.image, None, spooled=spooled)
        analysis, verdict, t2 = judged.analysis, judged.verdict, time.perf_counter()
        h, w = frame.image.shape[:2]
        inspection = Inspection(
            id=uuid.uuid4().hex, order_id=work_order.order_id, part_number=work_order.part_number,
            lot=work_order.lot, image_sha256="", source=frame.source, frame_name=frame.name,
            station=self.settings.station, captured_at=frame.captured_at, inspected_at=utcnow(),
            model=analysis.model, thresholds=dict(analysis.thresholds), image_score=analysis.image_score,
            findings=list(analysis.findings), verdict=verdict, image_size=(w, h),
            pixel_size_mm=work_order.pixel_size_mm, operator=self.actor, work_order_version=work_order.version,
            part_id=self.part_id_for(frame, work_order))
        timings = {f"analyze.{k}": v for k, v in analysis.timings_ms.items()}
        timings.update(capture=float(frame.capture_ms or 0.0), analyze=judged.analyze_ms, judge=judged.judge_ms)
        inspection.timings_ms = timings
        self.events.publish(PartJudged(run_id, inspection))
        spooled = self._write(self._store_part, inspection, frame)
        timings["store"] = (time.perf_counter() - t2) * 1e3
        mode = explain or self.settings.explain
        if verdict.kind is not VerdictKind.OK and mode != "off":
            fut = self._submit_explanation(inspection, frame.image, analysis, work_order)
            if mode == "sync":
                fut.result()
        return PartResult(inspection, frame.image, analysis.anomaly_map, spooled=spooled)

    def _explain(self, inspection: Inspection, image: np.ndarray, analysis: Analysis, wo: WorkOrder) -> None:
        from inspector.model.explain import template_explanation

        t0 = time.perf_counter()
        backlog = len(self._pending) - 1  # flagged parts queued behind this one
        if backlog >= MAX_EXPLAIN_BACKLOG:
            # The line is outrunning the language model: keep up with the checked template so the
            # queue (and the wait at shutdown) stays bounded.
            explanation = Explanation(template_explanation(analysis, inspection.verdict, wo), fallback=True,
                                      generator="template",
                                      problems=(f"line backlog: {backlog} parts waiting for explanations",))
        else:
            try:
                explanation = self.backend.explain(image, analysis, inspection.verdict, wo)
            except Exception as exc:  # the record must get an explanation even if the LM fails
                log.exception("explanation failed for %s", inspection.id)
                explanation = Explanation(template_explanation(analysis, inspection.verdict, wo), fallback=True,
                                          generator="template", problems=(f"generator error: {exc}",))
        inspection.timings_ms["explain"] = (time.perf_counter() - t0) * 1e3
        inspection.explanation = explanation
        self._write(self._store_explanation, inspection.id, explanation)  # or the spool (facade_spool)
        self.events.publish(ExplanationReady(inspection.id, explanation))

    def run(self, source: FrameSource | str | list[str], work_order: WorkOrder, *,
            on_result: Callable[[PartResult], None] | None = None,
            on_error: Callable[[str], None] | None = None,
            progress: Progress | None = None, cancel: threading.Event | None = None,
            limit: int | None = None, run_id: str | None = None, trigger_mode: str | None = None) -> RunSummary:
        """Inspect every frame of a source on this thread (the one line loop, ``inspector.line``).

        ``source``: a source spec (folder, files, ``video:``, ``hotfolder:``, ``camera:N``) or an
        open-able ``FrameSource``. Bad frames are reported and skipped; the run goes on. Every
        step is published on ``events``; ``on_result``/``on_error`` are shorthands for
        subscribing to this run's ``PartStored``/``PartFailed`` and source problems. ``trigger_mode``
        (default: settings): how a video or camera becomes parts (``facade_parts``; ``TriggerError``).
        """
        run_id = run_id or uuid.uuid4().hex
        if not isinstance(source, FrameSource):
            source = open_source(source, settings=self.settings)
        if getattr(source, "limits", None) is None:
            source.limits = intake.image_limits(self.settings)

        def forward(event: Any) -> None:
            if getattr(event, "run_id", None) != run_id:
                return
            if isinstance(event, PartStored) and on_result is not None:
                on_result(event.result)
            elif isinstance(event, PartFailed) and on_error is not None:
                on_error(event.message)
            elif isinstance(event, SourceLost) and on_error is not None:
                on_error(event.message)

        options = self.line_options(source, run_id, trigger_mode)
        self.record_settings()  # the verdict-relevant settings of this run are on record (facade_trace)
        self.resume_spool()  # space reserve; what an earlier run spooled drains in the background
        unsubscribe = self.events.subscribe(forward, PartStored, PartFailed, SourceLost)
        try:
            try:  # load what loads lazily now: the first flagged part must not wait for it
                getattr(self.backend, "warm_up", lambda: None)()
            except Exception as exc:  # the line reports a backend that cannot load, part by part
                log.warning("warm-up failed: %s", exc)
            return run_line(functools.partial(self.inspect_frame, run_id=run_id), self.events, source,
                            work_order, run_id=run_id, cancel=cancel, progress=progress, limit=limit, **options)
        finally:
            unsubscribe()
            self.line_ended(run_id)

    def wait_explanations(self, timeout: float | None = None) -> bool:
        """Block until queued explanations are stored. True when none is left."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._pending:
            fut = next(iter(self._pending), None)
            if fut is None:
                break
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                fut.result(timeout=remaining)
            except Exception:
                if deadline is not None and time.monotonic() >= deadline:
                    return False
            self._pending.discard(fut)
        return True

    # --- shutdown -----------------------------------------------------------------------------

    def close(self, timeout: float = 120.0) -> None:
        """Finish queued explanations and writes, then release everything. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if not self.wait_explanations(timeout):  # never lost: deferred to the next start (facade_backlog)
            log.warning("%d explanations still queued at shutdown: deferred", self.defer_explanations())
            self.wait_explanations(timeout)  # the one being written
        self._explainer.shutdown(wait=True, cancel_futures=True)
        self._spool_close()  # a last drain while the writer still runs; the reserve goes back
        self._writer.shutdown(wait=True)
        self.events.close()
        for publisher in self._publishers:  # after the bus has delivered what it held
            closer = getattr(publisher, "close", None)
            try:
                if callable(closer):
                    closer()
            except Exception:
                log.exception("publisher %r failed to close", publisher)
        if self._store is not None:
            self._store.close()

    def __enter__(self) -> Inspector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
