"""``inspector genicam``: find GenICam cameras, show what one offers, grab frames to check settings.

- ``inspector genicam list [--json]``: every camera Aravis discovers (id, address, vendor, model);
- ``inspector genicam show TARGET [--json]``: pixel formats, trigger inputs, exposure/gain ranges and
  current values, and the line's trigger modes it supports;
- ``inspector genicam grab TARGET -o out.png [--count N] [--exposure-us X] [--gain G] [--pixel-format F]
  [--trigger software]``: open it as the line would, save frames (``out-0001.png``... for several).

Aravis is imported only when a subcommand runs, so ``inspector --help`` never needs it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from inspector.sources import SourceError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("genicam", help="GenICam cameras through Aravis: list, show, grab",
                       description=__doc__.split("\n\n")[0] if __doc__ else None)
    cmds = p.add_subparsers(dest="genicam_cmd", required=True)
    ls = cmds.add_parser("list", help="cameras Aravis discovers now")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)
    show = cmds.add_parser("show", help="what a camera offers and its current settings")
    show.add_argument("target", nargs="?", default="", help="device id, serial or IP address (default: first)")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=run_show)
    grab = cmds.add_parser("grab", help="save frames as the line would receive them")
    grab.add_argument("target", nargs="?", default="", help="device id, serial or IP address (default: first)")
    grab.add_argument("-o", "--output", required=True, help="PNG file (several frames: numbered)")
    grab.add_argument("--count", type=int, default=1)
    grab.add_argument("--exposure-us", type=float)
    grab.add_argument("--gain", type=float)
    grab.add_argument("--pixel-format")
    grab.add_argument("--trigger", choices=["free-run", "software"], default="free-run")
    grab.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each frame")
    grab.set_defaults(func=run_grab)


def _aravis():
    try:
        from inspector_genicam import aravis
    except ImportError as exc:
        raise SourceError(str(exc), recoverable=False) from exc
    return aravis


def run_list(args: argparse.Namespace, ctx: object) -> int:
    cameras = _aravis().list_cameras()
    if args.json:
        print(json.dumps([c.to_dict() for c in cameras], indent=2))
        return 0
    if not cameras:
        print("no GenICam camera found")
        return 0
    for c in cameras:
        print(f"{c.device_id:<28} {c.address:<16} {c.protocol:<11} {c.vendor} {c.model} (serial {c.serial})")
    return 0


def run_show(args: argparse.Namespace, ctx: object) -> int:
    _aravis()
    from inspector_genicam.source import GenICamSource

    src = GenICamSource(args.target, settings=ctx.settings)
    try:
        modes = src.trigger_modes
        conn, caps = src._conn, src.capabilities
        info = {"device_id": conn.device_id if conn else args.target, "trigger_modes": list(modes),
                **(caps.extra if caps else {})}
        if conn is not None and caps is not None:
            info.update(pixel_format=conn._read(conn.camera.get_pixel_format_as_string, ""),
                        pixel_formats=list(caps.pixel_formats), trigger_sources=list(caps.trigger_sources),
                        software_trigger=caps.software_trigger, exposure_us=conn.exposure_us(),
                        exposure_bounds=caps.exposure_bounds, gain=conn.gain(), gain_bounds=caps.gain_bounds,
                        frame_rate_bounds=caps.frame_rate_bounds)
    finally:
        src.close()
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        for key, value in info.items():
            if isinstance(value, list | tuple):
                value = ", ".join(str(v) for v in value)
            print(f"{key:<18} {value}")
    return 0


def run_grab(args: argparse.Namespace, ctx: object) -> int:
    import threading

    import cv2

    _aravis()
    from inspector_genicam.source import GenICamSource

    options = {k: v for k, v in (("exposure_us", args.exposure_us), ("gain", args.gain),
                                 ("pixel_format", args.pixel_format)) if v is not None}
    src = GenICamSource(args.target, settings=ctx.settings, trigger=args.trigger, **options)
    out = Path(args.output)
    saved = []
    timer = threading.Timer(args.timeout * max(1, args.count), src.stop)
    with src:
        timer.start()
        try:
            frames = iter(src)
            for i in range(max(1, args.count)):
                if args.trigger == "software":
                    src.software_trigger()
                frame = next(frames, None)
                if frame is None:
                    break
                path = out if args.count == 1 else out.with_name(f"{out.stem}-{i + 1:04d}{out.suffix or '.png'}")
                cv2.imwrite(str(path), cv2.cvtColor(frame.image, cv2.COLOR_RGB2BGR))
                saved.append(path)
                print(f"{path}  {frame.size[0]}x{frame.size[1]}  {frame.meta.get('pixel_format')}  "
                      f"frame id {frame.meta.get('frame_id')}")
        finally:
            timer.cancel()
    if len(saved) < max(1, args.count):
        raise SourceError(f"{src.description}: {len(saved)} of {args.count} frames arrived within the timeout",
                          recoverable=False)
    return 0
