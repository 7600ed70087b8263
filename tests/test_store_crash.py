"""Crash safety: a real writer process is killed with SIGKILL at random points, repeatedly.

After every kill the database must open, pass ``PRAGMA integrity_check``, hold every
inspection the child had reported as saved, and hold no half record (each inspection has
exactly its ``n_findings`` findings, its image exists and hashes to its name).
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
from pathlib import Path

import pytest

import inspector.store
from inspector.store import Store

REPO = Path(inspector.store.__file__).resolve().parents[2]

CHILD = r"""
import sys
import numpy as np
from inspector.domain import Decision, Explanation, Review, utcnow
from inspector.store import Store
from inspector.store.samples import sample_image, sample_inspection, sample_work_order

db, img, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = np.random.default_rng(seed)
store = Store.open(db, img)
store.save_work_order(sample_work_order(), "crash-drill")
print("ready", flush=True)
while True:
    batch = []
    for _ in range(1 if rng.random() < 0.7 else int(rng.integers(2, 6))):
        sha = store.images.put_array(sample_image(rng, 48, 32))
        batch.append(sample_inspection(rng, sha, n_findings=int(rng.integers(0, 30))))
    store.save_inspections(batch)
    for insp in batch:
        print("saved", insp.id, flush=True)
    if rng.random() < 0.3:
        store.add_explanation(batch[0].id, Explanation("text", fallback=True, generator="template"))
    if rng.random() < 0.2:
        store.add_review(Review(batch[0].id, Decision.REJECT, "OVER-LIMIT", "", "qe", "Q E", utcnow()))
"""


def _run_and_kill(db: Path, img: Path, seed: int, rng: random.Random, wait_ready: bool) -> list[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), str(img), str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines: list[str] = []
    ready = threading.Event()

    def reader() -> None:
        for line in proc.stdout:
            lines.append(line.strip())
            if line.startswith("ready"):
                ready.set()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    if wait_ready:
        assert ready.wait(120), f"child never became ready: {proc.stderr.read() if proc.poll() else ''}"
        time.sleep(rng.uniform(0.05, 1.5))
    else:
        time.sleep(rng.uniform(0.0, 2.0))  # may land in imports, migration or the first writes
    if proc.poll() is not None:
        raise AssertionError(f"child died by itself ({proc.returncode}): {proc.stderr.read()}")
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    t.join(10)
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    return [line.split()[1] for line in lines if line.startswith("saved ")]


def _check(db: Path, img: Path, reported: set[str]) -> int:
    if db.exists():  # the first kill may land before the database file was even created
        con = sqlite3.connect(db)
        try:
            assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        finally:
            con.close()
    store = Store.open(f"sqlite:///{db}", img)  # opens (and finishes migrating) after any crash
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
            rows = conn.exec_driver_sql(
                "SELECT i.id, i.n_findings, i.image_sha256, COUNT(f.id), COALESCE(MIN(f.idx), 0), "
                "COALESCE(MAX(f.idx), -1) FROM inspections i "
                "LEFT JOIN findings f ON f.inspection_id = i.id GROUP BY i.id"
            ).fetchall()
        ids = {r[0] for r in rows}
        assert reported <= ids, f"{len(reported - ids)} inspections reported saved are missing"
        for insp_id, n_findings, sha, count, lo, hi in rows:
            assert count == n_findings, f"inspection {insp_id}: {count} of {n_findings} findings"
            assert (lo, hi) == (0, n_findings - 1) or n_findings == 0
            assert store.images.verify(sha), f"image {sha} missing or damaged"
        for sha in store.images.shas():  # no partial image under a final name
            assert store.images.verify(sha)
        expected = {r[0]: r[1] for r in rows}
        for insp_id in sorted(ids)[:20]:
            assert len(store.get_inspection(insp_id).findings) == expected[insp_id]
    finally:
        store.close()
    return len(rows)


@pytest.mark.timeout(600)
def test_sigkill_never_leaves_half_records(tmp_path):
    db, img = tmp_path / "crash.db", tmp_path / "images"
    rng = random.Random(os.getpid() ^ int(time.time()))
    reported: set[str] = set()
    counts = []
    for round_ in range(6):
        seed = rng.randrange(2**32)
        reported |= set(_run_and_kill(db, img, seed, rng, wait_ready=round_ > 0))
        counts.append(_check(db, img, reported))
    assert counts[-1] > 0 and counts == sorted(counts)  # records accumulate, none vanish
    assert len(reported) > 0
