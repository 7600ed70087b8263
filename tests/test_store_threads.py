"""One writer thread plus reader threads on one Store (the pipeline's pattern), both backends."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from pg import db_url, postgres_head_url, postgres_server  # noqa: F401 - fixtures

from inspector.domain import Explanation
from inspector.store import Store
from inspector.store.samples import sample_image, sample_inspection, sample_work_order


@pytest.mark.timeout(300)
@pytest.mark.parametrize("writers", [1, 2])
def test_writers_and_readers_never_see_half_records(db_url, tmp_path, writers):  # noqa: F811
    store = Store.open(db_url, tmp_path / "images")
    store.save_work_order(sample_work_order(), "alice")
    per_writer = 30
    saved: dict[str, object] = {}
    errors: list[BaseException] = []
    done = threading.Event()
    reads = [0]

    def writer(seed: int) -> None:
        rng = np.random.default_rng(seed)
        try:
            for _ in range(per_writer):
                sha = store.images.put_array(sample_image(rng, 24, 16))
                insp = sample_inspection(rng, sha, n_findings=int(rng.integers(0, 12)))
                store.save_inspection(insp)
                saved[insp.id] = insp
                if rng.random() < 0.3:
                    store.add_explanation(insp.id, Explanation("why", fallback=True, generator="template"))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    def reader() -> None:
        last_total = 0
        try:
            while not done.is_set():
                for got in store.query_inspections(limit=15):
                    full = store.get_inspection(got.id)
                    original = saved.get(got.id)
                    if original is not None:  # (the writer records it just after the commit)
                        assert got.findings == original.findings and full.findings == original.findings
                    assert len(got.findings) == len(full.findings)
                total = store.counts()["inspected"]
                assert total >= last_total  # committed rows never disappear
                last_total = total
                reads[0] += 1
                time.sleep(0.01)  # let the writer have the GIL too
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    readers = [threading.Thread(target=reader) for _ in range(3)]
    writer_threads = [threading.Thread(target=writer, args=(100 + i,)) for i in range(writers)]
    for t in readers + writer_threads:
        t.start()
    for t in writer_threads:
        t.join()
    done.set()
    for t in readers:
        t.join()
    try:
        assert errors == [], errors[:3]
        assert reads[0] > 0
        assert store.count_inspections() == writers * per_writer
        for insp_id, insp in saved.items():
            back = store.get_inspection(insp_id)
            assert back.findings == insp.findings and back.verdict == insp.verdict
    finally:
        store.close()
