"""The OPC UA plugin against a real asyncua client on 127.0.0.1: the node map, the state machine
driven by real events on the station's bus, the last result and counters, the methods, close.

The station is a real ``Inspector`` facade whose publisher plugins come from the entry-point
group (the plugin is installed editable); no model is loaded: these tests publish the line's
events themselves. ``test_opcua_line.py`` runs a real line."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime

import numpy as np
import pytest
from asyncua import ua
from asyncua.sync import Client
from inspector_opcua import nodes
from inspector_opcua.config import OpcuaConfig, OpcuaError

from inspector.domain import ClauseCheck, Inspection, ModelInfo, Outcome, Verdict, VerdictKind
from inspector.events import (
    LineStarted,
    LineStopped,
    PartFailed,
    PartStored,
    SourceLost,
    SourceReconnected,
    TriggerRequested,
)
from inspector.line import PartResult, RunSummary
from inspector.pipeline import Inspector
from inspector.settings import Settings

NS_URI = "urn:test:inspector"
SAMPLE_ORDER = "WO-1001"
ORDER_TEXT = "Order: {}\nPart: BR-100\nLot: L9\nAcceptance criteria:\n1. No cracks anywhere on the part.\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(fn, timeout: float = 20.0):
    """Poll ``fn`` until it returns something truthy (the publisher runs on its own thread)."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


@pytest.fixture
def station(tmp_path):
    port = free_port()
    settings = Settings(data_dir=tmp_path / "data", device="cpu", explain="off", station="line-3",
                        plugins={"opcua": {"host": "127.0.0.1", "port": port, "namespace": NS_URI}})
    facade = Inspector(settings)
    facade.opcua_url = f"opc.tcp://127.0.0.1:{port}/inspector"
    yield facade
    facade.close()


@pytest.fixture
def client(station):
    c = Client(station.opcua_url, timeout=10)
    c.connect()
    c.ns = c.get_namespace_index(NS_URI)
    yield c
    c.disconnect()


def value(c: Client, path: str):
    return c.get_node(nodes.node_id(path, c.ns)).read_value()


def inspection(n: int, kind: str, clauses: tuple[str, ...] = ()) -> Inspection:
    now = datetime.now(UTC)
    checks = tuple(ClauseCheck(c, Outcome.FAIL if kind == "NG" else Outcome.REVIEW) for c in clauses)
    return Inspection(id=f"insp{n:03d}", order_id=SAMPLE_ORDER, part_number="BR-100", lot="L7", image_sha256="0" * 64,
                      source="test", frame_name=f"p{n}.png", station="line-3", captured_at=now, inspected_at=now,
                      model=ModelInfo("fake", "0", "0"), thresholds={}, image_score=0.25 * n, findings=[],
                      verdict=Verdict(VerdictKind(kind), checks), part_id=f"SN-{n:04d}")


def stored(n: int, kind: str, clauses: tuple[str, ...] = ()) -> PartStored:
    return PartStored("run-1", PartResult(inspection(n, kind, clauses), np.zeros((4, 4, 3), np.uint8), None))


def test_node_map_browses_as_documented(client):
    vision = client.nodes.objects.get_child([f"{client.ns}:VisionSystem"])
    assert vision.nodeid == ua.NodeId("VisionSystem", client.ns)
    for var in nodes.VARIABLES:
        node = vision.get_child([f"{client.ns}:{part}" for part in var.path.split(".")])
        assert node.nodeid == nodes.node_id(var.path, client.ns), var.path
        assert node.read_browse_name() == ua.QualifiedName(var.name, client.ns)
        assert node.read_data_type_as_variant_type() == var.vtype, var.path
    methods = {m.read_browse_name().Name: m for m in vision.get_methods()}
    assert sorted(methods) == sorted(m.name for m in nodes.METHODS)
    args = methods["Trigger"].get_child(["0:InputArguments"]).read_value()
    assert [a.Name for a in args] == ["PartId"]
    assert value(client, "VisionStateMachine.CurrentState").Text == "Preoperational"
    assert value(client, "Armed") is False
    assert value(client, "ResultManagement.Counters.Total") == 0


def test_state_machine_follows_the_line_events(station, client):
    state = "VisionStateMachine.CurrentState"

    def becomes(text):
        return wait_for(lambda: value(client, state).Text == text)

    station.events.publish(LineStarted("run-1", SAMPLE_ORDER, "video:belt.avi"))
    assert becomes("Operational")
    assert value(client, "ActiveWorkOrder") == SAMPLE_ORDER
    station.events.publish(SourceLost("run-1", "camera:0", "camera stopped answering", True))
    assert becomes("Error")
    assert "camera stopped answering" in value(client, "VisionStateMachine.StateReason")
    station.events.publish(SourceReconnected("run-1", "camera:0", 2.5))
    assert becomes("Operational")
    station.events.publish(LineStopped("run-1", RunSummary(SAMPLE_ORDER, "camera:0", inspected=3)))
    assert becomes("Preoperational")
    assert value(client, "ActiveWorkOrder") == ""
    station.events.publish(LineStarted("run-2", SAMPLE_ORDER, "camera:0"))
    station.events.publish(LineStopped("run-2", RunSummary(SAMPLE_ORDER, "camera:0", aborted="disk full")))
    assert becomes("Error")
    assert value(client, "VisionStateMachine.StateReason") == "disk full"


