"""The node map the server builds: one table, so the server, its tests and docs/integrations.md agree.

Every node id is a string id in the station's namespace (``namespace`` setting, index ``ns``,
usually 2): ``ns=2;s=VisionSystem.ResultManagement.LastResult.Verdict``. Browse names carry the
same namespace and the last segment of the id (``2:Verdict``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from asyncua import ua

ROOT = "VisionSystem"
NULL_TIME = datetime(1601, 1, 1, tzinfo=UTC)  # OPC UA's "no date" (DateTime 0)
STATES = ("Preoperational", "Operational", "Error")  # VisionStateMachine.CurrentState, as in OPC 40100


@dataclass(frozen=True)
class Variable:
    path: str  # below VisionSystem, dot-separated
    vtype: ua.VariantType
    initial: Any
    what: str
    array: bool = False

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Method:
    name: str
    inputs: tuple[tuple[str, ua.VariantType, str], ...]
    what: str


OBJECTS = (  # parents first
    ("", "the station's vision system (OPC 40100 VisionSystem)"),
    ("VisionStateMachine", "state of the system (OPC 40100 VisionStateMachine)"),
    ("ResultManagement", "results (OPC 40100 ResultManagement)"),
    ("ResultManagement.LastResult", "the last part stored by the line"),
    ("ResultManagement.Counters", "parts since the server started"),
)

VARIABLES = (
    Variable("VisionStateMachine.CurrentState", ua.VariantType.LocalizedText, "Preoperational",
             "Preoperational (no line running), Operational (a line runs), Error (source lost, line aborted)"),
    Variable("VisionStateMachine.StateReason", ua.VariantType.String, "server started, no line running",
             "why the system is in its state, in words"),
    Variable("Armed", ua.VariantType.Boolean, False, "Trigger accepted (Start arms, Stop disarms)"),
    Variable("SelectedWorkOrder", ua.VariantType.String, "", "the order SelectWorkOrder selected"),
    Variable("ActiveWorkOrder", ua.VariantType.String, "", "the order of the running line ('' when none runs)"),
    Variable("ResultManagement.LastResult.PartId", ua.VariantType.String, "", "the part's id (serial)"),
    Variable("ResultManagement.LastResult.InspectionId", ua.VariantType.String, "", "the stored record's id"),
    Variable("ResultManagement.LastResult.Verdict", ua.VariantType.String, "", "OK, NG or REVIEW"),
    Variable("ResultManagement.LastResult.OrderId", ua.VariantType.String, "", "the work order it was judged by"),
    Variable("ResultManagement.LastResult.ClauseIds", ua.VariantType.String, [],
             "the clauses that did not pass (empty when OK)", array=True),
    Variable("ResultManagement.LastResult.ImageScore", ua.VariantType.Double, 0.0, "the model's anomaly score"),
    Variable("ResultManagement.LastResult.Timestamp", ua.VariantType.DateTime, NULL_TIME,
             "when the part was inspected (UTC)"),
    Variable("ResultManagement.Counters.Total", ua.VariantType.UInt32, 0,
             "parts stored (written last: read LastResult when it changes)"),
    Variable("ResultManagement.Counters.Ok", ua.VariantType.UInt32, 0, "parts judged OK"),
    Variable("ResultManagement.Counters.Ng", ua.VariantType.UInt32, 0, "parts judged NG"),
    Variable("ResultManagement.Counters.Review", ua.VariantType.UInt32, 0, "parts judged REVIEW"),
    Variable("ResultManagement.Counters.Failed", ua.VariantType.UInt32, 0,
             "parts that could not be inspected or stored (PartFailed)"),
)

METHODS = (
    Method("SelectWorkOrder", (("OrderId", ua.VariantType.String, "work order id"),),
           "looks the order up (database, then the work-order folder) and selects it; Bad_NotFound if unknown"),
    Method("Start", (), "arms: Trigger is accepted from now on"),
    Method("Stop", (), "disarms: Trigger is refused (Bad_InvalidState) until Start"),
    Method("Trigger", (("PartId", ua.VariantType.String, "the part's id, '' to let the station name it"),),
           "asks the running line for one part: station.trigger(part_id, origin='opcua')"),
)


def node_id(path: str, ns: int) -> ua.NodeId:
    """The node id of ``path`` (below VisionSystem; '' is VisionSystem itself)."""
    return ua.NodeId(f"{ROOT}.{path}" if path else ROOT, ns)


def variant(var: Variable, value: Any) -> ua.Variant:
    if var.vtype is ua.VariantType.LocalizedText:
        value = ua.LocalizedText(str(value), "en")
    return ua.Variant(value, var.vtype, is_array=var.array) if var.array else ua.Variant(value, var.vtype)


BY_PATH = {v.path: v for v in VARIABLES}
