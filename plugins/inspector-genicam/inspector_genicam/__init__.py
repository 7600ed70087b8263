"""Inspector's GenICam plugin: GigE Vision and USB3 Vision cameras as a frame source, through Aravis.

Entry points: ``inspector.sources: genicam`` (:class:`inspector_genicam.source.GenICamSource`,
spec ``genicam:<device id or address>[?option=value&...]``) and ``inspector.commands: genicam``
(``inspector genicam list|show|grab``). Aravis comes from Debian (``gir1.2-aravis-0.8``) through
PyGObject; only :mod:`inspector_genicam.aravis` imports it, so this package and the command
import without it and the source is listed FAILED, with what to install, by ``inspector plugins``.

See docs/integrations.md, "GenICam cameras".
"""

from __future__ import annotations

__all__ = ["GenICamSource"]


def __getattr__(name: str):
    if name == "GenICamSource":  # lazily: importing it needs Aravis
        from inspector_genicam.source import GenICamSource

        return GenICamSource
    raise AttributeError(name)
