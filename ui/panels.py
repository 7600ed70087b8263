"""Station building blocks: verdict banner, counters, status log, latency stats, event-loop probe,
the explanation bridge (explainer thread -> GUI thread)."""

from __future__ import annotations

import time
import weakref
from collections import deque

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

from inspector.domain import Explanation

VERDICT_STYLE = {
    "OK": "background:#1b7f3b; color:white;",
    "NG": "background:#c62828; color:white;",
    "REVIEW": "background:#f9a825; color:black;",
    "": "background:#424242; color:#ddd;",
}
STAGES = ("capture", "analyze", "explain", "store")
STAGE_LABELS = {"capture": "capture", "analyze": "analyse", "explain": "explain", "store": "store"}


def big_button(text: str, shortcut: str | None = None, height: int = 52) -> QPushButton:
    """A large touch/glove-friendly button with its key shown."""
    b = QPushButton(text + (f"  [{shortcut}]" if shortcut else ""))
    b.setMinimumHeight(height)
    f = b.font()
    f.setPointSize(f.pointSize() + 3)
    f.setBold(True)
    b.setFont(f)
    return b


class VerdictBanner(QLabel):
    """The big OK / NG / REVIEW of the latest part."""

    def __init__(self, parent=None):
        super().__init__("—", parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumHeight(110)
        f = QFont()
        f.setPointSize(54)
        f.setBold(True)
        self.setFont(f)
        self.kind = ""
        self.set_kind("", "—")

    def set_kind(self, kind: str, text: str | None = None) -> None:
        self.kind = kind
        self.setText(text if text is not None else kind)
        self.setStyleSheet(VERDICT_STYLE.get(kind, VERDICT_STYLE[""]) + "border-radius:6px;")


class CounterPanel(QFrame):
    """Inspected / OK / NG / REVIEW / yield in large digits."""

    NAMES = ("inspected", "OK", "NG", "REVIEW", "yield")

    def __init__(self, parent=None):
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.values: dict[str, QLabel] = {}
        colours = {"OK": "#1b7f3b", "NG": "#c62828", "REVIEW": "#b07800"}
        for i, name in enumerate(self.NAMES):
            title = QLabel(name)
            title.setAlignment(Qt.AlignmentFlag.AlignCenter)
            value = QLabel("0")
            value.setObjectName("counter")  # the floor layout's style sheet enlarges it (ui/floor.py)
            value.setAlignment(Qt.AlignmentFlag.AlignCenter)
            f = value.font()
            f.setPointSize(26)
            f.setBold(True)
            value.setFont(f)
            if name in colours:
                value.setStyleSheet(f"color:{colours[name]};")
            grid.addWidget(title, 0, i)
            grid.addWidget(value, 1, i)
            self.values[name] = value
        self.counts = dict.fromkeys(self.NAMES[:4], 0)
        self.show_counts()

    def add(self, kind: str) -> None:
        self.counts["inspected"] += 1
        self.counts[kind] += 1
        self.show_counts()

    def reset(self) -> None:
        self.counts = dict.fromkeys(self.NAMES[:4], 0)
        self.show_counts()

    def yield_pct(self) -> float | None:
        n = self.counts["inspected"]
        return 100.0 * self.counts["OK"] / n if n else None

    def show_counts(self) -> None:
        for k, v in self.counts.items():
            self.values[k].setText(str(v))
        y = self.yield_pct()
        self.values["yield"].setText("—" if y is None else f"{y:.1f} %")


class StatusLog(QListWidget):
    """Newest-first messages; a repeated message is counted instead of flooding the list."""

    MAX_ITEMS = 300

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWordWrap(True)
        self._last = ""
        self._repeat = 1
        self.messages: list[str] = []  # every message, oldest first (tests and diagnostics)

    def add(self, message: str, error: bool = True) -> None:
        if not error and message == self._last:
            return  # an error is also announced on the status bar: keep it once, in red
        self.messages.append(message)
        stamp = time.strftime("%H:%M:%S")
        if message == self._last and self.count():
            self._repeat += 1
            self.item(0).setText(f"{stamp}  {message}  (×{self._repeat})")
            return
        self._last, self._repeat = message, 1
        item = QListWidgetItem(f"{stamp}  {message}")
        if error:
            item.setForeground(QColor("#c62828"))
        self.insertItem(0, item)
        while self.count() > self.MAX_ITEMS:
            self.takeItem(self.count() - 1)

    def texts(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]


class LatencyStats:
    """Rolling means of the per-stage latencies (ms) of the last ``window`` parts."""

    def __init__(self, window: int = 50):
        self.q: dict[str, deque] = {k: deque(maxlen=window) for k in STAGES}

    def add(self, stage: str, ms: float) -> None:
        self.q[stage].append(float(ms))

    def mean(self, stage: str) -> float | None:
        q = self.q[stage]
        return sum(q) / len(q) if q else None

    def text(self) -> str:
        parts = []
        for k in STAGES:
            m = self.mean(k)
            parts.append(f"{STAGE_LABELS[k]} {m:.0f} ms" if m is not None else f"{STAGE_LABELS[k]} —")
        return " · ".join(parts)


class RateMeter:
    """Events per second over the last ``window`` events."""

    def __init__(self, window: int = 60):
        self.t: deque = deque(maxlen=window)

    def tick(self) -> None:
        self.t.append(time.monotonic())

    def rate(self) -> float:
        if len(self.t) < 2:
            return 0.0
        span = time.monotonic() - self.t[0]
        return (len(self.t) - 1) / span if span > 0 else 0.0


class EventLoopProbe(QObject):
    """Measures GUI responsiveness: how late a ``interval_ms`` QTimer fires (event-loop lag)."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = 20):
        super().__init__(parent)
        self.interval_ms = interval_ms
        self.lags: deque = deque(maxlen=5000)
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._last = 0.0

    def start(self) -> None:
        self.lags.clear()
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @Slot()
    def _tick(self) -> None:
        now = time.perf_counter()
        self.lags.append(max(0.0, (now - self._last) * 1e3 - self.interval_ms))
        self._last = now

    def stats(self) -> dict[str, float]:
        """Lag in ms beyond the timer interval: median, p95, p99, max, and ticks counted."""
        if not self.lags:
            return {"n": 0, "p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}
        s = sorted(self.lags)

        def q(p: float) -> float:
            return s[min(len(s) - 1, int(p * len(s)))]

        return {"n": len(s), "p50": q(0.5), "p95": q(0.95), "p99": q(0.99), "max": s[-1]}


def titled(widget, title: str) -> QFrame:
    """``widget`` under a small bold title."""
    box = QFrame()
    lay = QVBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 0)
    label = QLabel(f"<b>{title}</b>")
    label.setObjectName("title")
    lay.addWidget(label)
    lay.addWidget(widget, 1)
    return box


class ExplanationBridge(QObject):
    """Carries the facade's explanation callbacks (explainer thread) into the GUI thread."""

    explained = Signal(str, object)

    def listener(self):
        """A plain callback for ``facade.add_explanation_listener``; harmless once this is gone."""
        ref = weakref.ref(self)

        def forward(inspection_id: str, explanation: Explanation) -> None:
            bridge = ref()
            if bridge is not None:
                try:
                    bridge.explained.emit(inspection_id, explanation)
                except RuntimeError:  # the window was closed meanwhile
                    pass

        return forward


def esc(text: object) -> str:
    """Plain text for a rich-text label."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
