"""Commands over MQTT against a real Mosquitto: a work-order change and a software trigger, each
answered on ``<base>/cmd/reply``; a bad command is answered with its reason, never fatal."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from mqtt_broker import MOSQUITTO, Broker, Listener, wait_for

ROOT = Path(__file__).resolve().parents[3]
ORDERS = ROOT / "sample_data" / "workorders"
BASE = "inspector/line-1"

pytestmark = pytest.mark.skipif(not Path(MOSQUITTO).exists(), reason="Debian mosquitto is not installed")


@pytest.fixture
def broker(tmp_path):
    folder = tmp_path / "broker"
    folder.mkdir()
    b = Broker(folder).start()
    yield b
    b.stop()


@pytest.fixture
def station(tmp_path, broker):
    from inspector.pipeline import Inspector
    from inspector.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", station="line-1", operator="op1",
                        plugins={"mqtt": {"port": broker.port}})
    with Inspector(settings) as facade:
        yield facade


def reply(mes: Listener, n: int) -> dict:
    wait_for(lambda: len(mes.on("/cmd/reply")) >= n, 30, f"reply {n}")
    return mes.on("/cmd/reply")[n - 1]


def test_an_order_command_selects_the_order_and_answers(tmp_path, broker, station):
    station.load_work_order(ORDERS / "WO-1001_bracket.txt")
    (tmp_path / "data" / "workorders").mkdir()
    shutil.copy(ORDERS / "WO-1002_bracket_strict.txt", tmp_path / "data" / "workorders")
    mes = Listener(broker.port)
    wait_for(lambda: any(s["state"] == "online" for s in mes.on("/status")), 30, "the station online")

    mes.publish(f"{BASE}/cmd/order", "WO-1001")
    assert reply(mes, 1) == {"command": "order", "ok": True, "error": "", "order_id": "WO-1001", "version": 1,
                             "part_number": "BR-100", "lot": reply(mes, 1)["lot"], "request_id": ""}
    wait_for(lambda: mes.on("/status")[-1]["selected_order"] == "WO-1001", 30, "the selected order in the status")

    mes.publish(f"{BASE}/cmd/order", json.dumps({"order_id": "WO-1002", "request_id": "r7"}))
    r = reply(mes, 2)
    assert (r["ok"], r["order_id"], r["request_id"]) == (True, "WO-1002", "r7")
    assert "WO-1002" in {wo.order_id for wo in station.list_work_orders()}, "loaded from the work-order folder"

    mes.publish(f"{BASE}/cmd/order", json.dumps({"order_id": "WO-9999", "request_id": "r8"}))
    r = reply(mes, 3)
    assert (r["ok"], r["request_id"]) == (False, "r8") and "WO-9999" in r["error"]
    mes.publish(f"{BASE}/cmd/order", "{not json")
    assert "not valid JSON" in reply(mes, 4)["error"]
    mes.close()
