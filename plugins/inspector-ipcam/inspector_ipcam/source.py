"""``ipcam:<url>``: an IP camera (RTSP, or HTTP MJPEG) as a live frame source.

A live :class:`~inspector.sources.FrameSource` read through OpenCV's FFmpeg backend on its own
thread (:mod:`inspector_ipcam.stream`): iterating yields the newest frame the camera sent, never a
backlog. Options (settings ``plugins.ipcam``, the spec's ``#fragment``, keyword arguments;
:mod:`inspector_ipcam.options`): RTSP transport (TCP by default), open and read timeouts, reconnect
backoff, FFmpeg options.

Trigger modes (the line's, :mod:`inspector.parts.trigger`): ``free-run`` (part detection on the
stream), ``software`` (each trigger inspects the newest frame; an IP camera has no trigger of its
own, so ``software_trigger`` is not offered and the line takes the newest frame) and
``every-frame``. ``hardware`` is not offered: an RTSP camera streams at its own rate.

Opening fails with a :class:`~inspector.sources.SourceError` (not recoverable) that says why the
camera cannot be reached; a stream that stops later is reported once (recoverable) and
reconnected. The URL's credentials are masked in the description, in every message and in
frames' ``meta``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from inspector.domain import Frame, utcnow
from inspector.sources import ErrorHandler, FrameSource, SourceError
from inspector.sources.decode import to_rgb
from inspector_ipcam import options as opts_mod
from inspector_ipcam.options import mask_url
from inspector_ipcam.stream import Stream

log = logging.getLogger(__name__)

POLL_S = 0.2  # longest a wait for the next frame lasts, so stop() is never late by more


class IPCamSource(FrameSource):
    """An IP camera as a live source; see the module docstring."""

    name = "ipcam"
    is_live = True
    trigger_modes = ("free-run", "software", "every-frame")

    def __init__(
        self, target: str = "", on_error: ErrorHandler | None = None, *, settings: Any = None, **options: Any
    ):
        super().__init__(on_error)
        section = settings.plugin("ipcam") if settings is not None else opts_mod.station_section()
        self.url, fragment = opts_mod.resolve_url(target, section)
        self.options = opts_mod.merge(section, fragment, options)
        self.frames = 0  # frames yielded
        self._stream: Stream | None = None
        self._done = (0, 0, 0, 0)  # skipped, reconnects, losses, decoded of streams already closed

    # --- what the line asks -------------------------------------------------------------------

    @property
    def description(self) -> str:
        return f"ipcam:{mask_url(self.url)}"

    @property
    def dropped(self) -> int:  # type: ignore[override]
        """Frames decoded but never yielded: a newer one replaced them before the consumer asked."""
        return self._done[0] + (self._stream.skipped if self._stream else 0)

    @dropped.setter
    def dropped(self, value: int) -> None:  # FrameSource.__init__ sets 0; the count is the stream's
        pass

    @property
    def reconnects(self) -> int:
        return self._done[1] + (self._stream.reconnects if self._stream else 0)

    def stats(self) -> dict[str, Any]:
        """Counters: frames decoded and yielded, dropped (replaced by newer), losses, reconnect attempts."""
        s = self._stream
        return {
            "decoded": self._done[3] + (s.frames if s else 0),
            "frames": self.frames,
            "dropped": self.dropped,
            "losses": self._done[2] + (s.losses if s else 0),
            "reconnects": self.reconnects,
            "url": mask_url(self.url),
            "transport": self.options.transport,
        }

    # --- open / close ----------------------------------------------------------------------------

    def _problem(self, message: str, recoverable: bool = True) -> None:
        self._report(message, mask_url(self.url), recoverable)

    def open(self) -> None:
        """Connect to the camera; SourceError (not recoverable) saying why when it cannot be reached."""
        self._stopped = False
        if self._stream is not None and self._stream.running:
            return
        self._retire()
        stream = Stream(self.url, self.options, self._problem)
        try:
            stream.start()
        except SourceError as exc:
            raise SourceError(str(exc), item=exc.item, recoverable=False) from None
        self._stream = stream

    def _retire(self) -> None:
        s, self._stream = self._stream, None
        if s is not None:
            s.join()
            skipped, reconnects, losses, decoded = self._done
            self._done = (
                skipped + s.skipped,
                reconnects + s.reconnects,
                losses + s.losses,
                decoded + s.frames,
            )

    def close(self) -> None:
        self._retire()

    def stop(self) -> None:
        super().stop()
        if self._stream is not None:
            self._stream.stop()

    # --- frames --------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Frame]:
        if self._stream is None or not self._stream.running:
            self.open()
        stream = self._stream
        masked = mask_url(self.url)
        while not self._stopped and stream is not None:
            got = stream.take(POLL_S)
            if got is None:
                if stream.ended:
                    return
                continue
            bgr, number, decoded_ns = got
            index = self.frames
            self.frames += 1
            yield Frame(
                image=to_rgb(bgr),
                source=self.description,
                index=index,
                name=f"frame-{index:06d}",
                captured_at=utcnow(),
                meta={"url": masked, "stream_frame": number, "decoded_ns": decoded_ns},
            )
