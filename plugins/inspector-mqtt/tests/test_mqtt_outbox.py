"""The MQTT plugin's parts that need no broker: the outbox file, the settings section, command payloads."""

from __future__ import annotations

import pytest
from inspector_mqtt import MqttSettings, MqttSettingsError, publisher
from inspector_mqtt.commands import CommandError, parse
from inspector_mqtt.outbox import Outbox


def test_the_outbox_keeps_order_ignores_a_second_add_and_survives_a_reopen(tmp_path):
    box = Outbox(tmp_path / "o.sqlite")
    assert box.add("a", "t", b"1") and box.add("b", "t", b"2") and box.add("c", "t", b"3")
    assert not box.add("b", "t", b"2 again")
    msgs = box.waiting()
    assert [(m.key, m.payload) for m in msgs] == [("a", b"1"), ("b", b"2"), ("c", b"3")]
    box.ack([msgs[0].seq])
    assert not box.add("a", "t", b"1"), "an acknowledged key is still recognised"
    assert [m.key for m in box.waiting(after=msgs[0].seq)] == ["b", "c"]
    box.close()
    again = Outbox(tmp_path / "o.sqlite")
    assert [m.key for m in again.waiting()] == ["b", "c"] and again.count_waiting() == 2
    again.close()


def test_a_full_outbox_drops_the_oldest_waiting_and_counts_it(tmp_path, caplog):
    box = Outbox(tmp_path / "o.sqlite", limit=2)
    for key in "abc":
        box.add(key, "t", key.encode())
    assert [m.key for m in box.waiting()] == ["b", "c"] and box.dropped == 1
    assert "dropped the oldest 1 (a)" in caplog.text


@pytest.mark.parametrize(("section", "words"), [
    ({"hots": "x"}, "unknown key(s) hots"),
    ({"port": "eighty"}, "port must be a int"),
    ({"port": 70000}, "not a TCP port"),
    ({"qos": 0}, "qos must be 1 or 2"),
    ({"tls": "yes"}, "tls must be a bool"),
    ({"topic_prefix": "a/#"}, "plain topic"),
])
def test_a_bad_settings_section_is_refused_naming_the_key(section, words):
    with pytest.raises(MqttSettingsError, match="plugins.mqtt") as err:
        MqttSettings.from_section(section)
    assert words in str(err.value)


def test_the_plugin_is_off_without_its_settings_section(tmp_path):
    from inspector.settings import Settings

    assert publisher(Settings(data_dir=tmp_path)) is None
    cfg = MqttSettings.from_section({"topic_prefix": "plant/hall-2"})
    assert cfg.topics("line#1")["result"] == "plant/hall-2/line_1/result"
    assert cfg.outbox_path(tmp_path) == tmp_path / "mqtt-outbox.sqlite"


def test_a_bad_settings_section_never_stops_the_station(tmp_path):
    from inspector.pipeline import Inspector
    from inspector.settings import Settings

    with Inspector(Settings(data_dir=tmp_path, plugins={"mqtt": {"port": "eighty"}})) as facade:
        assert facade.list_work_orders() == []


@pytest.mark.parametrize(("payload", "expected"), [
    (b"", (None, "")),
    (b"  SN-0001 \n", ("SN-0001", "")),
    (b'"SN-0002"', ("SN-0002", "")),
    (b'{"part_id": "SN-0003", "request_id": "r1"}', ("SN-0003", "r1")),
    (b'{"request_id": "r2"}', (None, "r2")),
])
def test_command_payloads_are_text_or_json(payload, expected):
    assert parse(payload, "part_id") == expected


@pytest.mark.parametrize(("payload", "words"), [
    (b'{"part_id": ', "not valid JSON"),
    (b'{"part_id": 7}', "must be a string"),
    (b"[1, 2]", "JSON object or text"),
    (b"\xff\xfe", "not UTF-8"),
    (b"x" * 5000, "at most 4096"),
])
def test_a_bad_command_payload_is_a_typed_error(payload, words):
    with pytest.raises(CommandError, match=words):
        parse(payload, "part_id")
