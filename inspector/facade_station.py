"""The facade's station door: what the operator station asks the core on the floor.

A mixin of :class:`inspector.pipeline.Inspector`:

- ``part_taught(part_number)``: whether a part has a reference, without loading the model (the
  station's next-step guidance asks this as soon as an order is loaded; docs/app.md).
- ``acknowledge(inspection_id, held_s=...)``: the operator has seen a held NG/REVIEW part. Audited as
  ``part.acknowledged`` (who, which part, when, how long it was held), so a shift can show that every
  flagged part was seen. ``acknowledgements(...)`` reads them back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from inspector.domain import VerdictKind
from inspector.errors import NotFound, UsageError

log = logging.getLogger(__name__)

ACK_ACTION = "part.acknowledged"


class StationDoor:
    """Station questions and the audited acknowledgement of held parts."""

    settings: Any
    store: Any
    actor: str
    _backend: Any
    _record: Callable[..., None]

    # --- is the order's part taught? ----------------------------------------------------------------

    def part_taught(self, part_number: str) -> bool:
        """True when ``part_number`` has a taught reference for this station's model backend.

        Asks the loaded backend; before the model is loaded, an unloaded instance of the configured
        backend (it only looks at the reference folder), so the answer costs no model load.
        """
        backend = self._backend
        if backend is None:
            backend = self._taught_probe()
        return bool(backend.is_taught(part_number))

    def _taught_probe(self) -> Any:
        probe = getattr(self, "_probe_backend", None)
        if probe is None:
            from pathlib import Path

            from inspector import plugins

            with _PROBE_LOCK:
                probe = getattr(self, "_probe_backend", None)
                if probe is None:
                    factory = plugins.get("inspector.backends", self.settings.backend)
                    probe = plugins.call_backend(factory, Path(self.settings.reference_dir), self.settings.device,
                                                 self.settings)
                    self._probe_backend = probe
        return probe

    # --- acknowledgements of held NG/REVIEW parts ------------------------------------------------------

    def acknowledge(self, inspection_id: str, *, held_s: float | None = None) -> dict[str, Any]:
        """Record that the station's current user (signed in, else the settings' operator) has seen
        the flagged part ``inspection_id`` held on the banner; returns what was recorded.

        Raises :class:`NotFound` for an unknown id and :class:`UsageError` for a part the machine
        passed (an OK part is never held).
        """
        try:
            insp = self.store.get_inspection(inspection_id)
        except LookupError:
            raise NotFound(f"no inspection {inspection_id!r} to acknowledge") from None
        if insp.verdict.kind is VerdictKind.OK:
            raise UsageError(f"inspection {inspection_id} is OK: only NG and REVIEW parts are held and acknowledged")
        after: dict[str, Any] = {
            "verdict": insp.verdict.kind.value,
            "order_id": insp.order_id,
            "lot": insp.lot,
            "part_id": getattr(insp, "part_id", "") or "",
            "frame": insp.frame_name,
            "station": self.settings.station,
        }
        if held_s is not None:
            after["held_s"] = round(max(0.0, float(held_s)), 1)
        self._record(ACK_ACTION, "inspection", inspection_id, None, after)
        return {"actor": self.actor, "inspection_id": inspection_id, **after}

    def acknowledgements(self, inspection_id: str | None = None, **filters: Any) -> list[Any]:
        """The ``part.acknowledged`` audit events (all, or of one inspection), oldest first."""
        from inspector.trace import Audit

        return Audit(self.store).events(action=ACK_ACTION, entity="inspection", entity_id=inspection_id, **filters)


_PROBE_LOCK = threading.Lock()
