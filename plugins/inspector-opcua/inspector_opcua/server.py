"""The station as an OPC UA server (asyncua), on its own thread and event loop.

:class:`VisionServer` is the publisher the facade subscribes to the line's event bus: each
event updates the node map (``inspector_opcua.nodes``) on the server's loop. Client method
calls (SelectWorkOrder, Start, Stop, Trigger) run on that loop; the ones that reach the
station (a database look-up, a trigger) run on a worker thread so the server keeps answering.
A refused call returns an OPC UA status code (Bad_InvalidState, Bad_NotFound,
Bad_InvalidArgument) and says why in the log.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from asyncua import Server, ua

from inspector.errors import InspectorError, describe
from inspector.events import LineStarted, LineStopped, PartFailed, PartStored, SourceLost, SourceReconnected
from inspector_opcua import nodes
from inspector_opcua.config import OpcuaConfig, OpcuaError

log = logging.getLogger(__name__)

COUNTER_OF = {"OK": "Ok", "NG": "Ng", "REVIEW": "Review"}
Handler = Callable[..., Awaitable[Any]]


def _bad(code: int, why: str) -> ua.StatusCode:
    log.warning("OPC UA call refused (%s): %s", ua.StatusCode(code).name, why)
    return ua.StatusCode(code)


class VisionServer:
    """An OPC UA server for one station; call it with line events, ``close()`` stops it."""

    def __init__(self, config: OpcuaConfig, station: Any, station_name: str = ""):
        self.config = config
        self.station = station
        self.station_name = station_name
        self.ns = 0
        self.armed = config.armed
        self.selected = ""
        self.active = ""
        self.state = "Preoperational"
        self.counts = {"Total": 0, "Ok": 0, "Ng": 0, "Review": 0, "Failed": 0}
        self.calls = 0
        self._server: Server | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="inspector-opcua", daemon=True)
        self._thread.start()
        try:
            self._call(self._start(), config.start_timeout_s)
        except Exception as exc:
            self._stop_loop()
            if isinstance(exc, OpcuaError):
                raise
            raise OpcuaError(f"OPC UA server on {config.endpoint} did not start: {describe(exc)}") from exc
        log.info("OPC UA server listening on %s (namespace %s, ns=%d, security %s)", config.endpoint,
                 config.namespace, self.ns, "+".join(config.security))

    # --- the loop's thread ---------------------------------------------------------------------

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def _call(self, coro: Awaitable[Any], timeout: float) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)  # type: ignore[arg-type]

    def _stop_loop(self) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        if not self._loop.is_running():
            self._loop.close()

    # --- building the address space ------------------------------------------------------------

    async def _start(self) -> None:
        cfg = self.config
        server = Server()
        if cfg.security == ("None",):  # said once below, instead of asyncua's two warnings at every start
            logging.getLogger("asyncua.server.server").setLevel(logging.ERROR)
        await server.init()
        server.set_endpoint(cfg.endpoint)
        server.set_server_name(cfg.server_name or f"Inspector {self.station_name}".strip())
        await server.set_application_uri(f"{cfg.namespace}:server")
        server.set_security_policy([getattr(ua.SecurityPolicyType, {"None": "NoSecurity"}.get(p, p))
                                    for p in cfg.security])
        if cfg.certificate is not None and cfg.private_key is not None:
            try:
                await server.load_certificate(cfg.certificate)
                await server.load_private_key(cfg.private_key)
            except Exception as exc:
                raise OpcuaError(f"plugins.opcua: cannot load certificate/key: {describe(exc)}") from exc
        self.ns = await server.register_namespace(cfg.namespace)
        made: dict[str, Any] = {}
        for path, what in nodes.OBJECTS:  # parents first; "" is VisionSystem itself
            parent = made[path.rpartition(".")[0]] if path else server.nodes.objects
            name = path.rsplit(".", 1)[-1] if path else nodes.ROOT
            obj = await parent.add_object(nodes.node_id(path, self.ns), ua.QualifiedName(name, self.ns))
            await obj.write_attribute(ua.AttributeIds.Description,
                                      ua.DataValue(ua.Variant(ua.LocalizedText(what, "en"))))
            made[path] = obj
        for var in nodes.VARIABLES:
            initial = self.armed if var.path == "Armed" else var.initial
            node = await made[var.path.rpartition(".")[0]].add_variable(
                nodes.node_id(var.path, self.ns), ua.QualifiedName(var.name, self.ns),
                nodes.variant(var, initial), varianttype=var.vtype)
            await node.write_attribute(ua.AttributeIds.Description,
                                       ua.DataValue(ua.Variant(ua.LocalizedText(var.what, "en"))))
            if var.array:
                await node.write_value_rank(1)
                await node.write_array_dimensions([0])
        handlers: dict[str, Handler] = {"SelectWorkOrder": self._select, "Start": self._arm, "Stop": self._disarm,
                                        "Trigger": self._trigger}
        for m in nodes.METHODS:
            args = [ua.Argument(Name=n, DataType=ua.NodeId(t.value), ValueRank=-1,
                                Description=ua.LocalizedText(d, "en")) for n, t, d in m.inputs]
            await made[""].add_method(nodes.node_id(m.name, self.ns), ua.QualifiedName(m.name, self.ns),
                                      self._guarded(handlers[m.name], len(m.inputs)), args, [])
        try:
            await server.start()
        except OSError as exc:
            raise OpcuaError(f"OPC UA server cannot listen on {cfg.endpoint}: {exc.strerror or exc}") from exc
        self._server = server

    async def _write(self, values: dict[str, Any]) -> None:
        server = self._server
        if server is None:
            return
        for path, value in values.items():
            dv = ua.DataValue(nodes.variant(nodes.BY_PATH[path], value))
            await server.write_attribute_value(nodes.node_id(path, self.ns), dv)

    # --- methods -------------------------------------------------------------------------------

    def _guarded(self, handler: Handler, n_inputs: int) -> Callable[..., Awaitable[Any]]:
        async def call(parent: ua.NodeId, *args: ua.Variant) -> Any:
            self.calls += 1
            if len(args) != n_inputs or any(not isinstance(a.Value, str) for a in args):
                return _bad(ua.StatusCodes.BadInvalidArgument, f"{handler.__name__} takes {n_inputs} string argument(s)")
            return await handler(*(a.Value for a in args))

        return call

    async def _in_worker(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    async def _select(self, order_id: str) -> Any:
        order_id = order_id.strip()
        if not order_id:
            return _bad(ua.StatusCodes.BadInvalidArgument, "SelectWorkOrder needs an order id")
        select = getattr(self.station, "select_work_order", None)  # where the facade offers one
        try:
            wo = await self._in_worker(select if callable(select) else self.station.find_work_order, order_id)
        except (KeyError, LookupError) as exc:
            return _bad(ua.StatusCodes.BadNotFound, describe(exc))
        except InspectorError as exc:  # a work order file that does not parse
            return _bad(ua.StatusCodes.BadInvalidArgument, describe(exc))
        self.selected = wo.order_id
        await self._write({"SelectedWorkOrder": self.selected})
        log.info("OPC UA: work order %s selected", self.selected)
        return []

    async def _arm(self) -> Any:
        self.armed = True
        await self._write({"Armed": True})
        return []

    async def _disarm(self) -> Any:
        self.armed = False
        await self._write({"Armed": False})
        return []

    async def _trigger(self, part_id: str) -> Any:
        if not self.armed:
            return _bad(ua.StatusCodes.BadInvalidState, "Trigger while disarmed: call Start first")
        if self.selected and self.active and self.selected != self.active:
            return _bad(ua.StatusCodes.BadInvalidState,
                        f"the line runs {self.active} but {self.selected} is selected: no part judged by the wrong order")
        trigger = getattr(self.station, "trigger", None)
        if trigger is None:
            return _bad(ua.StatusCodes.BadNotSupported, "this station has no software trigger")
        try:
            await self._in_worker(lambda: trigger(part_id.strip() or None, origin="opcua"))
        except InspectorError as exc:  # no line running, a line without software trigger...
            return _bad(ua.StatusCodes.BadInvalidState, describe(exc))
        return []

    # --- the line's events ---------------------------------------------------------------------

    def __call__(self, event: Any) -> None:
        """Apply one line event to the node map (on the bus's publisher thread; waits for the loop)."""
        if self._server is None or not self._loop.is_running():
            return
        values = self._values_for(event)
        if values:
            self._call(self._write(values), 10.0)

    def _values_for(self, event: Any) -> dict[str, Any]:
        sm = "VisionStateMachine."
        if isinstance(event, LineStarted):
            self.active, self.state = event.order_id, "Operational"
            return {sm + "CurrentState": self.state, sm + "StateReason": f"line running {event.order_id} "
                    f"from {event.source}", "ActiveWorkOrder": self.active}
        if isinstance(event, LineStopped):
            aborted = getattr(event.summary, "aborted", "")
            self.active, self.state = "", "Error" if aborted else "Preoperational"
            why = aborted or f"line stopped after {getattr(event.summary, 'inspected', 0)} parts"
            return {sm + "CurrentState": self.state, sm + "StateReason": why, "ActiveWorkOrder": ""}
        if isinstance(event, SourceLost):
            self.state = "Error"
            return {sm + "CurrentState": "Error", sm + "StateReason": f"source {event.source}: {event.message}"}
        if isinstance(event, SourceReconnected) and self.active:
            self.state = "Operational"
            return {sm + "CurrentState": self.state,
                    sm + "StateReason": f"source {event.source} back after {event.gap_s:.1f} s"}
        if isinstance(event, PartFailed):
            self.counts["Failed"] += 1
            return {"ResultManagement.Counters.Failed": self.counts["Failed"]}
        if isinstance(event, PartStored):
            return self._result(event.inspection)
        return {}

    def _result(self, insp: Any) -> dict[str, Any]:
        kind = insp.verdict.kind.value
        self.counts["Total"] += 1
        if kind in COUNTER_OF:
            self.counts[COUNTER_OF[kind]] += 1
        last, counters = "ResultManagement.LastResult.", "ResultManagement.Counters."
        values: dict[str, Any] = {
            last + "PartId": str(getattr(insp, "part_id", "") or ""),
            last + "InspectionId": insp.id,
            last + "Verdict": kind,
            last + "OrderId": insp.order_id,
            last + "ClauseIds": list(insp.verdict.clause_ids),
            last + "ImageScore": float(insp.image_score),
            last + "Timestamp": insp.inspected_at,
        }
        if self.state == "Error" and self.active:  # a part stored: the source delivers again
            self.state = "Operational"
            values["VisionStateMachine.CurrentState"] = self.state
            values["VisionStateMachine.StateReason"] = f"line running {self.active}"
        for name in ("Ok", "Ng", "Review", "Total"):  # Total last: it says a new result is complete
            values[counters + name] = self.counts[name]
        return values

    # --- shutdown ------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the server and its loop. Safe to call twice."""
        server, self._server = self._server, None
        if server is not None and self._loop.is_running():
            try:
                self._call(server.stop(), 10.0)
            except Exception:
                log.exception("OPC UA server did not stop cleanly")
        self._stop_loop()
