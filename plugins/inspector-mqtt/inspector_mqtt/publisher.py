"""The MQTT publisher: hears the line's events, sends verdicts through the outbox, keeps a status.

Threads: the facade calls :meth:`MqttPublisher.__call__` on the publisher's own bus thread (it
only writes to the outbox and wakes the sender); paho's network thread (``loop_start``)
connects, reconnects with backoff and calls back; the sender thread hands waiting results to
paho in outbox order, at most ``WINDOW`` unacknowledged at a time, and marks each acknowledged
when its PUBACK arrives; one command thread runs trigger/order commands so the network thread
never waits on the station. Paho resends a handed message after a reconnect itself, so each
result is handed to paho once per process; what a crash leaves unacknowledged is sent at the
next start.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from inspector.events import LineStarted, LineStopped, PartFailed, PartStored
from inspector_mqtt import commands
from inspector_mqtt.config import MqttSettings, MqttSettingsError
from inspector_mqtt.outbox import Outbox
from inspector_mqtt.payload import dumps, now_iso, result_data

log = logging.getLogger(__name__)

WINDOW = 50  # results handed to paho and not yet acknowledged


class MqttPublisher:
    """One station's MQTT connection (see the package docstring for topics and payloads)."""

    def __init__(self, cfg: MqttSettings, station_name: str, data_dir: Path, station: Any = None):
        self.cfg = cfg
        self.station = station
        self.topics = cfg.topics(station_name)
        self.outbox = Outbox(cfg.outbox_path(data_dir), cfg.outbox_max)
        self.connected = threading.Event()
        self.selected_order: Any = None
        self._status_lock = threading.Lock()
        self._status: dict[str, Any] = {
            "schema": 1, "station": station_name, "state": "online", "line": "idle", "run_id": "",
            "order_id": "", "lot": "", "selected_order": "", "since": now_iso(),
            "counts": {"OK": 0, "NG": 0, "REVIEW": 0, "failed": 0, "total": 0}}
        self._acked: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._handed: dict[int, int] = {}  # paho message id -> outbox seq (sender thread only)
        self._last_seq = 0  # the newest outbox seq handed to paho
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._commands = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inspector-mqtt-cmd")
        self.client = self._client(station_name)
        self.client.connect_async(cfg.host, cfg.port, keepalive=cfg.keepalive)
        self.client.loop_start()  # connects, and reconnects with backoff, on its own thread
        self._sender = threading.Thread(target=self._send_loop, name="inspector-mqtt-sender", daemon=True)
        self._sender.start()

    def _client(self, station_name: str) -> mqtt.Client:
        cfg = self.cfg
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cfg.client_id or f"inspector-{station_name}",
                             clean_session=True, protocol=mqtt.MQTTv311)
        if cfg.username:
            client.username_pw_set(cfg.username, cfg.password or None)
        if cfg.tls:
            try:
                client.tls_set(ca_certs=cfg.ca_certs or None, certfile=cfg.certfile or None,
                               keyfile=cfg.keyfile or None)
            except (OSError, ValueError) as exc:
                raise MqttSettingsError(f"plugins.mqtt TLS files cannot be used: {exc}") from None
            client.tls_insecure_set(cfg.tls_insecure)
        will = {"schema": 1, "station": station_name, "state": "offline", "reason": "connection lost",
                "since": self._status["since"]}  # set at connect: no counters, they would be stale
        client.will_set(self.topics["status"], dumps(will), qos=cfg.qos, retain=True)
        client.reconnect_delay_set(min_delay=cfg.reconnect_min_s, max_delay=cfg.reconnect_max_s)
        client.max_inflight_messages_set(WINDOW)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.message_callback_add(self.topics["trigger"], self._on_trigger)
        client.message_callback_add(self.topics["order"], self._on_order)
        return client

    # --- the line's events (the publisher's bus thread) -----------------------------------------

    def __call__(self, event: Any) -> None:
        if isinstance(event, PartStored):
            insp = event.inspection
            self.outbox.add(insp.id, self.topics["result"], dumps(result_data(insp, event.run_id)))
            self._wake.set()
            with self._status_lock:
                counts = self._status["counts"]
                counts[insp.verdict.kind.value] = counts.get(insp.verdict.kind.value, 0) + 1
                counts["total"] += 1
                self._status.update(order_id=insp.order_id, lot=insp.lot)
        elif isinstance(event, LineStarted):
            with self._status_lock:
                self._status.update(line="running", run_id=event.run_id, order_id=event.order_id,
                                    counts={"OK": 0, "NG": 0, "REVIEW": 0, "failed": 0, "total": 0})
        elif isinstance(event, PartFailed):
            with self._status_lock:
                self._status["counts"]["failed"] += 1
        elif isinstance(event, LineStopped):
            with self._status_lock:
                self._status["line"] = "idle"
        else:
            return
        self.publish_status()

    # --- status ---------------------------------------------------------------------------------

    def _status_payload(self, state: str, reason: str = "") -> bytes:
        with self._status_lock:
            data = {**self._status, "counts": dict(self._status["counts"]), "state": state,
                    "updated_at": now_iso()}
        data["outbox_waiting"] = self.outbox.count_waiting()
        data["outbox_dropped"] = self.outbox.dropped
        if reason:
            data["reason"] = reason
        return dumps(data)

    def publish_status(self, state: str = "online", reason: str = "") -> mqtt.MQTTMessageInfo | None:
        """The retained status; only while connected (every connect publishes a fresh one)."""
        if not self.connected.is_set():
            return None
        return self.client.publish(self.topics["status"], self._status_payload(state, reason), qos=self.cfg.qos,
                                   retain=True)

    # --- paho callbacks (network thread) --------------------------------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("MQTT broker %s:%s refused the connection: %s", self.cfg.host, self.cfg.port, reason_code)
            return
        log.info("MQTT connected to %s:%s", self.cfg.host, self.cfg.port)
        self.connected.set()
        if self.cfg.commands:
            client.subscribe([(self.topics["trigger"], 1), (self.topics["order"], 1)])
        self.publish_status()
        self._wake.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        if not self._stop.is_set():
            log.warning("MQTT connection to %s:%s lost (%s); results wait in the outbox", self.cfg.host,
                        self.cfg.port, reason_code)

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        self._acked.put(mid)  # bookkeeping happens on the sender thread (no lock shared with paho's)
        self._wake.set()

    def _on_trigger(self, client, userdata, message) -> None:
        self._command("trigger", commands.trigger, message.payload)

    def _on_order(self, client, userdata, message) -> None:
        self._command("order", commands.select_order, message.payload)

    def _command(self, name: str, fn: Any, payload: bytes) -> None:
        def work() -> None:
            reply = commands.run(name, fn, self.station, payload)
            if name == "order" and reply["ok"]:
                with self._status_lock:
                    self._status["selected_order"] = reply["order_id"]
                self.publish_status()
            if self.connected.is_set():
                self.client.publish(self.topics["reply"], dumps(reply), qos=1)

        try:
            self._commands.submit(work)
        except RuntimeError:  # closing
            pass

    # --- the sender (its own thread) ------------------------------------------------------------

    def _send_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(0.5)
            self._wake.clear()
            try:
                self._take_acks()
                if self.connected.is_set():
                    self._hand_waiting()
            except Exception:  # keep sending; the outbox keeps what was not acknowledged
                log.exception("MQTT sender failed; retrying")
                time.sleep(0.5)
        self._take_acks()

    def _take_acks(self) -> None:
        seqs = []
        while True:
            try:
                mid = self._acked.get_nowait()
            except queue.Empty:
                break
            if mid in self._handed:
                seqs.append(self._handed.pop(mid))
        self.outbox.ack(seqs)

    def _hand_waiting(self) -> None:
        room = WINDOW - len(self._handed)
        if room <= 0:
            return
        for msg in self.outbox.waiting(after=self._last_seq, limit=room):
            info = self.client.publish(msg.topic, msg.payload, qos=self.cfg.qos)
            if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
                log.warning("MQTT publish of %s refused by the client (%s); retrying", msg.key, info.rc)
                return
            self._handed[info.mid] = msg.seq  # paho holds it now and resends it after a reconnect
            self._last_seq = msg.seq

    # --- shutdown -------------------------------------------------------------------------------

    def flush(self, timeout: float) -> bool:
        """Wait until every result is acknowledged (True) or ``timeout`` seconds pass (False)."""
        deadline = time.monotonic() + timeout
        while self.outbox.count_waiting():
            if time.monotonic() >= deadline:
                return False
            self._wake.set()
            time.sleep(0.02)
        return True

    def close(self) -> None:
        """Deliver what waits (up to ``close_timeout_s``; the rest is sent at the next start),
        publish the retained offline status, disconnect."""
        if self._stop.is_set():
            return
        if self.connected.is_set() and not self.flush(self.cfg.close_timeout_s):
            log.warning("MQTT: %d results still waiting at shutdown; sent at the next start",
                        self.outbox.count_waiting())
        self._commands.shutdown(wait=True, cancel_futures=True)
        info = self.publish_status("offline", "station closed")
        self._stop.set()
        self._wake.set()
        self._sender.join(5)
        if info is not None:
            try:
                info.wait_for_publish(2.0)
            except (RuntimeError, ValueError):
                pass
        self.client.disconnect()
        self.client.loop_stop()
        self.outbox.close()