def test_last_result_and_counters_follow_stored_parts(station, client):
    total = "ResultManagement.Counters.Total"
    last = "ResultManagement.LastResult."
    station.events.publish(stored(1, "OK"))
    assert wait_for(lambda: value(client, total) == 1)
    assert value(client, last + "Verdict") == "OK"
    assert value(client, last + "ClauseIds") == []
    station.events.publish(stored(2, "NG", ("WO-1001 §2", "WO-1001 §4")))
    station.events.publish(stored(3, "REVIEW", ("WO-1001 §5",)))
    station.events.publish(stored(4, "NG", ("WO-1001 §3",)))
    station.events.publish(PartFailed("run-1", "p5.png", "p5.png: NOT stored: disk full"))
    assert wait_for(lambda: value(client, "ResultManagement.Counters.Failed") == 1)
    assert [value(client, "ResultManagement.Counters." + k) for k in ("Total", "Ok", "Ng", "Review")] == [4, 1, 2, 1]
    assert value(client, last + "PartId") == "SN-0004"
    assert value(client, last + "InspectionId") == "insp004"
    assert value(client, last + "Verdict") == "NG"
    assert value(client, last + "OrderId") == SAMPLE_ORDER
    assert value(client, last + "ClauseIds") == ["WO-1001 §3"]
    assert value(client, last + "ImageScore") == pytest.approx(1.0)
    assert value(client, last + "Timestamp").year == datetime.now(UTC).year


def test_a_client_sees_results_by_subscription(station, client):
    seen: list = []

    class Handler:
        def datachange_notification(self, node, val, data):
            seen.append(val)

    sub = client.create_subscription(50, Handler())
    sub.subscribe_data_change(client.get_node(nodes.node_id("ResultManagement.Counters.Total", client.ns)))
    assert wait_for(lambda: seen == [0])  # the initial value
    for n in (1, 2, 3):
        station.events.publish(stored(n, "OK"))
    assert wait_for(lambda: seen[-1:] == [3])
    sub.delete()


def test_methods_arm_trigger_and_select_work_orders(station, client):
    from inspector.parts.trigger import MAX_PART_ID

    vision = client.get_node(nodes.node_id("", client.ns))
    heard = []
    station.events.subscribe(heard.append, TriggerRequested)
    with pytest.raises(ua.UaStatusCodeError) as refused:
        vision.call_method(f"{client.ns}:Trigger", "SN-1")
    assert refused.value.code == ua.StatusCodes.BadInvalidState  # disarmed
    vision.call_method(f"{client.ns}:Start")
    assert value(client, "Armed") is True
    vision.call_method(f"{client.ns}:Trigger", "SN-1")
    vision.call_method(f"{client.ns}:Trigger", "")
    assert [(t.part_id, t.origin) for t in heard] == [("SN-1", "opcua"), (None, "opcua")]
    with pytest.raises(ua.UaStatusCodeError) as bad:  # the station's TriggerError: an unusable id
        vision.call_method(f"{client.ns}:Trigger", "x" * (MAX_PART_ID + 1))
    assert bad.value.code == ua.StatusCodes.BadInvalidState
    with pytest.raises(ua.UaStatusCodeError) as wrong:
        vision.call_method(f"{client.ns}:Trigger", ua.Variant(7, ua.VariantType.Int32))
    assert wrong.value.code == ua.StatusCodes.BadInvalidArgument

    with pytest.raises(ua.UaStatusCodeError) as unknown:
        vision.call_method(f"{client.ns}:SelectWorkOrder", "WO-0000")
    assert unknown.value.code == ua.StatusCodes.BadNotFound
    station.load_work_order(text=ORDER_TEXT.format("WO-2002"))
    vision.call_method(f"{client.ns}:SelectWorkOrder", "WO-2002")
    assert value(client, "SelectedWorkOrder") == "WO-2002"
    # a line running another order: triggers refused, so no part is judged by the wrong order
    station.events.publish(LineStarted("run-9", SAMPLE_ORDER, "camera:0"))
    assert wait_for(lambda: value(client, "ActiveWorkOrder") == SAMPLE_ORDER)
    with pytest.raises(ua.UaStatusCodeError) as mismatch:
        vision.call_method(f"{client.ns}:Trigger", "SN-2")
    assert mismatch.value.code == ua.StatusCodes.BadInvalidState
    vision.call_method(f"{client.ns}:Stop")
    assert value(client, "Armed") is False
    assert len(heard) == 2


