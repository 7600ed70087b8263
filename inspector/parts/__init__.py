"""Parts, not frames: trigger modes, part detection on a live stream, and part identity.

- :mod:`inspector.parts.trigger`: the trigger modes, a software :class:`Trigger` and the
  station's :class:`TriggerQueue` (``Inspector.trigger`` puts, the running line takes).
- :mod:`inspector.parts.detect`: free-run part detection (a part enters, settles, leaves).
- :mod:`inspector.parts.source`: :class:`PartSource`, the line's view of a live source as parts.
- :mod:`inspector.parts.identity`: the part id of an inspection (code in the frame, trigger
  message, or ``<order>-<lot>-<sequence>`` from the database).

See docs/integrations.md, "Parts and part identity".
"""

from inspector.parts.trigger import (
    EVERY_FRAME,
    FREE_RUN,
    HARDWARE,
    MODES,
    SOFTWARE,
    Trigger,
    TriggerError,
    TriggerQueue,
    resolve_mode,
)

__all__ = ["EVERY_FRAME", "FREE_RUN", "HARDWARE", "MODES", "SOFTWARE", "Trigger", "TriggerError", "TriggerQueue",
           "resolve_mode"]
