"""The GenICam source against Aravis's real fake GigE Vision camera on 127.0.0.1 (genicam_fake.py):
discovery and opening, frames and pixel formats, exposure/gain round trips, software trigger (one
frame per trigger), hardware trigger set-up, buffers and threads not leaked."""

from __future__ import annotations

import json

import numpy as np
import pytest
from genicam_fake import FakeCamera, Reader, stream_threads, task_count, thread_names, wait_for
from inspector_genicam.aravis import Aravis, list_cameras
from inspector_genicam.source import GenICamSource

from inspector.sources import SourceError, open_source


@pytest.fixture
def fake(tmp_path):
    cam = FakeCamera("GT1", tmp_path).start()
    yield cam
    cam.stop()


@pytest.fixture
def errors():
    return []


def _source(target, errors, **options) -> GenICamSource:
    return GenICamSource(target, errors.append, settings=_NoSettings(), **options)


class _NoSettings:
    """A station without a plugins.genicam section (the tests pass every option explicitly)."""

    def plugin(self, name):
        return None


def _device_value(src: GenICamSource, feature: str):
    """Read a feature from the device through the source's connection (Aravis caches no register)."""
    cam = src._conn.camera
    return cam.get_string(feature) if feature.startswith("Trigger") else cam.get_float(feature)


def _second_connection_value(feature: str) -> float:
    """Read a feature through a second, independent connection: what the camera itself holds (~5 s:
    the fake makes a second controller wait for control)."""
    cam = Aravis.Camera.new("127.0.0.1")
    value = cam.get_float(feature)
    del cam
    return value


def test_discovery_lists_the_fake_and_every_name_opens_it(fake, errors):
    found = {c.device_id: c for c in list_cameras()}
    assert fake.device_id in found, found
    assert found[fake.device_id].address == "127.0.0.1" and found[fake.device_id].serial == "GT1"
    for target in (fake.device_id, "GT1", "127.0.0.1"):
        src = open_source(f"genicam:{target}", on_error=errors.append, settings=_NoSettings())
        assert isinstance(src, GenICamSource)
        with src:
            frame = next(iter(src))
        assert frame.image.shape == (512, 512, 3) and frame.image.dtype == np.uint8, target
        assert frame.meta["device"] == fake.device_id and frame.source == f"genicam:{target}"
    assert errors == []


