"""``kill -9`` mid-spool and mid-drain: no part lost, none stored twice (issue 12, points 1 and 6).

Real processes are killed with SIGKILL at random moments, over and over: a *spooler* appending
records (a part and, for some, a late explanation) as a station does while its database is down,
and a *drainer* storing them into a SQLite database, alone and at the same time as the spooler
(the spool is shared through its file lock). Afterwards one last drain runs to the end, and:

* every record the spooler reported as written is in the database (nothing lost);
* every stored part has exactly one ``inspection.spooled`` audit event, every explanation one
  row (nothing twice), and every part all its findings (nothing half);
* the spool is empty, nothing was held, no temporary file is left, the audit chain verifies.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time

from fault_support import REPO

from inspector.spool import Spool, drain_step
from inspector.store import Store
from inspector.store.samples import sample_work_order
from inspector.trace import Audit

SPOOLER = r"""
import hashlib, sys
import numpy as np
from inspector.domain import Explanation
from inspector.spool import Spool, SpoolRecord
from inspector.store.images import encode_png
from inspector.store.samples import sample_image, sample_inspection

folder, seed = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(seed)
spool = Spool(folder, max_bytes=10**10, max_parts=10**6)
print("ready", flush=True)
while True:
    image = encode_png(sample_image(rng, 40, 30))
    insp = sample_inspection(rng, hashlib.sha256(image).hexdigest(), n_findings=int(rng.integers(0, 12)))
    spool.append(SpoolRecord("inspection", insp.id, "test: database down", "kill-drill", inspection=insp,
                             image=image, image_ext=".png"))
    print("spooled", insp.id, len(insp.findings), flush=True)
    if rng.random() < 0.3:
        spool.append(SpoolRecord("explanation", insp.id, "test: database down", "kill-drill",
                                 explanation=Explanation(f"late {insp.id}", fallback=True, generator="template")))
        print("explained", insp.id, flush=True)
"""

DRAINER = r"""
import sys, time
import numpy as np
from inspector.spool import Spool, drain_step
from inspector.store import Store

folder, db, images, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
rng = np.random.default_rng(seed)
store = Store.open(db, images)
spool = Spool(folder, max_bytes=10**10, max_parts=10**6)
print("ready", flush=True)
while True:
    report = drain_step(store, spool, "drainer", max_records=int(rng.integers(1, 8)))
    print("step", report.stored, report.already_stored, report.error, flush=True)
    if not report.remaining:
        time.sleep(0.01)
"""


class Child:
    """A Python child whose stdout lines are collected; killed with SIGKILL."""

    def __init__(self, code: str, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
        self.proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            if not line.endswith("\n"):  # cut by the kill mid-print: that record was never reported
                break
            self.lines.append(line.strip())
            if line.startswith("ready"):
                self.ready.set()

    def kill(self) -> None:
        if self.proc.poll() is not None:
            raise AssertionError(f"child died by itself ({self.proc.returncode}): {self.proc.stderr.read()}")
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self.reader.join(10)
        self.proc.stderr.close()
        assert self.proc.returncode == -signal.SIGKILL


def test_kill_9_mid_spool_and_mid_drain_loses_nothing_and_stores_nothing_twice(tmp_path):
    rnd = random.Random(12)
    folder, db, images = tmp_path / "spool", tmp_path / "db.sqlite", tmp_path / "images"
    url = f"sqlite:///{db}"
    store = Store.open(url, images)
    store.save_work_order(sample_work_order(), "qe")
    store.close()
    spooled: dict[str, int] = {}  # inspection id -> findings, as reported by the spooler
    explained: set[str] = set()
    kills = 0
    for round_ in range(8):
        children = []
        if round_ % 3 != 1:
            children.append(Child(SPOOLER, str(folder), str(round_)))
        if round_ % 3 != 0:
            children.append(Child(DRAINER, str(folder), url, str(images), str(round_)))
        for child in children:
            assert child.ready.wait(120), "child never became ready"
        time.sleep(rnd.uniform(0.2, 1.5))
        for child in rnd.sample(children, len(children)):
            child.kill()
            kills += 1
            time.sleep(rnd.uniform(0.0, 0.1))
        for child in children:
            for line in child.lines:
                words = line.split()
                if words[0] == "spooled":
                    spooled[words[1]] = int(words[2])
                elif words[0] == "explained":
                    explained.add(words[1])
    assert kills >= 10 and len(spooled) > 20

    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    con.close()
    store = Store.open(url, images)
    spool = Spool(folder, max_bytes=10**10, max_parts=10**6)
    while True:  # the last drain, to the end
        report = drain_step(store, spool, "final")
        assert not report.error and not report.held
        if not report.remaining:
            break
    with store.engine.connect() as conn:
        rows = dict(conn.exec_driver_sql("SELECT id, n_findings FROM inspections").fetchall())
        findings = dict(conn.exec_driver_sql(
            "SELECT inspection_id, COUNT(*) FROM findings GROUP BY inspection_id").fetchall())
        explanation_rows = conn.exec_driver_sql(
            "SELECT inspection_id, COUNT(*) FROM explanations WHERE text LIKE 'late %' GROUP BY inspection_id"
        ).fetchall()
    missing = set(spooled) - set(rows)
    assert not missing, f"{len(missing)} spooled parts lost"
    for insp_id, n in rows.items():
        assert findings.get(insp_id, 0) == n, f"{insp_id}: half a record"
        if insp_id in spooled:
            assert n == spooled[insp_id]
    events = [e.entity_id for e in Audit(store).events(action="inspection.spooled")]
    assert len(events) == len(set(events)) == len(rows), "a part was stored twice or without its audit event"
    assert all(count == 1 for _, count in explanation_rows), "an explanation was stored twice"
    assert explained <= {i for i, _ in explanation_rows}, "a late explanation was lost"
    assert spool.count() == 0 and not spool.state().held
    assert not list(folder.rglob(".tmp-*"))
    assert Audit(store).verify().ok
    store.close()


def test_spool_records_survive_a_kill_at_any_point_of_the_write(tmp_path):
    """A spooler killed anywhere leaves only whole records under final names (checked by reading
    every one), and the next writer removes the temporary file of the one it was writing."""
    folder = tmp_path / "spool"
    rnd = random.Random(3)
    for seed in range(4):
        child = Child(SPOOLER, str(folder), str(100 + seed))
        assert child.ready.wait(120)
        time.sleep(rnd.uniform(0.05, 0.6))
        child.kill()
    spool = Spool(folder, max_bytes=10**10, max_parts=10**6)
    for path in spool.pending():
        spool.read(path)  # raises SpoolCorrupt for anything but a whole record
    with spool.locked():
        pass
    assert not list(folder.rglob(".tmp-*"))
