"""Test helpers for the MQTT plugin: a real Mosquitto on 127.0.0.1 and a real paho subscriber.

Imported by the plugin's test modules (not collected itself). The broker keeps sessions on
disk (``persistence true``), so a subscriber with a persistent session receives what was
published while it was away, including across a broker restart, as an MES client would.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


class Broker:
    """``mosquitto -c <conf>`` with one listener on 127.0.0.1:<port>; stop() and start() again on the same port."""

    def __init__(self, folder: Path, port: int | None = None):
        self.folder = folder
        self.port = port or free_port()
        self.log = folder / "mosquitto.log"
        self.conf = folder / "mosquitto.conf"
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous true", "persistence true",
                 f"persistence_location {folder}/", f"log_dest file {self.log}", "log_type all"]
        if os.geteuid() == 0:  # mosquitto started as root drops to user 'mosquitto' unless told not to
            lines.append("user root")
        self.conf.write_text("\n".join(lines) + "\n")
        self.proc: subprocess.Popen | None = None

    def start(self) -> Broker:
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                    log = self.log.read_text() if self.log.exists() else ""
                    raise RuntimeError(f"mosquitto did not start on port {self.port}: {err}{log[-2000:]}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: mosquitto saves its sessions and exits
            self.proc.wait(15)
        self.proc = None


class Listener:
    """A paho subscriber (persistent session, QoS 1) that records what it receives."""

    def __init__(self, port: int, topic: str = "inspector/#", client_id: str = "test-mes", clean: bool = False):
        self.messages: list[tuple[str, bytes, bool, float]] = []  # topic, payload, retain, perf_counter
        self._lock = threading.Lock()
        self.topic = topic
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(self.topic, qos=1)
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(0.1, 0.5)
        self.client.connect_async("127.0.0.1", port, keepalive=10)
        self.client.loop_start()
        wait_for(self.client.is_connected, 15, "the test subscriber to connect")

    def _on_message(self, client, userdata, msg) -> None:
        with self._lock:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain), time.perf_counter()))

    def on(self, suffix: str) -> list[dict]:
        with self._lock:
            return [json.loads(p) for t, p, _, _ in self.messages if t.endswith(suffix) and p]

    def publish(self, topic: str, payload: str | bytes) -> None:
        wait_for(self.client.is_connected, 15, "the test client to be connected")
        self.client.publish(topic, payload, qos=1).wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def retained(port: int, topic: str, timeout: float = 10.0) -> dict:
    """The retained message on ``topic``, read by a fresh clean subscriber."""
    got: list[bytes] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="", clean_session=True)
    client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
    client.on_message = lambda c, u, m: got.append(bytes(m.payload)) if m.retain else None
    client.connect("127.0.0.1", port, keepalive=10)
    client.loop_start()
    try:
        wait_for(lambda: got, timeout, f"a retained message on {topic}")
    finally:
        client.disconnect()
        client.loop_stop()
    return json.loads(got[-1])