def test_cli_lists_and_shows_the_camera(fake, capsys):
    from inspector.cli import main

    assert main(["genicam", "list", "--json"]) == 0
    ids = [c["device_id"] for c in json.loads(capsys.readouterr().out)]
    assert fake.device_id in ids
    assert main(["genicam", "show", "GT1", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert {"software", "hardware"} <= set(info["trigger_modes"]) and "Line0" in info["trigger_sources"]
    assert "BayerRG8" in info["pixel_formats"] and info["exposure_bounds"][0] > 0


def test_an_unknown_camera_is_a_clear_typed_error(fake):
    src = _source("NO-SUCH-CAM", [])
    with pytest.raises(SourceError, match="'NO-SUCH-CAM' not found; cameras seen now: .*Aravis-Fake-GT1") as err:
        src.open()
    assert not err.value.recoverable


@pytest.mark.parametrize("fmt", ["Mono8", "RGB8", "BayerRG8", "BayerBG8", "Mono16"])
def test_pixel_formats_arrive_as_rgb(fake, errors, fmt):
    with _source("127.0.0.1", errors, pixel_format=fmt) as src:
        frames = iter(src)
        frame = next(frames)
        assert src.pixel_format == fmt and frame.meta["pixel_format"] == fmt
    assert frame.image.shape == (512, 512, 3) and frame.image.dtype == np.uint8
    assert frame.image.std() > 10  # the fake's pattern, not a blank buffer
    if fmt.startswith("Mono"):
        assert (frame.image[..., 0] == frame.image[..., 2]).all()
    assert errors == []


def test_a_format_the_camera_lacks_is_refused_listing_what_it_offers(fake):
    with pytest.raises(SourceError, match="no pixel format 'YUV422_8'; it offers .*BayerRG8") as err:
        _source("127.0.0.1", [], pixel_format="YUV422_8").open()
    assert not err.value.recoverable


def test_exposure_and_gain_round_trip_to_the_device(fake, errors):
    with _source("127.0.0.1", errors, exposure_us=5000, gain=3) as src:
        assert src.exposure_us == pytest.approx(5000) and src.gain == pytest.approx(3)
        assert _second_connection_value("ExposureTimeAbs") == pytest.approx(5000)
        assert src.set_exposure(2500) == pytest.approx(2500)
        assert src.set_gain(7) == pytest.approx(7)
        assert _device_value(src, "ExposureTimeAbs") == pytest.approx(2500)
        next(iter(src))
        with pytest.raises(SourceError, match="outside the camera's range"):
            src.set_exposure(1e9)
        with pytest.raises(SourceError, match="gain 99 is outside"):
            src.set_gain(99)
    assert src.options.exposure_us == 2500 and src.options.gain == 7  # applied again after a reconnect
    assert errors == []


def test_software_trigger_gives_exactly_one_frame_per_trigger(fake, errors):
    src = _source(fake.device_id, errors)
    assert "software" in src.trigger_modes
    src.set_trigger_mode("software")
    with src:
        assert _device_value(src, "TriggerMode") == "On" and _device_value(src, "TriggerSource") == "Software"
        reader = Reader(src).start()
        assert not reader.wait_count(1, timeout=1.0)  # nothing without a trigger
        for n in range(1, 6):
            assert src.software_trigger() is True
            assert reader.wait_count(n), f"trigger {n} gave no frame"
        assert not reader.wait_count(6, timeout=1.0)  # and nothing more afterwards
        reader.stop()
    ids = [f.meta["frame_id"] for f in reader.frames]
    assert len(ids) == 5 and all(f.meta["trigger"] == "software" for f in reader.frames)
    assert ids == list(range(ids[0], ids[0] + 5))
    assert src.trigger_timeouts == 0 and errors == []


def test_free_run_source_does_not_fire(fake, errors):
    with _source("127.0.0.1", errors) as src:
        assert src.software_trigger() is False  # the line then takes the newest frame
        assert _device_value(src, "TriggerMode") == "Off"


def test_hardware_trigger_is_offered_and_armed_on_the_input_line(fake, errors):
    src = _source("127.0.0.1", errors, trigger_line="Line0")
    assert "hardware" in src.trigger_modes and src.capabilities.trigger_lines == ("Line0",)
    try:
        from inspector.parts.trigger import resolve_mode
    except ImportError:  # the line's trigger modes (parts identity) are not in this tree yet
        resolve_mode = None
    if resolve_mode is not None:
        assert resolve_mode("hardware", src) == "hardware"
    src.set_trigger_mode("hardware")
    with src:
        assert _device_value(src, "TriggerMode") == "On" and _device_value(src, "TriggerSource") == "Line0"
        reader = Reader(src).start()
        assert not reader.wait_count(1, timeout=1.0)  # no pulse on Line0: no frame, and no loss either
        reader.stop()
    assert errors == []
    with pytest.raises(SourceError, match="no trigger input 'Line7'; it has Line0"):
        bad = _source("127.0.0.1", [], trigger_line="Line7")
        bad.set_trigger_mode("hardware")
        bad.open()


def test_buffers_go_back_to_the_stream_and_threads_end_at_close(fake, errors):
    def cycle() -> dict:
        src = _source("127.0.0.1", errors, buffers=4)
        src.set_trigger_mode("software")  # nothing in flight once the triggered frames are in: exact counts
        with src:
            reader = Reader(src).start()
            for n in range(1, 13):  # three times the pool: a buffer kept by the source would stall it
                src.software_trigger()
                assert reader.wait_count(n)
            stats = src.stats()
            reader.stop()
        assert src._conn is None
        return stats

    list_cameras()
    cycle()  # the first use starts process-wide threads (see task_count); count from here
    baseline = task_count()
    for _ in range(3):
        stats = cycle()
        assert stats["buffers_queued"] + stats["buffers_waiting"] == 4  # every buffer back in the stream
        assert stats["stream"]["n_completed_buffers"] == 12 and stats["stream"]["n_underruns"] == 0
    # GLib may keep one idle worker a while; a leak grows by a stream and a heartbeat thread per cycle
    assert wait_for(lambda: task_count() <= baseline + 1 and stream_threads() == 0, 20), \
        (task_count(), baseline, thread_names())
    assert errors == []


def test_a_camera_that_stops_answering_is_reported_not_raised(fake, errors):
    """Killed with no restart: the loss is reported as recoverable; a give-up limit ends the stream."""
    src = _source("127.0.0.1", errors, max_reconnects=2, max_backoff_s=0.2)
    with src:
        reader = Reader(src).start()
        assert reader.wait_count(2)
        fake.stop()
        reader.thread.join(60)
        assert not reader.thread.is_alive() and reader.error is None
    assert errors[0].recoverable and "lost" in str(errors[0])
    assert not errors[-1].recoverable and "giving up after 2 reconnects" in str(errors[-1])


def test_a_camera_held_by_another_controller_is_refused_with_why(fake, errors):
    with _source("127.0.0.1", errors):
        with pytest.raises(SourceError, match="controlled by another application") as err:
            _source("127.0.0.1", []).open()
    assert not err.value.recoverable


def test_frames_with_lost_packets_are_counted_never_delivered_and_said_once(tmp_path):
    """The fake drops stream packets (-r): incomplete buffers are dropped and counted, go back to the
    stream, and a stretch with no whole frame is reported once (recoverable), not as a lost camera."""
    lossy = FakeCamera("GL1", tmp_path, lost_ratio=50).start()
    errors = []
    try:
        src = _source("127.0.0.1", errors, stall_s=1.0, buffers=4)
        with src:
            reader = Reader(src).start()
            assert wait_for(lambda: src.incomplete >= 30 and errors, 30), (src.stats(), errors)
            stats = src.stats()
            reader.stop()
        assert stats["buffers_queued"] + stats["buffers_waiting"] >= 3  # one may be in flight, none kept
        assert stats["stream"]["n_failures"] >= 30 and src.dropped >= src.incomplete
        assert all(f.image.shape == (512, 512, 3) for f in reader.frames)  # whatever came through was whole
        assert len(errors) == 1 and errors[0].recoverable and "unusable (missing-packets)" in str(errors[0])
        assert src.reconnects == 0
    finally:
        lossy.stop()
