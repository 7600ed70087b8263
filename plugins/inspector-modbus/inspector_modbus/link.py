"""The station's Modbus TCP link to the PLC (pymodbus' asyncio client), on its own thread and loop.

:class:`PlcLink` is the publisher the facade subscribes to the line's event bus. A verdict
schedules a pulse on the link's loop and returns at once: the line never waits for the PLC.
One connection carries everything (pymodbus serialises its requests); a supervisor task
connects, resets the outputs, runs the heartbeat and the trigger poll, and on any connection
failure closes, waits (0.25 s doubling to ``reconnect_max_s``) and connects again.

While the PLC is unreachable, a verdict's pulse is **not** queued for later: a reject that
arrives after the part has passed the diverter would throw out the wrong part. It is counted
in ``stats["missed"]`` and logged; the PLC sees the heartbeat stop and must treat the station
as down (divert everything) until it moves again.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time
from collections.abc import Awaitable
from typing import Any

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from inspector.events import PartFailed, PartJudged, PartStored
from inspector_modbus.config import VERDICT_OUTPUT, ModbusConfig

log = logging.getLogger(__name__)


class PlcLink:
    """Modbus TCP client to the PLC: pulses, heartbeat, trigger input. Call with line events."""

    def __init__(self, config: ModbusConfig, station: Any):
        self.config = config
        self.station = station
        self.stats: collections.Counter = collections.Counter()  # pulses, missed, triggers, polls, connects...
        self.pulsed: collections.deque = collections.deque(maxlen=256)  # (output, part id, perf_counter)
        self._signalled: collections.deque = collections.deque(maxlen=256)  # (run_id, frame_name) with a pulse
        self._generation: dict[int, int] = {}  # coil -> pulse number: only the newest pulse ends it
        self._client: AsyncModbusTcpClient | None = None
        self._connected = threading.Event()
        self._closing = False
        self._stop_tasks: asyncio.Event | None = None
        self._pulses: set = set()  # pulses in progress (concurrent futures), cancelled at close
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="inspector-modbus", daemon=True)
        self._thread.start()
        self._supervisor = asyncio.run_coroutine_threadsafe(self._supervise(), self._loop)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    # --- the line's events (the bus's publisher thread): never wait for the PLC ------------------

    def __call__(self, event: Any) -> None:
        cfg = self.config
        if isinstance(event, PartJudged if cfg.signal_at == "judged" else PartStored):
            insp = event.inspection
            output = VERDICT_OUTPUT.get(insp.verdict.kind.value, "review")
            self._signalled.append((event.run_id, insp.frame_name))
            self._schedule(output, getattr(insp, "part_id", "") or insp.frame_name)
        elif isinstance(event, PartFailed) and event.frame_name and cfg.failed_output != "none":
            if (event.run_id, event.frame_name) not in self._signalled:  # no verdict was signalled for it
                self._signalled.append((event.run_id, event.frame_name))
                self._schedule(cfg.failed_output, event.frame_name)

    def _schedule(self, output: str, part: str) -> None:
        coil = self.config.coil_of(output)
        if coil is None or self._closing:
            return
        self._pulses = {f for f in self._pulses if not f.done()}  # only this (the bus's) thread writes it
        self._pulses.add(asyncio.run_coroutine_threadsafe(self._pulse(output, coil, part), self._loop))

    # --- on the link's loop ----------------------------------------------------------------------

    async def _pulse(self, output: str, coil: int, part: str) -> None:
        client = self._client
        if client is None or not self._connected.is_set():
            self.stats["missed"] += 1
            log.warning("PLC not connected: %s output for part %s NOT sent (not sent late either)", output, part)
            return
        gen = self._generation[coil] = self._generation.get(coil, 0) + 1
        if not await self._request(client.write_coil(coil, True, device_id=self.config.device_id), f"set {output}"):
            self.stats["missed"] += 1
            return
        self.stats["pulses"] += 1
        self.pulsed.append((output, part, time.perf_counter()))
        await asyncio.sleep(self.config.pulse_ms / 1000)
        if self._generation.get(coil) == gen:  # a newer pulse on this coil keeps it high and ends it
            await self._request(client.write_coil(coil, False, device_id=self.config.device_id), f"reset {output}")

    async def _request(self, call: Awaitable[Any], what: str) -> Any:
        """One request; None when it failed (a lost connection wakes the supervisor)."""
        try:
            reply = await asyncio.wait_for(call, self.config.timeout_s * 2)
        except (TimeoutError, ModbusException, OSError) as exc:
            self.stats["failures"] += 1
            if self._connected.is_set():
                log.warning("PLC %s:%d: %s failed (%s): reconnecting", self.config.host, self.config.port, what,
                            exc or type(exc).__name__)
            self._connected.clear()
            return None
        if reply.isError():  # the PLC answered with an exception (an address it does not have)
            self.stats["refused"] += 1
            log.error("PLC refused %s: %s (check the addresses in plugins.modbus)", what, reply)
            return None
        return reply

    async def _supervise(self) -> None:
        cfg = self.config
        delay = 0.25
        down_since: float | None = None  # said once per outage (pymodbus' own per-try warnings are quieted)
        logging.getLogger("pymodbus.logging").setLevel(logging.ERROR)
        while not self._closing:
            client = AsyncModbusTcpClient(cfg.host, port=cfg.port, timeout=cfg.timeout_s, retries=0,
                                          reconnect_delay=0)
            try:
                ok = await client.connect()
            except (ModbusException, OSError):
                ok = False
            if ok:
                self._client = client
                await self._reset_outputs(client)  # before any pulse may use the link
                self._connected.set()
                self.stats["connects"] += 1
                gap = f" after {time.monotonic() - down_since:.1f} s" if down_since is not None else ""
                log.info("PLC %s:%d connected%s", cfg.host, cfg.port, gap)
                down_since = None
                self._stop_tasks = asyncio.Event()
                tasks = [asyncio.create_task(t) for t in (self._heartbeat(client), self._poll(client)) if t]
                while self._connected.is_set() and not self._closing and client.connected:
                    await asyncio.sleep(0.05)
                self._stop_tasks.set()  # they finish the request in flight (the PLC may not take two at once)
                if tasks:
                    await asyncio.wait(tasks, timeout=cfg.timeout_s * 2 + 0.5)
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                if self._closing and client.connected:  # leave the PLC with every output low
                    await self._reset_outputs(client)
                self._connected.clear()
                delay = 0.25
            client.close()
            if self._closing:
                return
            if down_since is None:
                down_since = time.monotonic()
                log.warning("PLC %s:%d not reachable: retrying (at most every %.0f s); verdict outputs are not "
                            "sent while it is down", cfg.host, cfg.port, cfg.reconnect_max_s)
            await asyncio.sleep(delay)
            delay = min(delay * 2, cfg.reconnect_max_s)

    async def _reset_outputs(self, client: AsyncModbusTcpClient) -> None:
        """All outputs low after a (re)connect: a pulse cut by a lost link must not stay high."""
        for name, coil in self.config.coils.items():
            await self._request(client.write_coil(coil, False, device_id=self.config.device_id), f"reset {name}")

    def _stopping(self) -> bool:
        return self._stop_tasks is None or self._stop_tasks.is_set()

    async def _pause(self, seconds: float) -> None:
        """Sleep, waking early when the tasks are told to stop."""
        if self._stop_tasks is not None:
            try:
                await asyncio.wait_for(self._stop_tasks.wait(), seconds)
            except TimeoutError:
                pass

    def _heartbeat(self, client: AsyncModbusTcpClient) -> Awaitable[None] | None:
        cfg = self.config
        if cfg.heartbeat == "off":
            return None

        async def beat() -> None:
            n = 0
            while not self._stopping():
                n += 1
                if cfg.heartbeat == "coil":
                    call = client.write_coil(cfg.heartbeat_address, bool(n % 2), device_id=cfg.device_id)
                else:
                    call = client.write_register(cfg.heartbeat_address, n % 65536, device_id=cfg.device_id)
                if await self._request(call, "heartbeat") is not None:
                    self.stats["heartbeats"] += 1
                await self._pause(cfg.heartbeat_ms / 1000)

        return beat()

    def _poll(self, client: AsyncModbusTcpClient) -> Awaitable[None] | None:
        cfg = self.config
        if cfg.trigger_input == "off":
            return None
        read = client.read_discrete_inputs if cfg.trigger_input == "discrete_input" else client.read_coils

        async def poll() -> None:
            before: bool | None = None  # unknown after a (re)connect: a level already high is no edge
            while not self._stopping():
                reply = await self._request(read(cfg.trigger_address, count=1, device_id=cfg.device_id), "trigger read")
                if reply is not None:
                    self.stats["polls"] += 1
                    level = bool(reply.bits[0])
                    if level and before is False:
                        await self._triggered(client)
                    if level and cfg.trigger_input == "coil":  # handshake: taken, the PLC may set it again
                        if await self._request(client.write_coil(cfg.trigger_address, False, device_id=cfg.device_id),
                                               "trigger acknowledge") is not None:
                            level = False
                    before = level
                await self._pause(cfg.poll_ms / 1000)

        return poll()

    async def _triggered(self, client: AsyncModbusTcpClient) -> None:
        cfg = self.config
        part_id = None
        if cfg.part_id_register is not None:
            reply = await self._request(client.read_holding_registers(cfg.part_id_register, count=cfg.part_id_words,
                                                                      device_id=cfg.device_id), "part id read")
            if reply is not None:
                part_id = decode_part_id(reply.registers)
        self.stats["triggers"] += 1
        trigger = getattr(self.station, "trigger", None)
        if trigger is None:
            log.error("PLC trigger ignored: this station has no software trigger")
            return
        try:  # on a worker: subscribers of the station's bus run in the caller's thread
            await asyncio.get_running_loop().run_in_executor(None, lambda: trigger(part_id, origin="modbus"))
        except Exception as exc:  # an unusable part id (TriggerError): logged, the link goes on
            self.stats["refused_triggers"] += 1
            log.error("PLC trigger refused by the station: %s", exc)

    # --- shutdown --------------------------------------------------------------------------------

    def close(self, timeout: float = 5.0) -> None:
        """Stop heartbeat and polling, set the outputs low, disconnect. Safe to call twice."""
        if self._closing:
            return
        self._closing = True

        async def finish() -> None:
            self._connected.clear()
            for pulse in list(self._pulses):  # the supervisor sets every output low below
                pulse.cancel()
            await asyncio.gather(asyncio.wrap_future(self._supervisor), return_exceptions=True)
            client = self._client
            if client is not None:
                client.close()

        try:
            asyncio.run_coroutine_threadsafe(finish(), self._loop).result(timeout)
        except Exception:
            log.warning("PLC link did not close cleanly within %.1f s", timeout)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        if not self._loop.is_running():
            self._loop.close()


def decode_part_id(registers: list[int]) -> str | None:
    """ASCII, two characters a register (high byte first), up to the first NUL; None when empty."""
    raw = b"".join(int(r & 0xFFFF).to_bytes(2, "big") for r in registers)
    text = raw.split(b"\0", 1)[0].decode("ascii", errors="replace").strip()
    return text or None
