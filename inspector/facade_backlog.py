"""The facade's explanation backlog door: count the queued explanations, defer them to the next start, resume them."""

from __future__ import annotations

import itertools
import json
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from inspector.domain import Analysis, Inspection, WorkOrder

log = logging.getLogger(__name__)

QUEUE_FILE = "explanations-deferred.json"  # in the data folder: inspection ids, oldest first
_SEQ = itertools.count()  # submission order of the explanations (the pending set has none)
_FILE_LOCK = threading.RLock()  # read-modify-write of the file, from the GUI and the explainer


class BacklogDoor:
    """Mixed into :class:`inspector.pipeline.Inspector`: the explainer queue survives a quit.

    A quit with queued explanations may "finish later": the queued inspection ids are written
    to ``<data dir>/explanations-deferred.json`` (before anything is cancelled, so a crash in
    between loses none) and :meth:`resume_explanations` queues them again at the next start.
    Each id leaves the file only once its explanation is stored.
    """

    settings: Any
    store: Any
    events: Any
    _pending: set[Future]
    _explainer: ThreadPoolExecutor
    _explain: Callable[..., None]
    get: Callable[[str], Inspection]
    image: Callable[[Inspection], np.ndarray]

    def _submit_explanation(self, inspection: Inspection, image: np.ndarray, analysis: Analysis,
                            work_order: WorkOrder) -> Future:
        """Queue one explanation on the explainer thread (the future knows its inspection id)."""
        fut = self._explainer.submit(self._explain, inspection, image, analysis, work_order)
        fut.inspection_id = inspection.id  # type: ignore[attr-defined]
        fut.seq = next(_SEQ)  # type: ignore[attr-defined]
        self._pending.add(fut)
        fut.add_done_callback(self._pending.discard)
        return fut

    def explanations_queued(self) -> int:
        """How many explanations are queued or being written now."""
        return sum(1 for f in list(self._pending) if not f.done())

    def deferred_explanations(self) -> list[str]:
        """Inspection ids whose explanations were deferred to a later start (oldest first)."""
        path = self._queue_path()
        if not path.is_file():
            return []
        try:
            ids = json.loads(path.read_text(encoding="utf-8")).get("inspection_ids", [])
        except (OSError, ValueError, AttributeError) as exc:
            log.error("%s unreadable (%s): deferred explanations not resumed", path, exc)
            return []
        return [str(i) for i in ids if i]

    def defer_explanations(self) -> int:
        """Finish later: persist the queued explanations and drop them from this run's queue.

        Returns how many were deferred; the one being written, if any, still finishes (``close``
        waits for it). They are queued again by :meth:`resume_explanations` at the next start.
        """
        pending = sorted((f for f in list(self._pending) if not f.done()), key=lambda f: getattr(f, "seq", 0))
        ids = [str(getattr(f, "inspection_id", "")) for f in pending]
        with _FILE_LOCK:
            saved = self.deferred_explanations()
            self._write_queue(saved + ids)  # all of them first: nothing is lost if we stop here
            deferred = [i for f, i in zip(pending, ids, strict=True) if f.cancel()]
            self._write_queue(saved + deferred)
        if deferred:
            log.info("%d explanations deferred to the next start (%s)", len(deferred), self._queue_path())
        return len(deferred)

    def resume_explanations(self) -> int:
        """Queue the explanations deferred at an earlier shutdown; returns how many were queued.

        Parts that meanwhile have an explanation, or are gone (retention), are dropped from the file.
        The analysis is rebuilt from the stored record (findings, scores, thresholds: what the
        explainer reads) and the exact work-order version the part was judged with.
        """
        queued, done = 0, []
        for iid in dict.fromkeys(self.deferred_explanations()):
            try:
                insp = self.get(iid)
                if insp.explanation is not None:
                    done.append(iid)
                    continue
                image = self.image(insp)
                work_order = self.store.work_order_of(iid)
            except Exception as exc:  # gone or unreadable: say so, never stop the start
                log.error("deferred explanation for %s cannot be resumed: %s", iid, exc)
                done.append(iid)
                continue
            analysis = Analysis(np.zeros((1, 1), np.float32), insp.image_score, list(insp.findings),
                                dict(insp.thresholds), insp.model)
            fut = self._submit_explanation(insp, image, analysis, work_order)
            fut.add_done_callback(self._forget_deferred)
            queued += 1
        if done:
            with _FILE_LOCK:
                self._write_queue([i for i in self.deferred_explanations() if i not in set(done)])
        return queued

    def _forget_deferred(self, fut: Future) -> None:
        if fut.cancelled() or fut.exception() is not None:
            return  # still deferred: the next start tries again
        iid = getattr(fut, "inspection_id", "")
        with _FILE_LOCK:
            self._write_queue([i for i in self.deferred_explanations() if i != iid])

    def _queue_path(self) -> Path:
        return Path(self.settings.data_dir) / QUEUE_FILE

    def _write_queue(self, ids: list[str]) -> None:
        """Write the deferred ids atomically (fsync + rename); no ids removes the file."""
        path = self._queue_path()
        unique = list(dict.fromkeys(i for i in ids if i))
        with _FILE_LOCK:
            if not unique:
                path.unlink(missing_ok=True)
                return
            tmp = path.with_suffix(".tmp")
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump({"inspection_ids": unique}, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
