"""One connection to a GenICam camera through Aravis: configure, stream, probe, tear down.

:class:`Connection` holds the ``ArvCamera``, its stream and the stream's buffers. Every popped
buffer goes back to the stream before the frame is handed on (its bytes are copied), so the
buffer pool never drains; :meth:`Connection.close` stops acquisition (unless the camera is
gone), disconnects the ``control-lost`` handler and drops the stream and the device, which
ends Aravis's stream and heartbeat threads. Feature access is serialised by one lock, since the
line fires software triggers from another thread than the one reading frames.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from inspector.sources import SourceError
from inspector_genicam.aravis import GIGE, Aravis, GLib, open_camera
from inspector_genicam.convert import SUPPORTED, bytes_per_pixel
from inspector_genicam.options import GenICamOptions

log = logging.getLogger(__name__)

SCP0_PORT = 0x0D00  # GigE Vision bootstrap: stream channel 0 port (0 after the camera restarted)


@dataclass(frozen=True)
class Capabilities:
    """What the camera offers, read when it is connected."""

    pixel_formats: tuple[str, ...] = ()
    trigger_sources: tuple[str, ...] = ()  # e.g. ("Line0", "Software")
    software_trigger: bool = False
    exposure_bounds: tuple[float, float] | None = None
    gain_bounds: tuple[float, float] | None = None
    frame_rate_bounds: tuple[float, float] | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def trigger_lines(self) -> tuple[str, ...]:
        return tuple(s for s in self.trigger_sources if s != "Software")


def _bounds(fn) -> tuple[float, float] | None:
    try:
        lo, hi = fn()
        return float(lo), float(hi)
    except (GLib.Error, TypeError, ValueError):
        return None


class Connection:
    """An open camera; see the module docstring. Raises SourceError from every method."""

    def __init__(self, target: str):
        self.target = target
        self.lock = threading.RLock()
        self.control_lost = threading.Event()
        self.camera, self.info = open_camera(target)
        self.device = self.camera.get_device()
        self.is_gige = bool(self.camera.is_gv_device()) or (self.info is not None and self.info.protocol == GIGE)
        if self.is_gige and not self._read(self.device.is_controller, True):
            self.camera = self.device = None
            raise SourceError(f"GenICam camera {target} is controlled by another application (arv-viewer, "
                              "another station?): close it and try again", item=target)
        lost = self.control_lost  # the handler holds only the event: no cycle keeps the device alive
        self._handler = self.device.connect("control-lost", lambda _device: lost.set())
        self.stream = None
        self.payload = 0
        self.pixel_format = ""
        self.mode = "free-run"
        self.caps = self._capabilities()
        extra = self.caps.extra  # opened by address: Aravis's own id form, <vendor>-<model>-<serial>
        named = "-".join(extra[k] for k in ("vendor", "model", "serial")) if all(extra.values()) else ""
        self.device_id = self.info.device_id if self.info else (named or target)

    # --- reading and writing features ---------------------------------------------------------

    def _read(self, fn, default=None, *args):
        try:
            return fn(*args)
        except (GLib.Error, TypeError):
            return default

    def _do(self, what: str, fn, *args, recoverable: bool = False):
        try:
            with self.lock:
                return fn(*args)
        except GLib.Error as exc:
            raise SourceError(f"GenICam camera {self.target}: {what}: {exc.message}", item=self.target,
                              recoverable=recoverable) from exc

    def _capabilities(self) -> Capabilities:
        cam = self.camera
        with self.lock:
            formats = tuple(self._read(cam.dup_available_pixel_formats_as_strings, []) or [])
            sources = tuple(self._read(cam.dup_available_trigger_sources, []) or [])
            software = bool(self._read(cam.is_software_trigger_supported, False))
            exposure = _bounds(cam.get_exposure_time_bounds) if self._read(cam.is_exposure_time_available) else None
            gain = _bounds(cam.get_gain_bounds) if self._read(cam.is_gain_available) else None
            rate = _bounds(cam.get_frame_rate_bounds) if self._read(cam.is_frame_rate_available) else None
            extra = {"vendor": self._read(cam.get_vendor_name, "") or "", "model": self._read(cam.get_model_name, "") or "",
                     "serial": self._read(cam.get_device_serial_number, "") or ""}
        return Capabilities(formats, sources, software, exposure, gain, rate, extra)

    @staticmethod
    def _check_range(name: str, value: float, bounds: tuple[float, float] | None) -> None:
        if bounds is not None and not bounds[0] <= value <= bounds[1]:
            raise SourceError(f"genicam {name} {value:g} is outside the camera's range {bounds[0]:g}..{bounds[1]:g}",
                              recoverable=False)

    def set_exposure(self, exposure_us: float) -> float:
        if self.caps.exposure_bounds is None:
            raise SourceError(f"GenICam camera {self.target} has no exposure time feature", recoverable=False)
        self._check_range("exposure_us", exposure_us, self.caps.exposure_bounds)
        if self._read(self.camera.is_exposure_auto_available, False):
            self._do("exposure auto off", self.camera.set_exposure_time_auto, Aravis.Auto.OFF)
        self._do(f"exposure {exposure_us:g} us", self.camera.set_exposure_time, float(exposure_us))
        return self.exposure_us()

    def exposure_us(self) -> float | None:
        with self.lock:
            return self._read(self.camera.get_exposure_time)

    def set_gain(self, gain: float) -> float:
        if self.caps.gain_bounds is None:
            raise SourceError(f"GenICam camera {self.target} has no gain feature", recoverable=False)
        self._check_range("gain", gain, self.caps.gain_bounds)
        if self._read(self.camera.is_gain_auto_available, False):
            self._do("gain auto off", self.camera.set_gain_auto, Aravis.Auto.OFF)
        self._do(f"gain {gain:g}", self.camera.set_gain, float(gain))
        return self.gain()

    def gain(self) -> float | None:
        with self.lock:
            return self._read(self.camera.get_gain)

    def _set_pixel_format(self, wanted: str | None) -> None:
        if wanted is not None:
            if self.caps.pixel_formats and wanted not in self.caps.pixel_formats:
                raise SourceError(f"GenICam camera {self.target} has no pixel format {wanted!r}; it offers "
                                  f"{', '.join(self.caps.pixel_formats)}", recoverable=False)
            bytes_per_pixel(wanted)  # refused here when the plugin cannot convert it
            self._do(f"pixel format {wanted}", self.camera.set_pixel_format_from_string, wanted)
        self.pixel_format = self._do("pixel format", self.camera.get_pixel_format_as_string)
        if self.pixel_format not in SUPPORTED:
            usable = [f for f in self.caps.pixel_formats if f in SUPPORTED]
            raise SourceError(f"GenICam camera {self.target} sends {self.pixel_format}, which the plugin cannot "
                              f"convert; set pixel_format to one of {', '.join(usable) or ', '.join(SUPPORTED)}",
                              recoverable=False)

    def set_trigger(self, mode: str, line: str | None = None, activation: str | None = None) -> None:
        """free-run: no trigger; software: TriggerSoftware (when the camera has it); hardware: ``line``."""
        cam = self.camera
        if mode == "hardware":
            lines = self.caps.trigger_lines
            if not lines:
                raise SourceError(f"GenICam camera {self.target} has no hardware trigger input (trigger sources: "
                                  f"{', '.join(self.caps.trigger_sources) or 'none'})", recoverable=False)
            line = line or lines[0]
            if line not in lines:
                raise SourceError(f"GenICam camera {self.target} has no trigger input {line!r}; it has "
                                  f"{', '.join(lines)}", recoverable=False)
            self._do(f"hardware trigger on {line}", cam.set_trigger, line)
            if activation:
                self._do(f"trigger activation {activation}", cam.set_string, "TriggerActivation", activation)
        elif mode == "software" and self.caps.software_trigger:
            self._do("software trigger", cam.set_trigger, "Software")
        else:  # free-run, or software on a camera without TriggerSoftware: the line takes the newest frame
            if self.caps.trigger_sources:
                self._do("trigger off", cam.clear_triggers)
        self.mode = mode

    def configure(self, opts: GenICamOptions, mode: str) -> None:
        """Apply every option (in the order cameras need: format, features, exposure, gain, rate, trigger)."""
        cam = self.camera
        with self.lock:
            self._read(cam.stop_acquisition)  # a camera left running by an earlier session
            if opts.packet_size is not None and self.is_gige:
                self._do(f"packet size {opts.packet_size}", cam.gv_set_packet_size, int(opts.packet_size))
            self._set_pixel_format(opts.pixel_format)
            if opts.features:
                text = " ".join(f"{k}={v}" for k, v in opts.features.items())
                self._do(f"features {text}", self.device.set_features_from_string, text)
            if opts.exposure_us is not None:
                self.set_exposure(opts.exposure_us)
            if opts.gain is not None:
                self.set_gain(opts.gain)
            if opts.frame_rate is not None:
                if self.caps.frame_rate_bounds is None:
                    raise SourceError(f"GenICam camera {self.target} has no frame rate feature", recoverable=False)
                self._check_range("frame_rate", opts.frame_rate, self.caps.frame_rate_bounds)
                self._do(f"frame rate {opts.frame_rate:g}", cam.set_frame_rate, float(opts.frame_rate))
            self.set_trigger(mode, opts.trigger_line, opts.trigger_activation)
            bytes_per_pixel(self.pixel_format)

    # --- streaming ------------------------------------------------------------------------------

    def start(self, buffers: int) -> None:
        """Create the stream, queue ``buffers`` buffers of one payload each and start acquisition."""
        with self.lock:
            self.stream = self._do("create stream", self.camera.create_stream, None, None, recoverable=True)
            if self.stream is None:
                raise SourceError(f"GenICam camera {self.target}: no stream could be created", item=self.target)
            self.payload = int(self._do("payload size", self.camera.get_payload, recoverable=True))
            for _ in range(buffers):
                self.stream.push_buffer(Aravis.Buffer.new_allocate(self.payload))
            self._do("acquisition mode", self.camera.set_acquisition_mode, Aravis.AcquisitionMode.CONTINUOUS,
                     recoverable=True)
            self._do("start acquisition", self.camera.start_acquisition, recoverable=True)

    def pop(self, timeout_s: float):
        """The next filled buffer (give it back with :meth:`push`), or None after ``timeout_s``."""
        return self.stream.timeout_pop_buffer(int(timeout_s * 1e6))

    def push(self, buffer) -> None:
        self.stream.push_buffer(buffer)

    def fire(self) -> None:
        """Send TriggerSoftware."""
        with self.lock:
            if self.camera is None:
                raise SourceError(f"GenICam camera {self.target} is closed: trigger not sent", item=self.target)
            self._do("software trigger", self.camera.software_trigger, recoverable=True)

    def buffer_counts(self) -> tuple[int, int]:
        """(buffers queued to the camera, filled buffers waiting to be popped)."""
        stream = self.stream
        if stream is None:  # closed meanwhile (another thread asked)
            return 0, 0
        n_in, n_out = stream.get_n_buffers()  # a queue length is negative while a reader waits on it
        return max(0, int(n_in)), max(0, int(n_out))

    def statistics(self) -> dict[str, int]:
        """Aravis's stream counters (n_completed_buffers, n_failures, n_underruns, n_missing_packets...)."""
        stream = self.stream
        if stream is None:
            return {}
        out = {}
        for i in range(stream.get_n_infos()):
            name = stream.get_info_name(i)
            value = self._read(stream.get_info_uint64, None, i)
            if value is not None:
                out[name] = int(value)
        return out

    def probe(self) -> str:
        """'' when the camera answers and still streams to us; otherwise why not."""
        if self.control_lost.is_set():
            return "control lost: the camera stopped answering its heartbeat"
        try:
            with self.lock:
                if self.is_gige:
                    if self.device.read_register(SCP0_PORT) & 0xFFFF == 0:
                        return "the camera was restarted (its stream channel is no longer set)"
                else:
                    want = "Off" if self.mode == "free-run" or not self.caps.trigger_sources else "On"
                    if self.caps.trigger_sources and self.camera.get_string("TriggerMode") != want:
                        return "the camera was reset (trigger mode changed)"
                    self.camera.get_payload()
        except GLib.Error as exc:
            return f"the camera does not answer ({exc.message})"
        return ""

    def close(self, alive: bool = True) -> None:
        """Stop and release everything; ``alive=False`` skips talking to a camera that is gone."""
        with self.lock:
            if alive and self.stream is not None and not self.control_lost.is_set():
                self._read(self.camera.stop_acquisition)
            if self.stream is not None:
                self._read(self.stream.set_emit_signals, None, False)
            if self._handler:
                self._read(self.device.disconnect, None, self._handler)
                self._handler = 0
            self.stream = None
            self.device = None
            self.camera = None

