"""Work orders: reading text/JSON/YAML documents into :class:`inspector.domain.WorkOrder`.

Public API::

    load_work_order(path) -> WorkOrder          # .txt/.wo/.json/.yaml/.yml, or sniffed
    parse_work_order(text, fmt="auto", source_name="<text>") -> WorkOrder
    WorkOrderError(ValueError)                   # .line, .source, .problem
    canonical_type(word) -> str                  # 'scratches' -> 'scratch', 'pits' -> 'pitting'
    GENERIC_TYPE                                 # 'defect': a clause about any defect type

The formats and the rule grammar are described in docs/workorders.md.
"""

from inspector.workorder.errors import WorkOrderError
from inspector.workorder.loader import load_work_order, parse_work_order
from inspector.workorder.vocabulary import GENERIC_TYPE, canonical_type, default_measure

__all__ = [
    "GENERIC_TYPE",
    "WorkOrderError",
    "canonical_type",
    "default_measure",
    "load_work_order",
    "parse_work_order",
]
