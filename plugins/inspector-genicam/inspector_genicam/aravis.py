"""Aravis through PyGObject: the one import of ``gi``, camera discovery and opening by id.

Importing this module raises :class:`ImportError` with what to install when Aravis cannot be
used (no PyGObject in the environment, or no ``Aravis-0.8`` typelib), so the plugin that needs
it is listed FAILED with that message by ``inspector plugins`` and skipped by the station.

Opening: ``target`` is a device id as Aravis lists it (``<vendor>-<model>-<serial>``, e.g.
``Aravis-Fake-GENI1``), a serial number, a GigE Vision IP address, or empty for the first
camera found. A GigE Vision camera found by discovery is opened by its address, so Aravis
talks to it through the interface that routes to it (a camera answering on loopback can also
be discovered through another interface, whose stream packets would never arrive).
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import asdict, dataclass

from inspector.sources import SourceError

try:
    import gi

    gi.require_version("Aravis", "0.8")
    from gi.repository import Aravis, GLib
except (ImportError, ValueError) as exc:  # ValueError: "Namespace Aravis not available"
    raise ImportError(
        f"Aravis is not importable ({exc}): install the Debian packages gir1.2-aravis-0.8 and "
        "libgirepository1.0-dev libcairo2-dev pkg-config, then PyGObject in the venv "
        "(pip install -c .ci/constraints.txt PyGObject); see docs/integrations.md, GenICam cameras") from exc

log = logging.getLogger(__name__)

GIGE = "GigEVision"

__all__ = ["GIGE", "Aravis", "CameraInfo", "GLib", "aravis_version", "list_cameras", "open_camera"]


@dataclass(frozen=True)
class CameraInfo:
    """One camera as discovery sees it."""

    device_id: str
    address: str
    protocol: str
    vendor: str
    model: str
    serial: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def aravis_version() -> str:
    try:
        return f"{Aravis.get_major_version()}.{Aravis.get_minor_version()}.{Aravis.get_micro_version()}"
    except AttributeError:  # not exported by every build's typelib
        return "0.8"


def list_cameras() -> list[CameraInfo]:
    """Every camera Aravis discovers now (GigE Vision broadcast on every interface, USB3 Vision)."""
    Aravis.update_device_list()
    out = []
    for i in range(Aravis.get_n_devices()):
        out.append(CameraInfo(Aravis.get_device_id(i) or "", Aravis.get_device_address(i) or "",
                              Aravis.get_device_protocol(i) or "", Aravis.get_device_vendor(i) or "",
                              Aravis.get_device_model(i) or "", Aravis.get_device_serial_nbr(i) or ""))
    return out


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def resolve(target: str, cameras: list[CameraInfo] | None = None) -> tuple[str, CameraInfo | None]:
    """What to hand ``Aravis.Camera.new`` for ``target``, and the discovered camera if any.

    Raises SourceError (recoverable: it may come back) when no camera matches.
    """
    target = target.strip()
    if target and _is_address(target):
        return target, None
    cameras = list_cameras() if cameras is None else cameras
    if not target:
        if not cameras:
            raise SourceError("no GenICam camera found (arv-tool-0.8 lists what Aravis sees)", item="genicam:")
        found = cameras[0]
    else:
        matches = [c for c in cameras if target in (c.device_id, c.serial, c.address)]
        if not matches:
            seen = ", ".join(f"{c.device_id} ({c.address})" for c in cameras) or "none"
            raise SourceError(f"GenICam camera {target!r} not found; cameras seen now: {seen}", item=target)
        found = matches[0]
    if found.protocol == GIGE and found.address:
        return found.address, found
    return found.device_id, found


def open_camera(target: str) -> tuple[Aravis.Camera, CameraInfo | None]:
    """Open the camera ``target`` names (see the module docstring). SourceError when it cannot."""
    name, info = resolve(target)
    try:
        camera = Aravis.Camera.new(name)
    except GLib.Error as exc:
        raise SourceError(f"GenICam camera {target or name!r} cannot be opened: {exc.message}",
                          item=target or name) from exc
    if camera is None:  # older bindings return None instead of raising
        raise SourceError(f"GenICam camera {target or name!r} cannot be opened", item=target or name)
    return camera, info
