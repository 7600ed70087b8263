"""A real RTSP server for the IP camera tests: GStreamer's gst-rtsp-server through PyGObject.

Run as a script (the tests start it as a subprocess, so killing it is a camera that dies)::

    python ipcam_rtsp_server.py --port 8554 --mount /parts --fps 15 --hold 1 --log push.log a.png b.png ...

It serves ``rtsp://127.0.0.1:<port><mount>``: the images in turn (each ``--hold`` frames), looping,
as MJPEG over RTP (``appsrc ! videoconvert ! jpegenc ! rtpjpegpay``). Every frame is stamped with
its number (:func:`ipcam_stream.stamp`: a row of black and white blocks top-left) and its push is
written to ``--log`` as ``<number> <CLOCK_MONOTONIC ns>``, so a test knows which frame it got and
when the server sent it. ``--user``/``--password`` require RTSP basic authentication. Prints
``ready`` on stdout once it listens. ``--no-stamp`` sends the images unmarked (for a demo: the
stamp's blocks would be findings to the model).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

import cv2
import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402
from ipcam_stream import stamp  # noqa: E402


class Feed:
    """Pushes the stamped images into the media's appsrc at ``fps`` (one counter for every client)."""

    def __init__(self, images: list, fps: float, hold: int, log_path: Path | None, stamped: bool = True):
        self.images, self.fps, self.hold, self.stamped = images, fps, max(1, hold), stamped
        self.count = 0
        self.log = log_path.open("a", buffering=1) if log_path else None
        self.src = None

    def configure(self, _factory, media) -> None:
        src = media.get_element().get_by_name("src")
        h, w = self.images[0].shape[:2]
        src.set_property(
            "caps",
            Gst.Caps.from_string(f"video/x-raw,format=BGR,width={w},height={h},framerate={int(self.fps)}/1"),
        )
        self.src = src
        GLib.timeout_add(max(1, int(1000 / self.fps)), self.push, src)

    def push(self, src) -> bool:
        if src is not self.src:  # an older media (its client left); the new one has its own timer
            return False
        image = self.images[(self.count // self.hold) % len(self.images)]
        if self.stamped:
            image = stamp(image, self.count)
        buf = Gst.Buffer.new_wrapped(image.tobytes())
        if self.log:
            self.log.write(f"{self.count} {time.monotonic_ns()}\n")
        ret = src.emit("push-buffer", buf)
        self.count += 1
        if ret != Gst.FlowReturn.OK:
            self.src = None
            return False
        return True


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("images", nargs="+", type=Path)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mount", default="/parts")
    p.add_argument("--fps", type=float, default=15.0)
    p.add_argument("--hold", type=int, default=1)
    p.add_argument("--log", type=Path)
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument(
        "--no-stamp", action="store_true", help="send the images as they are (a demo for the model)"
    )
    args = p.parse_args(argv)
    Gst.init(None)
    images = [cv2.imread(str(path)) for path in args.images]
    if any(img is None for img in images):
        print(f"cannot read one of {args.images}", file=sys.stderr)
        return 2
    feed = Feed(images, args.fps, args.hold, args.log, stamped=not args.no_stamp)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        "( appsrc name=src is-live=true format=time do-timestamp=true ! videoconvert "
        "! video/x-raw,format=I420,colorimetry=1:4:0:0 ! jpegenc quality=90 ! rtpjpegpay name=pay0 pt=26 )"
    )
    factory.set_shared(True)
    factory.connect("media-configure", feed.configure)
    if args.user:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "user")
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password or ""), token)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        for permission in (
            GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS,
            GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT,
        ):
            permissions.add_permission_for_role("user", permission, True)
        factory.set_permissions(permissions)
    server.get_mount_points().add_factory(args.mount, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr)
        return 1
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    print("ready", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
