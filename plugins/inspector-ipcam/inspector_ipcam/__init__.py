"""Inspector's IP camera plugin: RTSP and HTTP MJPEG cameras as a live frame source.

Entry point ``inspector.sources: ipcam`` (:class:`inspector_ipcam.source.IPCamSource`, spec
``ipcam:rtsp://[user:password@]host[:port]/path``, ``ipcam:http://host/path`` of an MJPEG
stream, or ``ipcam:<name>`` from ``plugins.ipcam.cameras``). Frames are read by OpenCV's FFmpeg
backend on a thread that keeps only the newest one; RTSP runs over TCP by default; a stream that
stops is reconnected with backoff; credentials are masked wherever the URL is shown.

See docs/integrations.md, "IP cameras (RTSP, HTTP MJPEG)".
"""

from __future__ import annotations

from inspector_ipcam.options import IPCamOptions, mask_url
from inspector_ipcam.source import IPCamSource

__all__ = ["IPCamOptions", "IPCamSource", "mask_url"]
