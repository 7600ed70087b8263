"""``genicam:<device id or address>``: a GenICam camera (GigE Vision, USB3 Vision) through Aravis.

A live :class:`~inspector.sources.FrameSource`. Options (settings ``plugins.genicam``, the spec's
query, keyword arguments; :mod:`inspector_genicam.options`): exposure, gain, pixel format (Mono8,
Mono10/12/16, RGB8, BGR8 and Bayer 8-bit are delivered as RGB), frame rate, trigger.

Trigger modes (the line's, :mod:`inspector.parts.trigger`): ``trigger_modes`` lists what the
camera supports (``hardware`` only when its TriggerSource offers an input line); the line calls
``set_trigger_mode`` before ``open``. ``software`` arms the camera's TriggerSoftware and
:meth:`GenICamSource.software_trigger` fires it: each fire gives one frame. ``hardware``: the
camera waits for its input line and every frame is a part.

Reconnect: the camera is lost when its heartbeat fails (Aravis ``control-lost``), when a probe
of an idle camera finds it gone or restarted, or when a free-running camera sends nothing for
``stall_s``. The loss is reported once (``SourceLost``, recoverable), the connection is torn
down and reopened with backoff (discovery each time, so a camera that came back at another
address is found by id) and configured again; the next frame ends the gap (``SourceReconnected``).
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

from inspector.domain import Frame, utcnow
from inspector.sources import ErrorHandler, FrameSource, SourceError
from inspector_genicam import options as opts_mod
from inspector_genicam.aravis import Aravis
from inspector_genicam.camera import Capabilities, Connection
from inspector_genicam.convert import to_rgb

log = logging.getLogger(__name__)

FREE_RUN, SOFTWARE, HARDWARE, EVERY_FRAME = "free-run", "software", "hardware", "every-frame"
POLL_S = 0.2  # longest a pop waits, so stop() and the checks are never late by more


class GenICamSource(FrameSource):
    """A GenICam camera as a live source; see the module docstring."""

    name = "genicam"
    is_live = True

    def __init__(self, target: str = "", on_error: ErrorHandler | None = None, *,
                 settings: Any = None, **options: Any):
        super().__init__(on_error)
        target, _, query = str(target or "").partition("?")
        self.target = target.strip()
        section = settings.plugin("genicam") if settings is not None else opts_mod.station_section()
        self.options = opts_mod.merge(section, query, options)
        self.mode = self.options.trigger
        self.frames = 0
        self.incomplete = 0  # buffers the camera delivered incomplete (missing packets): dropped
        self.reconnects = 0
        self.trigger_timeouts = 0  # software triggers that gave no frame in time
        self._conn: Connection | None = None
        self._caps: Capabilities | None = None
        self._stop_event = threading.Event()
        self._pending: collections.deque[float] = collections.deque()  # times of unanswered software triggers
        self._underruns = 0  # stream underruns of connections already closed
        self._good_at: float | None = None  # when the last whole frame arrived (None: not since connecting)
        self._bad_reported = False  # "every frame unusable" said for this stretch

    # --- what the line asks -------------------------------------------------------------------

    @property
    def description(self) -> str:
        return f"genicam:{self.target or (self._conn.device_id if self._conn else '')}"

    @property
    def trigger_modes(self) -> tuple[str, ...]:
        """The line's trigger modes this camera supports (probes the camera if not open yet)."""
        if self._caps is None:
            try:
                self._connect(configure=False)
            except SourceError as exc:  # open() reports it; until then assume a full camera
                log.info("genicam: trigger modes not probed (%s)", exc)
                return (FREE_RUN, SOFTWARE, HARDWARE, EVERY_FRAME)
        modes = [FREE_RUN, SOFTWARE]
        if self._caps is not None and self._caps.trigger_lines:
            modes.append(HARDWARE)
        return (*modes, EVERY_FRAME)

    @property
    def capabilities(self) -> Capabilities | None:
        return self._caps

    def set_trigger_mode(self, mode: str) -> None:
        """Called by the line before ``open`` (and allowed while running): how the camera is triggered."""
        mode = str(mode).strip().lower()
        camera_mode = FREE_RUN if mode in (FREE_RUN, EVERY_FRAME, "auto") else mode
        if camera_mode not in opts_mod.CAMERA_MODES:
            raise SourceError(f"genicam: unknown trigger mode {mode!r}", recoverable=False)
        self.mode = self.options.trigger = camera_mode
        conn = self._conn
        if conn is not None and conn.stream is not None:
            with conn.lock:
                conn._read(conn.camera.stop_acquisition)
                conn.set_trigger(camera_mode, self.options.trigger_line, self.options.trigger_activation)
                conn._do("start acquisition", conn.camera.start_acquisition, recoverable=True)
            self._pending.clear()

    def software_trigger(self) -> bool:
        """Fire the camera's TriggerSoftware: True when fired (its next frame is the part), False when the
        source is not in software mode or the camera has no TriggerSoftware (the line takes the newest frame)."""
        conn = self._conn
        if self.mode != SOFTWARE or (self._caps is not None and not self._caps.software_trigger):
            return False
        if conn is None or conn.stream is None:
            raise SourceError(f"{self.description} is not connected (reconnecting): trigger not sent",
                              item=self.target)
        conn.fire()
        self._pending.append(time.monotonic())
        return True

    # --- settings while running ---------------------------------------------------------------

    def _connected(self) -> Connection:
        if self._conn is None:
            raise SourceError(f"{self.description} is not connected", item=self.target)
        return self._conn

    @property
    def exposure_us(self) -> float | None:
        return self._conn.exposure_us() if self._conn else None

    def set_exposure(self, exposure_us: float) -> float:
        """Set the exposure time (us) now and after every reconnect; returns what the camera took."""
        value = self._connected().set_exposure(float(exposure_us))
        self.options.exposure_us = float(exposure_us)
        return value

    @property
    def gain(self) -> float | None:
        return self._conn.gain() if self._conn else None

    def set_gain(self, gain: float) -> float:
        value = self._connected().set_gain(float(gain))
        self.options.gain = float(gain)
        return value

    @property
    def pixel_format(self) -> str:
        return self._conn.pixel_format if self._conn else (self.options.pixel_format or "")

    def stats(self) -> dict[str, Any]:
        """Counters: frames, dropped, incomplete, reconnects, trigger timeouts, and Aravis's stream statistics."""
        conn = self._conn
        out: dict[str, Any] = {"frames": self.frames, "dropped": self.dropped, "incomplete": self.incomplete,
                               "reconnects": self.reconnects, "trigger_timeouts": self.trigger_timeouts}
        if conn is not None and conn.stream is not None:
            out["stream"] = conn.statistics()
            out["buffers_queued"], out["buffers_waiting"] = conn.buffer_counts()
        return out

    # --- connection ----------------------------------------------------------------------------

    def _connect(self, configure: bool = True) -> Connection:
        if self._conn is None:
            self._conn = Connection(self.target)
            self._caps = self._conn.caps
        self._good_at, self._bad_reported = None, False
        if configure:
            try:
                self._conn.configure(self.options, self.mode)
                self._conn.start(self.options.buffers)
            except SourceError:
                self._teardown()
                raise
        return self._conn

    def _teardown(self, alive: bool = True) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._underruns += conn.statistics().get("n_underruns", 0)
            conn.close(alive)
        self._pending.clear()

    def open(self) -> None:
        self._stop_event.clear()
        if self._conn is not None and self._conn.stream is not None:
            return
        try:
            self._connect()
        except SourceError as exc:
            raise SourceError(str(exc), item=exc.item or self.target, recoverable=False) from exc

    def close(self) -> None:
        self._teardown()

    def stop(self) -> None:
        super().stop()
        self._stop_event.set()

    def _lose(self, why: str) -> None:
        self._report(f"{self.description} lost: {why}; reconnecting", self.target)
        self._teardown(alive=False)

    def _reconnect(self) -> bool:
        backoff = 0.2
        while not self._stopped:
            if self.options.max_reconnects is not None and self.reconnects >= self.options.max_reconnects:
                self._report(f"{self.description} lost; giving up after {self.reconnects} reconnects",
                             self.target, recoverable=False)
                return False
            if self._stop_event.wait(backoff):
                return False
            self.reconnects += 1
            try:
                self._connect()
                log.info("%s reconnected after %d attempts", self.description, self.reconnects)
                return True
            except SourceError as exc:
                if not exc.recoverable:  # the camera is back but refuses the settings: say so, stop
                    self._report(f"{self.description}: {exc}", self.target, recoverable=False)
                    return False
                log.info("%s: reconnect attempt %d failed: %s", self.description, self.reconnects, exc)
                backoff = min(backoff * 2, self.options.max_backoff_s)
        return False

    # --- frames --------------------------------------------------------------------------------

    def _idle_check(self, conn: Connection, last_frame: float, last_probe: float) -> tuple[str, float]:
        """Why the camera counts as lost ('' if not) and when it was last probed."""
        now = time.monotonic()
        if conn.control_lost.is_set():
            return "control lost: the camera stopped answering its heartbeat", last_probe
        if self.mode == FREE_RUN and now - last_frame > self.options.stall_s:
            why = conn.probe()
            return why or f"no frame for {self.options.stall_s:g} s in free-run", now
        late = bool(self._pending) and now - self._pending[0] > self.options.trigger_timeout_s
        if late:
            self._pending.popleft()
            self.trigger_timeouts += 1
            self.dropped += 1
        if late or now - last_probe > self.options.probe_s:
            return conn.probe(), now
        return "", last_probe

    def _incomplete(self, why: str) -> None:
        """Count a buffer that cannot be a frame; say so once when none has been whole for ``stall_s``."""
        self.incomplete += 1
        self.dropped += 1
        now = time.monotonic()
        if self._good_at is None:
            self._good_at = now
        elif now - self._good_at > self.options.stall_s and not self._bad_reported:
            self._bad_reported = True
            self._report(f"{self.description}: every frame for {now - self._good_at:.0f} s arrived unusable ({why}): "
                         "check the network (packet size, MTU, bandwidth) or the pixel format", self.target)

    def _frame(self, conn: Connection, buffer) -> Frame | None:
        """The buffer's image as a Frame (the buffer is given back first); None when it was incomplete."""
        try:
            status = buffer.get_status()
            if status != Aravis.BufferStatus.SUCCESS:
                self._incomplete(status.value_nick)
                return None
            data = buffer.get_data()
            width, height = buffer.get_image_width(), buffer.get_image_height()
            meta = {"frame_id": int(buffer.get_frame_id()), "timestamp_ns": int(buffer.get_timestamp()),
                    "device": conn.device_id, "pixel_format": conn.pixel_format, "trigger": self.mode}
        finally:
            conn.push(buffer)
        try:
            image = to_rgb(data, width, height, conn.pixel_format)
        except SourceError as exc:
            self._incomplete(str(exc))
            return None
        self._good_at, self._bad_reported = time.monotonic(), False
        index = self.frames
        self.frames += 1
        if self._pending:
            self._pending.popleft()
        return Frame(image=image, source=self.description, index=index, name=f"frame-{index:06d}",
                     captured_at=utcnow(), meta=meta)

    def __iter__(self) -> Iterator[Frame]:
        if self._conn is None or self._conn.stream is None:
            self.open()
        last_frame = last_probe = time.monotonic()
        while not self._stopped:
            conn = self._conn
            if conn is None:
                if not self._reconnect():
                    return
                last_frame = last_probe = time.monotonic()
                continue
            buffer = conn.pop(POLL_S)
            if buffer is None:
                why, last_probe = self._idle_check(conn, last_frame, last_probe)
                if why:
                    self._lose(why)
                continue
            frame = self._frame(conn, buffer)
            last_frame = last_probe = time.monotonic()
            if frame is not None:
                yield frame

    @property
    def underruns(self) -> int:
        """Frames the camera sent while no buffer was free (the reader was behind)."""
        live = self._conn.statistics().get("n_underruns", 0) if self._conn is not None else 0
        return self._underruns + live

