"""Several station processes storing parts into one PostgreSQL server at once (issue 12, point 7a).

The short version of ``bench/bench_multistation.py``: 4 real station processes (each its own
``Inspector`` facade, data folder and image store) store parts on a fixed schedule into one
database of the suite's server, all at once. Afterwards the test reads the database itself:
every part each station reported stored is there once, no part id twice, each record has its
``inspection.recorded`` event and the one audit chain all stations appended to verifies.
Latencies are printed by the bench, not asserted (docs/reliability.md has the figures).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pg import postgres_head_url, postgres_server  # noqa: F401 - fixtures
from sqlalchemy import func, select

from inspector.store import Store
from inspector.store.tables import InspectionRow
from inspector.store.trace_tables import AuditEventRow
from inspector.trace import Audit

pytestmark = pytest.mark.postgres
BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_multistation.py"
STATIONS, RATE, SECONDS = 4, 4, 3


def test_four_stations_store_every_part_once_into_one_server(postgres_head_url, tmp_path):  # noqa: F811
    out = tmp_path / "result.json"
    proc = subprocess.run([sys.executable, str(BENCH), "--stations", str(STATIONS), "--rate", str(RATE),
                           "--seconds", str(SECONDS), "--size", "160", "--url", postgres_head_url, "--json", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(out.read_text())
    expected = STATIONS * RATE * SECONDS
    assert result["reported"] == expected and result["errors"] == [] and result["exit_codes"] == [0] * STATIONS
    assert (result["lost"], result["duplicated_ids"], result["duplicated_part_ids"]) == (0, 0, 0)
    with Store.open(postgres_head_url, tmp_path / "images") as store:
        with store.engine.connect() as conn:
            rows = conn.execute(select(InspectionRow.station, InspectionRow.part_id, InspectionRow.verdict)).all()
            t = AuditEventRow.__table__
            events = conn.scalar(select(func.count()).select_from(t).where(t.c.action == "inspection.recorded"))
        verdict = Audit(store).verify(images=False)
    assert len(rows) == expected and events == expected
    assert {s: sum(1 for r in rows if r.station == s) for s in {r.station for r in rows}} == \
        {f"st-{i}": RATE * SECONDS for i in range(STATIONS)}
    assert len({r.part_id for r in rows}) == expected  # one shared counter, no id twice
    assert {r.verdict for r in rows} == {"OK", "NG"}
    assert verdict.ok, verdict.problems
