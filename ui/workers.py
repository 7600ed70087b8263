"""Background work for the UI: a plain function on a QThreadPool, results back through signals.

The task body is a plain function ``fn(task)`` that calls core code with ``task.progress`` (a
core ``Progress`` callback that raises ``Cancelled`` once the task is cancelled) and may check
``task.cancel`` (a ``threading.Event``); so the body is testable without Qt. Results reach
the GUI only as signals delivered to ``@Slot`` methods of GUI-thread objects (queued
connections). Never connect a task signal to a lambda: it would run in the worker thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from inspector.pipeline import Cancelled, describe

log = logging.getLogger(__name__)


class TaskSignals(QObject):
    """Signals of one task. Created in the GUI thread, emitted from the worker."""

    started = Signal()
    progress = Signal(int, int, str)  # done, total, message
    result = Signal(object)  # the body's return value (not emitted when cancelled)
    item = Signal(object)  # intermediate results
    error = Signal(str)  # a message for the status area
    finished = Signal()  # always, last


class Task(QRunnable):
    """Runs ``fn(task)`` on a pool thread; see the module docstring."""

    def __init__(self, fn: Callable[[Task], Any], name: str = "task"):
        super().__init__()
        self.setAutoDelete(False)  # the TaskRunner keeps it alive until ``finished``
        self.fn = fn
        self.name = name
        self.signals = TaskSignals()
        self.cancel = threading.Event()
        self.done = threading.Event()
        self.value: Any = None
        self.failure: str | None = None

    def progress(self, done: int, total: int, message: str = "") -> None:
        """A core ``Progress`` callback: reports, and raises ``Cancelled`` once cancelled."""
        if self.cancel.is_set():
            raise Cancelled(self.name)
        self.signals.progress.emit(int(done), int(total), str(message))

    def emit(self, obj: Any) -> None:
        self.signals.item.emit(obj)

    def run(self) -> None:  # worker thread
        self.signals.started.emit()
        try:
            self.value = self.fn(self)
        except Cancelled:
            pass
        except Exception as exc:  # shown in the status area; the station keeps running
            log.exception("%s failed", self.name)
            self.failure = error_message(exc)
            self.signals.error.emit(self.failure)
        else:
            if not self.cancel.is_set():
                self.signals.result.emit(self.value)
        finally:
            self.done.set()
            self.signals.finished.emit()

    def wait(self, timeout_s: float | None = None) -> bool:
        return self.done.wait(timeout_s)


def error_message(exc: BaseException) -> str:
    """The user-facing text of an error: typed core errors as they are, others with their type."""
    return describe(exc)


class TaskRunner(QObject):
    """Starts tasks on a pool. A new task in the same ``slot`` cancels the stale one.

    Every started task is referenced until it has finished (a QRunnable whose Python object
    is collected while it runs would crash the process).
    """

    def __init__(self, parent: QObject | None = None, max_threads: int = 4):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self._current: dict[str, Task] = {}
        self._alive: set[Task] = set()
        self._lock = threading.Lock()
        self._closed = False

    def start(self, slot: str, task: Task) -> Task:
        """Run ``task``; the previous task of ``slot`` (if still running) is cancelled."""
        if self._closed:
            task.cancel.set()
        old = self._current.get(slot)
        if old is not None and not old.done.is_set():
            old.cancel.set()
        self._current[slot] = task
        with self._lock:
            self._alive.add(task)
        task.signals.finished.connect(self._reap)
        self.pool.start(task)
        return task

    @Slot()
    def _reap(self) -> None:
        with self._lock:
            self._alive = {t for t in self._alive if not t.done.is_set()}

    def running(self, slot: str) -> Task | None:
        t = self._current.get(slot)
        return t if t is not None and not t.done.is_set() else None

    def busy(self) -> list[str]:
        """Names of the tasks still running."""
        with self._lock:
            return sorted(t.name for t in self._alive if not t.done.is_set())

    def cancel_all(self) -> None:
        for t in list(self._current.values()):
            t.cancel.set()

    def close(self) -> None:
        """Cancel everything and refuse new work (tasks started later are cancelled at once)."""
        self._closed = True
        self.cancel_all()

    def wait(self, msecs: int = -1) -> bool:
        """Block until every task has finished (call from a non-GUI thread when it may take long)."""
        return self.pool.waitForDone(msecs)
