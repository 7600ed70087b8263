"""The facade's parts door: software triggers for the running line, trigger modes, and part ids.

A mixin of :class:`inspector.pipeline.Inspector`. ``trigger(part_id, origin)`` queues a software
trigger (the app's button, ``inspector inspect --trigger software`` on stdin, MQTT, OPC UA, a PLC
input, the HTTP API) and publishes :class:`~inspector.events.TriggerRequested`; a line in
``software`` mode inspects the newest frame as one part per trigger, in other modes a trigger's
part id names the next part. ``line_options`` turns the settings into the line's trigger mode and
part detection. ``part_id_for`` gives every inspection its part id: the one the trigger gave,
else a DataMatrix/QR/barcode read in the image, else ``<order>-<lot>-<sequence>`` with the
sequence kept in the database (``inspector.parts.identity``).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from inspector.domain import Frame, WorkOrder
from inspector.events import TriggerRequested
from inspector.parts.detect import DetectionSettings
from inspector.parts.trigger import Trigger, TriggerQueue, clean_part_id, resolve_mode

log = logging.getLogger(__name__)

_LOCK = threading.Lock()


class PartsDoor:
    """Triggers, trigger modes and part identity (see the module docstring)."""

    settings: Any
    events: Any

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
        s = self.settings
        mode = resolve_mode(trigger_mode or s.trigger_mode, source)
        self.__dict__["_line_run_id"] = run_id
        detection = DetectionSettings(motion=s.part_motion, presence=s.part_presence,
                                      settle_frames=s.part_settle_frames, empty_frames=s.part_empty_frames)
        return {"mode": mode, "triggers": self.triggers, "detection": detection.check()}

    def line_ended(self, run_id: str) -> None:
        if self.__dict__.get("_line_run_id") == run_id:
            self.__dict__["_line_run_id"] = ""

    def part_id_for(self, frame: Frame, work_order: WorkOrder) -> str:
        """The part id of the part in ``frame``: given (trigger), read (a code), else generated."""
        if frame.part_id:
            return frame.part_id
        from inspector.parts import identity

        if self.settings.read_codes and frame.image is not None and frame.image.size:
            code = identity.read_code(frame.image)
            if code:
                return code
        return identity.generated_id(work_order, self.next_part_sequence(work_order))

    def next_part_sequence(self, work_order: WorkOrder) -> int:
        """The next sequence number of the order and lot, from the database (never repeats)."""
        return self._write(self.store.next_part_sequence, work_order.order_id, work_order.lot)  # type: ignore[attr-defined]
