"""Sequence numbers of generated part ids (``<order>-<lot>-<sequence>``), one counter per order and lot.

Each number is handed out in its own short write transaction: ``UPDATE ... SET last = last + 1
RETURNING last`` (the row lock on PostgreSQL, the write lock on SQLite, so two stations on one
database never get the same number), or the first ``INSERT`` of the pair; an insert that loses
the race to another station is retried as an update. Numbers are never reused: a part that
could not be stored leaves a gap, never a repeat.
"""

from __future__ import annotations

from sqlalchemy import Engine, insert, update
from sqlalchemy.exc import IntegrityError

from inspector.store.db import writer_engine
from inspector.store.errors import StoreError
from inspector.store.tables import PartSequenceRow

_T = PartSequenceRow.__table__
ATTEMPTS = 5


def next_part_sequence(engine: Engine, order_id: str, lot: str) -> int:
    """The next number (1, 2, ...) of ``order_id``/``lot``; committed before it is returned."""
    where = (_T.c.order_id == order_id) & (_T.c.lot == lot)
    for _ in range(ATTEMPTS):
        try:
            with writer_engine(engine).begin() as conn:
                row = conn.execute(update(_T).where(where).values(last=_T.c.last + 1).returning(_T.c.last)).first()
                if row is not None:
                    return int(row[0])
                conn.execute(insert(_T).values(order_id=order_id, lot=lot, last=1))
                return 1
        except IntegrityError:  # another station inserted the pair first: update it next time
            continue
    raise StoreError(f"cannot hand out a part sequence number for {order_id}/{lot}: the database kept refusing")
