"""The Modbus plugin against a real pymodbus server acting as the PLC (``inspector_modbus.simulator``,
on 127.0.0.1, a free port, its own thread): verdict pulses, heartbeat, trigger input, PLC restart.

The station is a real ``Inspector`` facade (the plugin comes from the entry-point group, installed
editable); the tests drive real line events on its bus. No model is loaded."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime

import numpy as np
import pytest
from inspector_modbus import ModbusConfig, ModbusError, PlcLink, decode_part_id
from inspector_modbus.simulator import PlcSimulator, encode_part_id

from inspector.domain import Inspection, ModelInfo, Verdict, VerdictKind
from inspector.events import PartFailed, PartJudged, PartStored, TriggerRequested
from inspector.line import PartResult
from inspector.pipeline import Inspector
from inspector.settings import Settings

REJECT, ACCEPT, REVIEW, HEARTBEAT, TRIGGER, PART_ID = 0, 1, 2, 10, 7, 100


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(fn, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while not (value := fn()) and time.monotonic() < deadline:
        time.sleep(0.01)
    return value


@pytest.fixture
def plc():
    sim = PlcSimulator("127.0.0.1", free_port())
    yield sim
    sim.close()


def make_station(tmp_path, plc, **section):
    conf = {"host": "127.0.0.1", "port": plc.port, "pulse_ms": 150, "heartbeat_ms": 50,
            "trigger_input": "discrete_input", "trigger_address": TRIGGER, "poll_ms": 10, **section}
    return Inspector(Settings(data_dir=tmp_path / "data", device="cpu", explain="off", station="line-3",
                              plugins={"modbus": conf}))


def link_of(station) -> PlcLink:
    (link,) = [p for p in station._publishers if isinstance(p, PlcLink)]
    return link


@pytest.fixture
def station(tmp_path, plc):
    facade = make_station(tmp_path, plc)
    assert link_of(facade).wait_connected(20)
    yield facade
    facade.close()


def judged(n: int, kind: str, run: str = "run-1") -> PartJudged:
    now = datetime.now(UTC)
    insp = Inspection(id=f"i{n}", order_id="WO-1001", part_number="BR-100", lot="L7", image_sha256="",
                      source="test", frame_name=f"p{n}.png", station="line-3", captured_at=now, inspected_at=now,
                      model=ModelInfo("fake", "0", "0"), thresholds={}, image_score=0.1, findings=[],
                      verdict=Verdict(VerdictKind(kind)), part_id=f"SN-{n}")
    return PartJudged(run, insp)


def coil_writes(plc, address, after=0):
    return [(t, v[0]) for t, table, a, v in plc.writes[after:] if table == "coil" and a == address]


def pulse_seen(plc, address, after=0):
    """(rise, fall) perf_counter times of the first complete pulse on ``address`` after write ``after``."""
    ws = coil_writes(plc, address, after)
    rise = next((t for t, v in ws if v), None)
    fall = next((t for t, v in ws if not v and rise is not None and t > rise), None)
    return (rise, fall) if rise is not None and fall is not None else None


@pytest.mark.parametrize("kind, coil", [("NG", REJECT), ("OK", ACCEPT), ("REVIEW", REVIEW)])
def test_each_verdict_pulses_its_own_coil_and_the_pulse_ends(station, plc, kind, coil):
    mark = len(plc.writes)
    station.events.publish(judged(1, kind))
    seen = wait_for(lambda: pulse_seen(plc, coil, mark))
    assert seen, f"no complete pulse on coil {coil}"
    rise, fall = seen
    assert fall > rise
    assert plc.coil(coil) is False
    others = {REJECT, ACCEPT, REVIEW} - {coil}
    assert not [w for a in others for w in coil_writes(plc, a, mark) if w[1]], "another output was raised"
    assert link_of(station).stats["pulses"] == 1


def test_signal_at_stored_waits_for_the_record(tmp_path, plc):
    with make_station(tmp_path, plc, signal_at="stored") as facade:
        link = link_of(facade)
        assert link.wait_connected(20)
        mark = len(plc.writes)
        event = judged(2, "NG")
        facade.events.publish(event)
        facade.events.publish(PartStored("run-1", PartResult(event.inspection, np.zeros((2, 2, 3), np.uint8), None)))
        assert wait_for(lambda: pulse_seen(plc, REJECT, mark))
        assert len([w for w in coil_writes(plc, REJECT, mark) if w[1]]) == 1  # once, at PartStored
        assert link.pulsed[-1][:2] == ("reject", "SN-2")


def test_a_part_that_failed_pulses_review_once(station, plc):
    mark = len(plc.writes)
    station.events.publish(PartFailed("run-1", "p9.png", "p9.png: cannot decode"))
    assert wait_for(lambda: pulse_seen(plc, REVIEW, mark))
    station.events.publish(judged(3, "OK"))  # judged, then its record could not be stored
    station.events.publish(PartFailed("run-1", "p3.png", "p3.png: NOT stored: disk full"))
    station.events.publish(PartFailed("run-1", "", "source broke"))  # no part: nothing to divert
    assert wait_for(lambda: pulse_seen(plc, ACCEPT, mark))
    time.sleep(0.3)  # give a wrong second pulse time to show (a wait, not a timing assertion)
    assert len([w for w in coil_writes(plc, REVIEW, mark) if w[1]]) == 1


def test_the_newest_pulse_keeps_a_coil_high_to_its_own_end(station, plc):
    mark = len(plc.writes)
    station.events.publish(judged(4, "NG"))
    assert wait_for(lambda: any(v for _, v in coil_writes(plc, REJECT, mark)))
    station.events.publish(judged(5, "NG"))  # second reject while the first pulse is high
    assert wait_for(lambda: len([v for _, v in coil_writes(plc, REJECT, mark) if v]) == 2)
    assert wait_for(lambda: any(not v for _, v in coil_writes(plc, REJECT, mark)))
    ws = coil_writes(plc, REJECT, mark)
    assert [v for _, v in ws] == [True, True, False]  # one fall, after the second rise


def test_heartbeat_coil_toggles(station, plc):
    mark = len(plc.writes)
    assert wait_for(lambda: len(coil_writes(plc, HEARTBEAT, mark)) >= 4)
    values = [v for _, v in coil_writes(plc, HEARTBEAT, mark)][:4]
    assert values in ([True, False, True, False], [False, True, False, True])


def test_heartbeat_register_counts_up(tmp_path, plc):
    with make_station(tmp_path, plc, heartbeat="register", heartbeat_address=20):
        assert wait_for(lambda: plc.register(20) >= 3)
        first = plc.register(20)
        assert wait_for(lambda: plc.register(20) > first)


def test_a_rising_trigger_edge_reaches_the_station_with_the_part_id(station, plc):
    link = link_of(station)
    heard: list = []
    station.events.subscribe(heard.append, TriggerRequested)
    plc.set_registers(PART_ID, encode_part_id("BR-SN-00042", 8))
    assert wait_for(lambda: link.stats["polls"] >= 2)
    plc.set_input(TRIGGER, True)
    assert wait_for(lambda: len(heard) == 1)
    assert (heard[0].part_id, heard[0].origin) == (None, "modbus")  # no part_id_register configured
    polls = link.stats["polls"]
    assert wait_for(lambda: link.stats["polls"] >= polls + 5)  # held high: still one trigger
    plc.set_input(TRIGGER, False)
    assert wait_for(lambda: link.stats["polls"] >= polls + 10)
    plc.set_input(TRIGGER, True)
    assert wait_for(lambda: len(heard) == 2)
    assert link.stats["triggers"] == 2


def test_part_id_registers_and_the_coil_handshake(tmp_path, plc):
    with make_station(tmp_path, plc, trigger_input="coil", trigger_address=30, part_id_register=PART_ID) as facade:
        link = link_of(facade)
        heard: list = []
        facade.events.subscribe(heard.append, TriggerRequested)
        assert wait_for(lambda: link.stats["polls"] >= 2)
        for n, serial in enumerate(("BR-SN-00042", "BR-SN-00043"), 1):
            plc.set_registers(PART_ID, encode_part_id(serial, 8))
            plc.set_coil(30, True)  # the PLC raises the request...
            assert wait_for(lambda n=n: len(heard) == n)
            assert heard[-1].part_id == serial
            assert wait_for(lambda: plc.coil(30) is False)  # ...and the station acknowledges it
        assert [t.origin for t in heard] == ["modbus", "modbus"]


def test_plc_restart_mid_run_recovers(station, plc):
    link = link_of(station)
    station.events.publish(PartJudged("run-1", judged(6, "NG").inspection))
    assert wait_for(lambda: link.stats["pulses"] == 1)
    plc.stop()  # the PLC goes away
    assert wait_for(lambda: not link.connected)
    station.events.publish(judged(7, "NG"))  # while it is gone: not sent, and not sent late
    assert wait_for(lambda: link.stats["missed"] == 1)
    mark = len(plc.writes)
    plc.start()
    assert link.wait_connected(20)
    assert wait_for(lambda: len(coil_writes(plc, HEARTBEAT, mark)) >= 2)  # heartbeat moves again
    station.events.publish(judged(8, "OK"))
    assert wait_for(lambda: pulse_seen(plc, ACCEPT, mark))
    assert not [v for _, v in coil_writes(plc, REJECT, mark) if v]  # the missed reject never arrived late
    assert link.stats["connects"] == 2


def test_a_pulse_cut_by_a_restart_is_reset_low_on_reconnect(tmp_path, plc):
    with make_station(tmp_path, plc, pulse_ms=60_000) as facade:
        link = link_of(facade)
        assert link.wait_connected(20)
        facade.events.publish(judged(9, "NG"))
        assert wait_for(lambda: plc.coil(REJECT) is True)
        plc.stop()
        assert wait_for(lambda: not link.connected)
        plc.start()  # the datastore kept the coil high
        assert link.wait_connected(20)
        assert wait_for(lambda: plc.coil(REJECT) is False)


def test_station_starts_with_the_plc_down_and_connects_when_it_appears(tmp_path):
    port = free_port()
    with Inspector(Settings(data_dir=tmp_path / "d", device="cpu",
                            plugins={"modbus": {"host": "127.0.0.1", "port": port}})) as facade:
        link = link_of(facade)
        assert not link.connected
        facade.events.publish(judged(10, "NG"))  # never raises into the line
        assert wait_for(lambda: link.stats["missed"] == 1)
        plc = PlcSimulator("127.0.0.1", port)
        try:
            assert link.wait_connected(20)
        finally:
            facade.close()  # outputs low, heartbeat stopped, disconnected
            mark = len(plc.writes)
            time.sleep(0.3)
            assert not coil_writes(plc, HEARTBEAT, mark)
            plc.close()


def test_close_leaves_the_outputs_low(tmp_path, plc):
    facade = make_station(tmp_path, plc, pulse_ms=60_000)
    link = link_of(facade)
    assert link.wait_connected(20)
    facade.events.publish(judged(11, "REVIEW"))
    assert wait_for(lambda: plc.coil(REVIEW) is True)
    facade.close()
    assert plc.coil(REVIEW) is False


@pytest.mark.parametrize("section, words", [
    ({}, "host: the PLC's address is needed"),
    ({"host": "plc", "port": "x"}, "port must be a whole number"),
    ({"host": "plc", "pulse_ms": 0}, "pulse_ms must be 1..60000"),
    ({"host": "plc", "reject_coil": 5, "accept_coil": 5}, "two signals share a coil"),
    ({"host": "plc", "signal_at": "later"}, "signal_at must be one of judged, stored"),
    ({"host": "plc", "trigger_input": "wire"}, "trigger_input must be one of"),
    ({"host": "plc", "reject_coil": True}, "whole number"),
    ({"host": "plc", "coil": 3}, "unknown setting(s) coil"),
])
def test_bad_settings_are_typed_errors(section, words):
    with pytest.raises(ModbusError) as err:
        ModbusConfig.from_section(section)
    assert words in str(err.value)


def test_no_section_means_off(tmp_path):
    with Inspector(Settings(data_dir=tmp_path / "d", device="cpu")) as facade:
        assert not [p for p in facade._publishers if isinstance(p, PlcLink)]


def test_part_id_codec():
    assert decode_part_id(encode_part_id("SN-1", 8)) == "SN-1"
    assert decode_part_id(encode_part_id("ABCDEFGHIJKLMNOPQ", 8)) == "ABCDEFGHIJKLMNOP"  # 16 characters fit
    assert decode_part_id([0] * 8) is None
