"""The facade's store-and-forward door: a storage fault never stops the line (docs/reliability.md).

Every part is written on the facade's single writer thread (``_store_part``). When the store
cannot take it (a storage fault: ``inspector.spool.is_storage_fault``) the complete record
(inspection, findings, verdict, image bytes) goes to the spool, ``StorageDegraded`` is
published and the line goes on. While anything is in the spool, new parts and explanations go
there too, behind it, so the database receives them in the order they were judged.

A retry thread probes the storage every ``spool_retry_s`` (``inspector.spool.probe``: never
waits a busy timeout) and, once it answers, queues drain steps on the writer thread, one
transaction each, so parts judged meanwhile slot in between. The drain also starts at the
next run or app start (:meth:`SpoolDoor.resume_spool`) and is tried once more at ``close()``.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from inspector.domain import Explanation, Frame, Inspection, utcnow
from inspector.errors import describe
from inspector.events import EventBus, StorageDegraded, StorageRecovered
from inspector.spool.faults import fault_text, is_storage_fault, probe
from inspector.spool.folder import Spool, SpoolState
from inspector.spool.records import SpoolError, SpoolRecord

if TYPE_CHECKING:  # the drain needs SQLAlchemy: imported when it runs, so the window appears fast
    from inspector.spool.drain import DrainReport

log = logging.getLogger(__name__)

_CREATE = threading.Lock()


@dataclass
class _SpoolRuntime:
    spool: Spool
    stop: threading.Event = field(default_factory=threading.Event)
    wake: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    active: bool = False  # this facade ran a line, spooled or drained (read-only commands never do)
    degraded: bool = False
    drained: int = 0  # records stored since the station became degraded
    held: int = 0
    last_error: str = ""


class SpoolDoor:
    """Mixed into ``Inspector``: spooling on storage faults, the retry/drain thread, status and drain."""

    settings: Any
    store: Any
    events: EventBus
    actor: Any
    _store: Any
    _writer: ThreadPoolExecutor

    # --- the spool -----------------------------------------------------------------------------

    @property
    def _spool(self) -> _SpoolRuntime:
        rt = self.__dict__.get("_spool_rt")
        if rt is None:
            with _CREATE:
                rt = self.__dict__.get("_spool_rt")
                if rt is None:
                    s = self.settings
                    rt = _SpoolRuntime(Spool(s.spool_dir, max_bytes=s.spool_max_bytes, max_parts=s.spool_max_parts,
                                             min_free_bytes=s.spool_min_free_bytes,
                                             reserve_bytes=s.spool_reserve_bytes))
                    self.__dict__["_spool_rt"] = rt
        return rt

    def spool_status(self, *, check_storage: bool = False) -> tuple[SpoolState, str | None]:
        """What the spool holds (read-only: works on a full disk) and, with ``check_storage``,
        None when the database would take a write now, else why not."""
        state = self._spool.spool.state()
        return state, (self._probe() if check_storage else None)

    def add_storage_listener(self, fn: Callable[[str, bool], None]) -> Callable[[], None]:
        """``fn(text, degraded)`` on every ``StorageDegraded`` / ``StorageRecovered`` (the writer or
        retry thread); e.g. "storage degraded, 3 parts spooled: ...". Returns an unsubscribe."""
        return self.events.subscribe(lambda e: fn(e.text, isinstance(e, StorageDegraded)),
                                     StorageDegraded, StorageRecovered)

    def resume_spool(self) -> int:
        """At a run or app start: set the space reserve aside and drain what an earlier run left
        (in the background). Returns the number of records waiting."""
        rt = self._spool
        rt.active = True
        rt.spool.prepare_reserve()
        pending = rt.spool.count()
        if pending:
            rt.degraded = True
            self._start_retry(immediately=True)
        return pending

    def drain_spool(self) -> DrainReport:
        """Drain now, on the writer thread, step by step until the spool is empty or storage fails
        (checked first with a quick probe: a locked database is reported, not waited for)."""
        from inspector.spool.drain import DrainReport

        self._spool.active = True
        total = DrainReport(remaining=self._spool.spool.count())
        if total.remaining and (problem := self._probe()):
            total.error = problem
            return total
        while True:
            report = self._writer.submit(self._drain_once).result()
            total.add(report)
            if report.error or not report.remaining or not (report.stored or report.explanations
                                                            or report.already_stored or report.held):
                return total

    # --- part ids without the database (the parts door asks it for sequence numbers) ----------

    def next_part_sequence(self, work_order: Any) -> int:
        """The parts door's database counter, not even tried while records wait in the spool."""
        if self._spool.spool.count():
            raise _Offline("earlier parts are still in the spool")
        return super().next_part_sequence(work_order)  # type: ignore[misc]

    def part_id_for(self, frame: Frame, work_order: Any) -> str:
        """The parts door's part id; when its sequence number needs a database that cannot answer,
        ``<order>-<lot>-<station>-<UTC time to the microsecond>`` (unique per station, no database)."""
        try:
            return super().part_id_for(frame, work_order)  # type: ignore[misc]
        except Exception as exc:
            if not isinstance(exc, _Offline) and not is_storage_fault(exc):
                raise
        fields = [work_order.order_id.strip() or "part", work_order.lot.strip(), self.settings.station,
                  f"{utcnow():%Y%m%dT%H%M%S%f}"]
        return "-".join(f for f in fields if f)[-128:]  # the parts door's MAX_PART_ID

    # --- the writer thread ---------------------------------------------------------------------

    def _store_part(self, inspection: Inspection, frame: Frame) -> bool:
        """Store one part (writer thread); True when it went to the spool instead."""
        rt = self._spool
        if not rt.spool.count():
            try:
                images = self.store.images
                if frame.encoded:
                    inspection.image_sha256 = images.put_bytes(frame.encoded, frame.ext or ".png")
                else:
                    inspection.image_sha256 = images.put_array(frame.image)
                self.store.save_inspection(inspection)
                return False
            except Exception as exc:
                if not is_storage_fault(exc):
                    raise
                reason = fault_text(exc)
        else:
            reason = rt.last_error or "earlier parts are still in the spool"
        data, ext = _image_bytes(frame)
        inspection.image_sha256 = hashlib.sha256(data).hexdigest()
        self._spool_append(SpoolRecord("inspection", inspection.id, reason, self.settings.station,
                                       inspection=inspection, image=data, image_ext=ext))
        return True

    def _store_explanation(self, inspection_id: str, explanation: Explanation) -> bool:
        """Append an explanation (writer thread); True when it went to the spool."""
        rt = self._spool
        if not rt.spool.count():
            try:
                self.store.add_explanation(inspection_id, explanation)
                return False
            except Exception as exc:
                if not is_storage_fault(exc):
                    raise
                reason = fault_text(exc)
        else:
            reason = rt.last_error or "earlier parts are still in the spool"
        self._spool_append(SpoolRecord("explanation", inspection_id, reason, self.settings.station,
                                       explanation=explanation, explained_at=utcnow()))
        return True

    def _spool_append(self, record: SpoolRecord) -> None:
        rt = self._spool
        try:
            rt.spool.append(record)
        except SpoolError as exc:  # nowhere to keep it: the line reports the part as not stored
            raise SpoolError(f"not stored ({record.fault}) and not spooled: {exc}") from exc
        rt.last_error, rt.active = record.fault, True
        if not rt.degraded:
            rt.degraded, rt.drained, rt.held = True, 0, 0
            log.warning("storage degraded: spooling to %s (%s)", rt.spool.folder, record.fault)
        self._start_retry()
        self.events.publish(StorageDegraded(rt.spool.count("inspection"), record.fault))

    def _drain_once(self) -> DrainReport:
        """One drain step (writer thread); publishes ``StorageRecovered`` when the spool is empty."""
        from inspector.spool.drain import DrainReport, drain_step

        rt = self._spool
        if not rt.spool.count():
            return DrainReport()
        try:
            report = drain_step(self.store, rt.spool, _actor(self.actor))
        except Exception as exc:  # the store cannot even be opened, or the spool folder is unusable
            if not is_storage_fault(exc) and not isinstance(exc, SpoolError):
                raise
            return DrainReport(remaining=rt.spool.count(), error=fault_text(exc))
        rt.drained += report.stored + report.explanations
        rt.held += report.held
        if report.error:
            rt.last_error = report.error
        elif not report.remaining and rt.degraded:
            rt.degraded = False
            log.warning("storage back: %d spooled records stored", rt.drained)
            rt.spool.prepare_reserve()
            self.events.publish(StorageRecovered(rt.drained, rt.held))
        return report

    # --- the retry thread ----------------------------------------------------------------------

    def _probe(self) -> str | None:
        url = self._store.engine.url if self._store is not None else self.settings.database_url
        try:
            return probe(url)
        except Exception as exc:  # a driver missing, a URL that cannot be parsed: not reachable
            return describe(exc)

    def _start_retry(self, immediately: bool = False) -> None:
        rt = self._spool
        if immediately:
            rt.wake.set()
        with _CREATE:  # the writer (a fault) and a run's start may both ask: one retry thread
            if rt.thread is None or not rt.thread.is_alive():
                rt.stop.clear()
                rt.thread = threading.Thread(target=self._retry_loop, name="inspector-spool-retry", daemon=True)
                rt.thread.start()

    def _retry_loop(self) -> None:
        rt = self._spool
        while not rt.stop.is_set():
            rt.wake.wait(self.settings.spool_retry_s)
            rt.wake.clear()
            if rt.stop.is_set():
                return
            if not rt.spool.count():
                if rt.degraded:  # drained by another process (`inspector spool drain`)
                    rt.degraded = False
                    self.events.publish(StorageRecovered(rt.drained, rt.held))
                with _CREATE:  # nothing to do until the next fault starts the thread again
                    if not rt.degraded and not rt.spool.count():
                        rt.thread = None
                        return
                continue
            problem = self._probe()
            if problem:
                rt.last_error = problem
                continue
            try:
                report = self.drain_spool()
            except RuntimeError:  # the writer was shut down: the facade is closing
                return
            except Exception:
                log.exception("spool drain failed")
                continue
            if report.error:
                log.info("spool drain stopped: %s", report.error)

    def _spool_close(self) -> None:
        """At ``close()``, before the writer stops: stop retrying, one last drain if storage answers,
        give the reserve back (records stay for the next start)."""
        rt = self.__dict__.get("_spool_rt")
        if rt is None or not rt.active:
            return
        rt.stop.set()
        rt.wake.set()
        if rt.thread is not None:
            rt.thread.join(timeout=60)
        try:
            if rt.spool.count() and not self._probe():
                self.drain_spool()
        except Exception:
            log.exception("final spool drain failed; the records stay in %s", rt.spool.folder)
        left = rt.spool.count()
        if left:
            log.warning("%d records stay in the spool %s: they are stored at the next start", left,
                        rt.spool.folder)
        rt.spool.release_reserve()


class _Offline(Exception):
    """No database round trip for a part id now (storage degraded)."""


def _actor(actor: Any) -> str:
    return getattr(actor, "username", None) or str(actor or "station")


def _image_bytes(frame: Frame) -> tuple[bytes, str]:
    """The part image as the image store would keep it: the bytes as received, else PNG."""
    if frame.encoded:
        return bytes(frame.encoded), frame.ext or ".png"
    from inspector.store.images import encode_png

    return encode_png(frame.image), ".png"