def test_close_stops_the_server_and_frees_the_port(tmp_path):
    port = free_port()
    settings = Settings(data_dir=tmp_path / "d", device="cpu", plugins={"opcua": {"host": "127.0.0.1", "port": port}})
    facade = Inspector(settings)
    c = Client(f"opc.tcp://127.0.0.1:{port}/inspector", timeout=5)
    c.connect()
    c.disconnect()
    facade.close()
    with socket.socket() as s:  # nothing listens any more
        assert s.connect_ex(("127.0.0.1", port)) != 0
    again = Inspector(settings)  # and the port can be taken again
    again.close()


def test_a_server_that_cannot_start_is_skipped_and_the_station_runs(tmp_path, caplog):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        settings = Settings(data_dir=tmp_path / "d", device="cpu",
                            plugins={"opcua": {"host": "127.0.0.1", "port": port, "start_timeout_s": 20}})
        with Inspector(settings) as facade:
            assert not [p for p in facade._publishers if type(p).__name__ == "VisionServer"]
            facade.load_work_order(text=ORDER_TEXT.format("WO-3"))  # the station works
    assert "publisher opcua failed to start" in caplog.text
    assert "cannot listen" in caplog.text


def test_no_section_means_off(tmp_path):
    with Inspector(Settings(data_dir=tmp_path / "d", device="cpu")) as facade:
        assert not [p for p in facade._publishers if type(p).__name__ == "VisionServer"]


@pytest.mark.parametrize("section, words", [
    ({"port": "many"}, "port must be a number"),
    ({"port": 70000}, "0..65535"),
    ({"endpoint": "http://x:1/"}, "opc.tcp://"),
    ({"security": ["Basic128"]}, "unknown policy Basic128"),
    ({"security": "Basic256Sha256_SignAndEncrypt"}, "needs certificate and private_key"),
    ({"certificate": "/nonexistent/cert.der"}, "no file"),
    ({"colour": "red"}, "unknown setting(s) colour"),
])
def test_bad_settings_are_typed_errors(section, words):
    with pytest.raises(OpcuaError, match=None) as err:
        OpcuaConfig.from_section(section)
    assert words in str(err.value)


def test_endpoint_setting():
    cfg = OpcuaConfig.from_section({"endpoint": "opc.tcp://10.0.0.5:4850/line3"})
    assert (cfg.host, cfg.port, cfg.path, cfg.endpoint) == ("10.0.0.5", 4850, "/line3", "opc.tcp://10.0.0.5:4850/line3")


def test_sign_and_encrypt_endpoint_with_the_stations_certificate(tmp_path):
    import asyncio
    import contextlib
    import socket as socket_mod

    from asyncua.crypto.cert_gen import setup_self_signed_certificate
    from cryptography.x509.oid import ExtendedKeyUsageOID

    async def make(name: str, uri: str, use) -> tuple:
        key, cert = tmp_path / f"{name}-key.pem", tmp_path / f"{name}-cert.der"
        await setup_self_signed_certificate(key, cert, uri, socket_mod.gethostname(), [use], {"commonName": name})
        return key, cert

    server_key, server_cert = asyncio.run(make("station", f"{NS_URI}:server", ExtendedKeyUsageOID.SERVER_AUTH))
    client_key, client_cert = asyncio.run(make("scada", "urn:test:scada", ExtendedKeyUsageOID.CLIENT_AUTH))
    port = free_port()
    settings = Settings(data_dir=tmp_path / "d", device="cpu", plugins={"opcua": {
        "host": "127.0.0.1", "port": port, "namespace": NS_URI, "security": ["Basic256Sha256_SignAndEncrypt"],
        "certificate": str(server_cert), "private_key": str(server_key)}})
    url = f"opc.tcp://127.0.0.1:{port}/inspector"
    with Inspector(settings):
        plain = Client(url, timeout=10)
        try:
            with pytest.raises(Exception):  # noqa: B017 - no unsecured endpoint to open a session on
                plain.connect()
                plain.get_namespace_index(NS_URI)
        finally:
            with contextlib.suppress(Exception):
                plain.disconnect()  # also stops the client's own thread
        secure = Client(url, timeout=10)
        secure.application_uri = "urn:test:scada"
        secure.set_security_string(f"Basic256Sha256,SignAndEncrypt,{client_cert},{client_key}")
        secure.connect()
        try:
            ns = secure.get_namespace_index(NS_URI)
            state = secure.get_node(nodes.node_id("VisionStateMachine.CurrentState", ns)).read_value()
            assert state.Text == "Preoperational"
        finally:
            secure.disconnect()
