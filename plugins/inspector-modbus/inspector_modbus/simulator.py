"""A PLC stand-in: pymodbus' asyncio Modbus TCP server with a datastore, on its own thread.

Used by the tests and ``bench/modbus_latency.py`` as the real counterpart of the link, and
handy on a desk without a PLC (``python -m inspector_modbus.simulator --port 5020``). It
records every write the station makes with its ``time.perf_counter()`` arrival time, so a
test can see a pulse rise and fall and a bench can time it. ``stop()`` and ``start()`` model a
PLC restart (the datastore is kept, the connections drop).
"""

from __future__ import annotations

import argparse
import asyncio
import threading
import time
from typing import Any

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

SIZE = 4096  # coils, discrete inputs, holding and input registers: addresses 0..4095


class PlcSimulator:
    """A Modbus TCP server on ``host:port`` with coils, discrete inputs and registers 0..4095.

    ``writes`` lists what clients (the station) wrote; the PLC's own ``set_*`` are not in it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 5020):
        self.host, self.port = host, port
        self.writes: list[tuple[float, str, int, list[Any]]] = []  # (perf_counter, coil|register, address, values)
        self._changed = threading.Condition()
        self._own = False  # True while the PLC itself writes its datastore (not recorded)
        bits = [SimData(0, count=SIZE, values=False, datatype=DataType.BITS)]
        self.device = SimDevice(id=0, simdata=(bits, list(bits),
                                               [SimData(0, count=SIZE, values=0, datatype=DataType.REGISTERS)],
                                               [SimData(0, count=SIZE, values=0, datatype=DataType.REGISTERS)]),
                                action=self._action)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="plc-simulator", daemon=True)
        self._thread.start()
        self._server: ModbusTcpServer | None = None
        self.start()

    async def _action(self, fc: int, start: int, address: int, count: int, regs: list[int], values: Any) -> None:
        if values is not None and fc in (5, 15, 6, 16) and not self._own:  # the station's writes only
            with self._changed:
                self.writes.append((time.perf_counter(), "coil" if fc in (5, 15) else "register", address,
                                    list(values)))
                self._changed.notify_all()
        return None

    def _run(self, coro: Any, timeout: float = 10.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def start(self) -> None:
        async def up() -> ModbusTcpServer:
            server = ModbusTcpServer(self.device, address=(self.host, self.port))
            await server.serve_forever(background=True)
            return server

        self._server = self._run(up())

    def stop(self) -> None:
        """Close the listener and every connection (a PLC switched off); ``start()`` brings it back."""
        server, self._server = self._server, None
        if server is not None:
            self._run(server.shutdown())

    def close(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    # --- the PLC's own side of the datastore ---------------------------------------------------------

    def _get(self, fc: int, address: int, count: int = 1) -> list[Any]:
        server = self._server
        if server is None:
            raise RuntimeError("the simulated PLC is stopped")
        return self._run(server.context.async_getValues(0, fc, address, count))

    def coil(self, address: int) -> bool:
        return bool(self._get(1, address)[0])

    def register(self, address: int) -> int:
        return int(self._get(3, address)[0])

    def set_input(self, address: int, level: bool) -> None:
        """Set a discrete input (a sensor wired to the PLC)."""
        self._set(2, address, [bool(level)])

    def set_coil(self, address: int, level: bool) -> None:
        self._set(5, address, [bool(level)])

    def set_registers(self, address: int, values: list[int]) -> None:
        self._set(16, address, list(values))

    def _set(self, fc: int, address: int, values: list[Any]) -> None:
        server = self._server
        if server is None:
            raise RuntimeError("the simulated PLC is stopped")
        async def own() -> None:
            self._own = True
            try:
                await server.context.async_setValues(0, fc, address, values)
            finally:
                self._own = False

        self._run(own())

    def wait_write(self, pred: Any, timeout: float = 10.0, after: int = 0) -> tuple | None:
        """The first recorded write from index ``after`` on that ``pred`` accepts (waits up to ``timeout``)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for w in self.writes[after:]:
                    if pred(w):
                        return w
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)


def encode_part_id(text: str, words: int) -> list[int]:
    """ASCII text as registers, two characters each (high byte first), NUL-padded to ``words``."""
    raw = text.encode("ascii")[: words * 2].ljust(words * 2, b"\0")
    return [int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2)]


def main() -> None:  # pragma: no cover - a desk tool
    ap = argparse.ArgumentParser(description="a simulated PLC (Modbus TCP server) for trying the modbus plugin")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=5020)
    ap.add_argument("--trigger", type=int, metavar="ADDRESS", help="raise this discrete input for 100 ms ...")
    ap.add_argument("--every", type=float, default=5.0, help="... every this many seconds (a light barrier)")
    ap.add_argument("--count", type=int, default=0, help="... this many times (0: until Ctrl-C)")
    ap.add_argument("--part-ids", type=int, metavar="ADDRESS", help="write PLC-SN-0001, -0002... here first")
    ap.add_argument("--hide", type=int, action="append", default=[], help="do not print writes to this address")
    args = ap.parse_args()
    plc = PlcSimulator(args.host, args.port)
    t0 = time.perf_counter()
    print(f"simulated PLC on {args.host}:{args.port}; Ctrl-C stops it", flush=True)
    seen, fired, next_at = 0, 0, time.perf_counter() + args.every
    try:
        while True:
            time.sleep(0.01)
            if args.trigger is not None and time.perf_counter() >= next_at and (not args.count or fired < args.count):
                fired += 1
                if args.part_ids is not None:
                    plc.set_registers(args.part_ids, encode_part_id(f"PLC-SN-{fired:04d}", 8))
                plc.set_input(args.trigger, True)
                print(f"{time.perf_counter() - t0:9.3f} s  input    {args.trigger:5d} -> [True] (part {fired})", flush=True)
                time.sleep(0.1)
                plc.set_input(args.trigger, False)
                next_at += args.every
            for t, table, address, values in plc.writes[seen:]:
                if address not in args.hide:
                    print(f"{t - t0:9.3f} s  {table:8s} {address:5d} <- {values}", flush=True)
            seen = len(plc.writes)
    except KeyboardInterrupt:
        plc.close()


if __name__ == "__main__":  # pragma: no cover
    main()
