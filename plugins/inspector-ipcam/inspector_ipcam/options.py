"""The IP camera source's options and URLs: settings section ``plugins.ipcam``, then the spec's fragment.

``ipcam:rtsp://cam-3.line/stream1#transport=udp&read_timeout_s=2`` overrides the station's
``plugins: {ipcam: {...}}`` section key by key (the fragment never reaches the camera: the query
belongs to the camera's URL); keyword arguments to the source override both. ``ipcam:<name>``
takes the URL from the section's ``cameras: {<name>: <url>}``, so passwords stay in the settings
file instead of command lines; ``ipcam:`` alone takes the section's ``url``. Unknown keys and
values of the wrong kind are a :class:`~inspector.sources.SourceError` (not recoverable) that
lists the known keys. :func:`mask_url` hides credentials wherever a URL is shown.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from inspector import plugin_options
from inspector.sources import SourceError

SCHEMES = ("rtsp", "rtsps", "http", "https")
# RTSP transports: interleaved in the RTSP connection, RTP over UDP, tunnelled in HTTP
TRANSPORTS = ("tcp", "udp", "http")
_SECRET_KEYS = re.compile(r"([?&;](?:pass(?:word)?|pwd|passwd|token|auth|key|secret)=)[^&#;]*", re.IGNORECASE)


@dataclass
class IPCamOptions:
    """How the source opens and watches the stream (again after every reconnect)."""

    transport: str = "tcp"  # RTSP transport; TCP by default: no lost UDP packets, passes firewalls
    open_timeout_s: float = 10.0  # connecting and the stream's first answer (CAP_PROP_OPEN_TIMEOUT_MSEC)
    read_timeout_s: float = 5.0  # no frame this long: the camera counts as lost (CAP_PROP_READ_TIMEOUT_MSEC)
    max_backoff_s: float = 5.0  # longest wait between two reconnect attempts (from 0.2 s, doubling)
    max_reconnects: int | None = None  # give up (not recoverable) after this many attempts; None: never
    low_delay: bool = True  # FFmpeg fflags=nobuffer, flags=low_delay: each frame decoded when whole
    ffmpeg_options: str = ""  # more FFmpeg options, "key;value|key;value" (OPENCV_FFMPEG_CAPTURE_OPTIONS)

    def __post_init__(self) -> None:
        self.transport = str(self.transport).strip().lower()
        if self.transport not in TRANSPORTS:
            raise SourceError(
                f"ipcam transport {self.transport!r}: use one of {', '.join(TRANSPORTS)}", recoverable=False
            )
        for name in ("open_timeout_s", "read_timeout_s", "max_backoff_s"):
            if getattr(self, name) <= 0:
                raise SourceError(f"ipcam {name} must be positive", recoverable=False)
        if self.max_reconnects is not None and self.max_reconnects < 0:
            raise SourceError("ipcam max_reconnects must be 0 or more", recoverable=False)
        for item in filter(None, self.ffmpeg_options.split("|")):
            if ";" not in item:
                raise SourceError(f"ipcam ffmpeg_options item {item!r} must be key;value", recoverable=False)

    def capture_options(self, scheme: str) -> str:
        """The OPENCV_FFMPEG_CAPTURE_OPTIONS string for a URL of ``scheme``."""
        items = [f"rtsp_transport;{self.transport}"] if scheme.startswith("rtsp") else []
        if self.low_delay:
            items += ["fflags;nobuffer", "flags;low_delay"]
        items += [item for item in self.ffmpeg_options.split("|") if item]
        return "|".join(items)


FIELDS = {f.name: f for f in dataclasses.fields(IPCamOptions)}
_ALIASES = {
    "rtsp_transport": "transport",
    "open_timeout": "open_timeout_s",
    "read_timeout": "read_timeout_s",
    "timeout_s": "read_timeout_s",
}
_SECTION_ONLY = ("url", "cameras")  # section keys that are not options


def _convert(name: str, value: Any) -> Any:
    kind = str(FIELDS[name].type)
    if kind == "str" and (value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "null"))):
        return ""
    return plugin_options.convert("ipcam", name, kind, value)


def merge(
    section: dict[str, Any] | None, fragment: str = "", overrides: dict[str, Any] | None = None
) -> IPCamOptions:
    """Options from a settings section, a spec fragment and keyword overrides (later wins)."""
    values: dict[str, Any] = {}
    layers = [
        ("plugins.ipcam", dict(section or {})),
        ("the source spec", dict(parse_qsl(fragment, True))),
        ("the source options", dict(overrides or {})),
    ]
    for where, layer in layers:
        layer.pop("enabled", None)
        if where == "plugins.ipcam":
            for key in _SECTION_ONLY:
                layer.pop(key, None)
        for key, value in layer.items():
            name = _ALIASES.get(key, key)
            if name not in FIELDS:
                raise SourceError(
                    f"unknown ipcam option {key!r} in {where}; known: {', '.join(sorted(FIELDS))}",
                    recoverable=False,
                )
            values[name] = _convert(name, value)
    return IPCamOptions(**values)


def resolve_url(target: str, section: dict[str, Any] | None) -> tuple[str, str]:
    """``(url, fragment)`` for a spec target: a URL, a camera name from ``plugins.ipcam.cameras``,
    or empty (``plugins.ipcam.url``). SourceError (not recoverable) when none fits."""
    target, _, fragment = str(target or "").strip().partition("#")
    section = section or {}
    cameras = section.get("cameras") or {}
    if not isinstance(cameras, dict):
        raise SourceError("plugins.ipcam.cameras must map camera names to URLs", recoverable=False)
    if not target:
        target = str(section.get("url") or "")
        if not target:
            raise SourceError(
                "ipcam: no URL given: use ipcam:rtsp://<camera>/<path>, a name from "
                "plugins.ipcam.cameras, or set plugins.ipcam.url",
                recoverable=False,
            )
    elif "://" not in target:
        if target not in cameras:
            known = ", ".join(sorted(cameras)) or "none configured"
            raise SourceError(
                f"ipcam: no camera named {target!r} in plugins.ipcam.cameras (known: {known})",
                item=target,
                recoverable=False,
            )
        target = str(cameras[target])
    check_url(target)
    return target, fragment


def check_url(url: str) -> None:
    """SourceError (not recoverable, credentials masked) unless ``url`` is an rtsp(s)/http(s) URL with a host."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise SourceError(
            f"ipcam: bad URL {mask_url(url)}: {exc}", item=mask_url(url), recoverable=False
        ) from None
    if parts.scheme.lower() not in SCHEMES or not host:
        raise SourceError(
            f"ipcam: {mask_url(url)} is not an IP camera URL: use rtsp://[user:password@]host[:port]/path "
            "or http(s)://host/path of an MJPEG stream",
            item=mask_url(url),
            recoverable=False,
        )


def mask_url(url: str) -> str:
    """``url`` with any user name and password in it (and password-like query values) replaced by ***."""
    text = str(url)
    scheme, sep, rest = text.partition("://")
    if sep:
        # the last @ before any query: a password holding an unencoded / or @ is masked whole too
        end = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
        at = rest.rfind("@", 0, end)
        if at >= 0:
            rest = "***:***@" + rest[at + 1 :]
        text = f"{scheme}{sep}{rest}"
    return _SECRET_KEYS.sub(r"\1***", text)


def station_section() -> dict[str, Any] | None:
    """The station's ``plugins.ipcam`` section (None when absent or when settings cannot be read)."""
    return plugin_options.station_section("ipcam")
