"""Each inspection records the exact work-order version it was judged with; reports cite that version."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import numpy as np
import pytest

from inspector.domain import VerdictKind, to_data
from inspector.reports.collect import collect_lot
from inspector.store import Store
from inspector.store.convert import work_order_sha256
from inspector.store.samples import sample_image, sample_inspection, sample_work_order


@pytest.fixture
def store(tmp_path):
    s = Store.open(f"sqlite:///{tmp_path / 'inspector.db'}", tmp_path / "images")
    yield s
    s.close()


def _stricter(wo):
    """The same order with clause §2 rewritten: a new version."""
    clauses = tuple(dataclasses.replace(c, text="Scratches up to 0.3 mm allowed outside zone A.", limit=0.3)
                    if c.id == "§2" else c for c in wo.clauses)
    return dataclasses.replace(wo, clauses=clauses, source_text=wo.source_text.replace("0.5 mm", "0.3 mm"))


def test_content_hash_ignores_the_version_and_matches_hashes_stored_before_it_existed():
    wo = sample_work_order()
    legacy = to_data(wo)
    del legacy["version"]  # how rows stored before WorkOrder.version were hashed
    blob = json.dumps(legacy, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    assert work_order_sha256(wo) == hashlib.sha256(blob).hexdigest()
    assert work_order_sha256(dataclasses.replace(wo, version=7)) == work_order_sha256(wo)
    assert dataclasses.replace(wo, version=7) == wo  # the number is not content


def test_inspection_keeps_the_version_it_was_judged_with(store):
    rng = np.random.default_rng(3)
    v1 = dataclasses.replace(sample_work_order(), version=store.save_work_order(sample_work_order(), "ann"))
    sha = store.images.put_array(sample_image(rng))
    judged = sample_inspection(rng, sha, n_findings=2, verdict=VerdictKind.NG)
    judged.work_order_version = v1.version
    assert store.save_work_order(_stricter(v1), "ann") == 2  # v2 loaded while the part was being judged
    store.save_inspection(judged)
    back = store.get_inspection(judged.id)
    assert back.work_order_version == 1
    assert store.work_order_of(judged.id).version == 1
    assert store.get_work_order("WO-1001").version == 2
    unversioned = sample_inspection(rng, sha, n_findings=0)
    store.save_inspection(unversioned)  # a caller that does not say: the latest, recorded
    assert unversioned.work_order_version == 2 == store.get_inspection(unversioned.id).work_order_version


def test_lot_report_cites_the_clause_text_of_the_version_the_part_was_judged_with(store, tmp_path):
    rng = np.random.default_rng(5)
    store.save_work_order(sample_work_order(), "ann")
    sha = store.images.put_array(sample_image(rng))
    old = sample_inspection(rng, sha, n_findings=1, verdict=VerdictKind.NG)
    store.save_inspection(old, work_order_version=1)
    store.save_work_order(_stricter(sample_work_order()), "ann")
    new = sample_inspection(rng, sha, n_findings=1, verdict=VerdictKind.NG)
    store.save_inspection(new)
    latest = store.get_work_order("WO-1001")
    data = collect_lot(store, latest, str(tmp_path), lot=None, since=None, until=None, gallery_limit=None)
    assert dict(data.versions) == {1: 1, 2: 1}
    with open(data.gallery_path, encoding="utf-8") as fh:
        items = {item["id"]: item for item in map(json.loads, fh)}
    cited = {i: [c["clause_text"] for c in item["checks"] if c["clause"] == "§2"] for i, item in items.items()}
    assert cited[old.id] == ["Scratches up to 0.5 mm allowed outside zone A."]
    assert cited[new.id] == ["Scratches up to 0.3 mm allowed outside zone A."]
