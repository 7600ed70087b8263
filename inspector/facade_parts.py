"""The facade's parts door: software triggers for the running line, trigger modes, and part ids.

A mixin of :class:`inspector.pipeline.Inspector`. ``trigger(part_id, origin)`` queues a software
trigger (the app's button, ``inspector inspect --trigger software`` on stdin, MQTT, OPC UA, a PLC
input, the HTTP API) and publishes :class:`~inspector.events.TriggerRequested`; a line in
``software`` mode inspects the newest frame as one part per trigger, in other modes a trigger's
part id names the next part. ``line_options`` turns the settings into the line's trigger mode and
part detection; ``tune_detection`` changes part detection while the line runs (the app's spin
boxes) and ``detection_readout`` says what the detector sees. ``part_id_for`` gives every inspection its part id: the one the trigger gave,
else a DataMatrix/QR/barcode read in the image, else ``<order>-<lot>-<sequence>`` with the
sequence kept in the database (``inspector.parts.identity``).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import Any

from inspector.domain import Frame, WorkOrder
from inspector.events import TriggerRequested
from inspector.parts.detect import DetectionSettings, PartDetector
from inspector.parts.trigger import (
    EVERY_FRAME,
    FREE_RUN,
    MODES,
    Trigger,
    TriggerError,
    TriggerQueue,
    clean_part_id,
    resolve_mode,
)

log = logging.getLogger(__name__)

_LOCK = threading.Lock()


class PartsDoor:
    """Triggers, trigger modes and part identity (see the module docstring)."""

    settings: Any
    events: Any
    TRIGGER_MODES = MODES  # auto, free-run, software, hardware, every-frame (inspector.parts.trigger)

    @property
    def triggers(self) -> TriggerQueue:
        """The station's software-trigger queue (the running line takes from it)."""
        with _LOCK:
            queue = self.__dict__.get("_trigger_queue")
            if queue is None:
                queue = self.__dict__["_trigger_queue"] = TriggerQueue()
            return queue

    def trigger(self, part_id: str | None = None, origin: str = "") -> None:
        """Queue a software trigger for the running line (or the next one that starts).

        In ``software`` mode each trigger inspects the newest frame as one part with this
        ``part_id``; in the other modes the id names the next part. ``origin`` says who asked
        (``app``, ``cli``, ``mqtt``...). Raises ``TriggerError`` for an unusable id (too long,
        control characters). Publishes :class:`~inspector.events.TriggerRequested`.
        """
        pid = clean_part_id(part_id)
        self.triggers.put(Trigger(pid, origin or ""))
        self.events.publish(TriggerRequested(self.__dict__.get("_line_run_id") or "", pid, origin or ""))

    def line_options(self, source: Any, run_id: str, trigger_mode: str | None = None) -> dict[str, Any]:
        """``run_line`` keyword arguments for ``source``: its resolved trigger mode (``trigger_mode``
        or the settings'), the trigger queue and the part-detection settings."""
        mode = resolve_mode(trigger_mode or self.settings.trigger_mode, source)
        self.__dict__["_line_run_id"] = run_id
        detector = PartDetector(self.detection_settings()) if mode == FREE_RUN else None
        self.__dict__["_detector"] = detector
        # every-frame on a live source (a hot folder, a camera): a trigger's id names the next part here
        self.__dict__["_announce"] = mode == EVERY_FRAME and bool(getattr(source, "is_live", False))
        return {"mode": mode, "triggers": self.triggers, "detection": detector}

    def line_ended(self, run_id: str) -> None:
        if self.__dict__.get("_line_run_id") == run_id:
            self.__dict__["_line_run_id"] = ""
            self.__dict__["_detector"] = None
            self.__dict__["_announce"] = False

    def detection_settings(self) -> DetectionSettings:
        """Part detection as the settings say (``part_motion``, ``part_presence``, ``part_*_frames``)."""
        s = self.settings
        return DetectionSettings(motion=s.part_motion, presence=s.part_presence,
                                 settle_frames=s.part_settle_frames, empty_frames=s.part_empty_frames).check()

    def tune_detection(self, **values: Any) -> DetectionSettings:
        """Change part detection (``motion``, ``presence``, ``settle_frames``, ``empty_frames``) for the
        running line at once and for the next runs (this session; ``save_settings`` keeps them).
        Raises ``TriggerError`` for a value out of range; nothing changes then."""
        fields = {"motion": "part_motion", "presence": "part_presence", "settle_frames": "part_settle_frames",
                  "empty_frames": "part_empty_frames"}
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise TriggerError(f"unknown part-detection setting(s): {', '.join(unknown)} (known: {', '.join(fields)})")
        new = replace(self.detection_settings(), **values).check()
        for key, name in fields.items():
            setattr(self.settings, name, getattr(new, key))
        detector = self.__dict__.get("_detector")
        if detector is not None:
            detector.settings = new
        return new

    def detection_readout(self) -> dict[str, Any] | None:
        """The running part detector's last frame: motion, presence, state, parts taken, parts passed;
        None when no line runs in free-run mode (the app shows it beside the spin boxes)."""
        d = self.__dict__.get("_detector")
        if d is None:
            return None
        return {"motion": d.motion, "presence": d.presence, "state": d.state, "parts": d.parts, "passed": d.passed,
                "belt": d.belt is not None}

    def part_id_for(self, frame: Frame, work_order: WorkOrder) -> str:
        """The part id of the part in ``frame``: given (trigger), read (a code), else generated."""
        if frame.part_id:
            return frame.part_id
        announced = self.triggers.take_part_id() if self.__dict__.get("_announce") else None
        if announced:
            return announced
        from inspector.parts import identity

        if self.settings.read_codes and frame.image is not None and frame.image.size:
            code = identity.read_code(frame.image)
            if code:
                return code
        try:
            sequence = self.next_part_sequence(work_order)
        except Exception as exc:  # storage degraded: the part still gets a unique id and is never lost
            log.warning("no part sequence number from the database (%s): a random part id is used", exc)
            return identity.fallback_id(work_order)
        return identity.generated_id(work_order, sequence)

    def next_part_sequence(self, work_order: WorkOrder) -> int:
        """The next sequence number of the order and lot, from the database (never repeats)."""
        return self._write(self.store.next_part_sequence, work_order.order_id, work_order.lot)  # type: ignore[attr-defined]
