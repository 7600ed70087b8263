"""Frame sources. ``open_source("folder:/in")`` picks one by spec string (see docs/sources.md)."""

from __future__ import annotations

from pathlib import Path

from inspector.sources.base import (
    IMAGE_SUFFIXES,
    VIDEO_SUFFIXES,
    ErrorHandler,
    FrameSource,
    ImageLimits,
    SourceError,
)
from inspector.sources.decode import ImageRejected, UnreadableFrame, decode_image_bytes, read_image

__all__ = ["FrameSource", "ImageLimits", "ImageRejected", "SourceError", "UnreadableFrame", "decode_image_bytes",
           "open_source", "read_image", "parse_source_spec"]


def parse_source_spec(spec: str | list[str]) -> tuple[str, str | list[str]]:
    """'kind:target' or a bare path/list -> (kind, target). Kinds: folder, files, hotfolder, video, camera."""
    if isinstance(spec, list):
        if len(spec) == 1:
            return parse_source_spec(spec[0])
        return "files", spec
    from inspector import plugins

    kind, sep, target = spec.partition(":")
    if sep and kind in plugins.names("inspector.sources"):
        if kind == "files":
            return kind, [t for t in target.split(",") if t]
        return kind, target
    path = Path(spec)
    if spec.isdigit():
        return "camera", spec
    if spec.startswith(("rtsp://", "http://", "https://")):
        return "camera", spec
    if path.is_dir():
        return "folder", spec
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return "video", spec
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return "files", [spec]
    raise SourceError(f"cannot tell what kind of source {spec!r} is: use folder:, files:, hotfolder:, "
                      "video: or camera: (e.g. camera:0)", item=spec, recoverable=False)


def open_source(spec: str | list[str], on_error: ErrorHandler | None = None, *, settings=None,
                **options) -> FrameSource:
    """Build a source from a spec; plugin kinds come from the ``inspector.sources`` entry points.

    ``settings``: the station's settings, handed to a source whose constructor takes a
    ``settings`` keyword (plugin sources read their section of ``Settings.plugins`` from it), so
    ``--config`` reaches them; sources without that keyword never see it.
    """
    import inspect

    from inspector import plugins

    kind, target = parse_source_spec(spec)
    factory = plugins.get("inspector.sources", kind)
    if settings is not None and "settings" not in options:
        try:
            takes = "settings" in inspect.signature(factory).parameters
        except (TypeError, ValueError):  # a builtin or C callable without a signature
            takes = False
        if takes:
            options["settings"] = settings
    return factory(target, on_error=on_error, **options)
