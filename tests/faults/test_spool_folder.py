"""The spool on its own: records round-trip whole, damage is caught, bounds and free space are checked
before anything is written, a full volume is written from the reserve, and the drain is in order,
exactly once, holds what the database refuses and never blocks on it (issue 12, point 1)."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest
from fault_support import fill, free_disk, tmpfs

from inspector.domain import Explanation, to_data, utcnow
from inspector.spool import Spool, SpoolCorrupt, SpoolError, SpoolRecord, drain_step
from inspector.spool.records import decode, encode
from inspector.store import Store
from inspector.store.images import encode_png
from inspector.store.samples import sample_image, sample_inspection, sample_work_order
from inspector.trace import Audit


def _record(rng, order_id: str = "WO-1001", n_findings: int | None = 3) -> SpoolRecord:
    image = encode_png(sample_image(rng))
    import hashlib

    insp = sample_inspection(rng, hashlib.sha256(image).hexdigest(), order_id=order_id, n_findings=n_findings,
                             explanation=Explanation("two scratches", fallback=False, generator="g", problems=("p",)))
    insp.part_id = "WO-1001-LOT-A-000007"
    return SpoolRecord("inspection", insp.id, "SQLite: database is locked", "st1", inspection=insp, image=image,
                       image_ext=".png")


def _spool(path, **kw) -> Spool:
    return Spool(path, **{"max_bytes": 10**9, "max_parts": 1000, **kw})


def test_a_record_round_trips_every_field_and_its_image_bytes():
    rng = np.random.default_rng(1)
    rec = _record(rng, n_findings=5)
    back = decode(encode(rec))
    assert to_data(back.inspection) == to_data(rec.inspection)
    assert back.image == rec.image and back.image_ext == ".png" and back.spooled_at == rec.spooled_at
    assert (back.kind, back.inspection_id, back.fault, back.station) == ("inspection", rec.inspection_id,
                                                                          rec.fault, "st1")
    late = SpoolRecord("explanation", rec.inspection_id, "disk full", "st1",
                       explanation=Explanation("late", fallback=True, generator="template"), explained_at=utcnow())
    again = decode(encode(late))
    assert again.explanation == late.explanation and again.explained_at == late.explained_at and again.image == b""


@pytest.mark.parametrize("damage", ["flip", "truncate", "tail", "magic", "empty"])
def test_a_damaged_record_is_refused_never_half_read(damage):
    data = bytearray(encode(_record(np.random.default_rng(2))))
    if damage == "flip":
        data[len(data) // 2] ^= 0x01
    elif damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "tail":
        data = data[:-1]
    elif damage == "magic":
        data[0:4] = b"XXXX"
    else:
        data = bytearray()
    with pytest.raises(SpoolCorrupt):
        decode(bytes(data), "x.rec")


def test_records_are_kept_in_arrival_order_and_bounds_are_checked_before_writing(tmp_path):
    rng = np.random.default_rng(3)
    spool = _spool(tmp_path / "spool", max_parts=3)
    recs = [_record(rng) for _ in range(3)]
    paths = [spool.append(r) for r in recs]
    assert [p.name for p in spool.pending()] == [p.name for p in paths]
    assert [spool.read(p).inspection_id for p in spool.pending()] == [r.inspection_id for r in recs]
    with pytest.raises(SpoolError, match="spool_max_parts 3"):
        spool.append(_record(rng))
    assert spool.count() == 3 and not list((tmp_path / "spool" / "parts").glob(".tmp-*"))
    small = _spool(tmp_path / "small", max_bytes=len(encode(recs[0])) + 10)
    small.append(recs[0])
    with pytest.raises(SpoolError, match="spool_max_bytes"):
        small.append(recs[1])


def test_a_full_volume_is_refused_before_writing_unless_the_reserve_gives_the_room(tmp_path):
    rng = np.random.default_rng(4)
    with tmpfs(tmp_path / "vol", "4m") as vol:
        spool = _spool(vol / "spool", reserve_bytes=1024 * 1024, min_free_bytes=256 * 1024)
        assert spool.prepare_reserve() == 1024 * 1024
        fill(vol)
        before = spool.state()
        assert before.free_bytes < 256 * 1024
        names = []
        for _ in range(4):  # each record takes its size + 16 KiB slack out of the 1 MiB reserve
            names.append(spool.append(_record(rng)).name)
        state = spool.state()
        assert state.parts == 4 and state.reserve_bytes < 1024 * 1024
        with pytest.raises(SpoolError, match="no room for the spool"):
            for _ in range(500):
                spool.append(_record(rng))
        assert [spool.read(p).inspection_id for p in spool.pending()]  # every record written is whole
        fill(vol)  # the slack the records left
        no_reserve = _spool(vol / "other", min_free_bytes=0)
        with pytest.raises(SpoolError, match="no room|no space"):
            no_reserve.append(_record(rng))
        free_disk(vol)
        spool.release_reserve()
        assert not spool.reserve_path.exists()


def test_an_unwritable_spool_folder_is_a_typed_error(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    spool = _spool(tmp_path / "file" / "spool")
    with pytest.raises(SpoolError, match="cannot be used"):
        spool.append(_record(np.random.default_rng(5)))
    assert spool.count() == 0 and spool.state().parts == 0  # reading never fails


def _store(tmp_path) -> Store:
    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "images")
    store.save_work_order(sample_work_order(), "qe")
    return store


def test_drain_stores_in_order_exactly_once_with_audit_events(tmp_path):
    rng = np.random.default_rng(6)
    store = _store(tmp_path)
    spool = _spool(tmp_path / "spool")
    recs = [_record(rng) for _ in range(30)]
    for r in recs:
        spool.append(r)
    late = SpoolRecord("explanation", recs[4].inspection_id, "locked", "st1",
                       explanation=Explanation("late text", fallback=False, generator="lm"), explained_at=utcnow())
    spool.append(late)
    first = drain_step(store, spool, "station", max_records=25)
    assert (first.stored, first.remaining, first.error) == (25, 6, "")
    second = drain_step(store, spool, "station", max_records=25)
    assert (second.stored, second.explanations, second.remaining) == (5, 1, 0)
    for r in recs:
        got = store.get_inspection(r.inspection_id)
        assert to_data(got, content_only=True) == to_data(r.inspection, content_only=True) | {
            "explanation": to_data(got.explanation)}
        assert store.images.verify(got.image_sha256)
    assert [e.text for e in store.explanations_for(recs[4].inspection_id)] == ["two scratches", "late text"]
    audit = Audit(store)
    spooled = [e.entity_id for e in audit.events(action="inspection.spooled")]
    assert spooled == [r.inspection_id for r in recs]  # in arrival order, once each
    assert [e.after["parts"] for e in audit.events(action="spool.drained")] == [25, 5]
    assert audit.verify().ok
    store.close()


def test_a_record_already_stored_is_removed_without_a_second_copy(tmp_path):
    """The drain was killed after its commit and before removing the files (or PostgreSQL lost the
    answer to a commit that happened): the inspection id finds it, nothing is stored twice."""
    rng = np.random.default_rng(7)
    store = _store(tmp_path)
    spool = _spool(tmp_path / "spool")
    recs = [_record(rng) for _ in range(3)]
    paths = [spool.append(r) for r in recs]
    copies = [p.read_bytes() for p in paths]
    assert drain_step(store, spool, "station").stored == 3
    for p, data in zip(paths, copies, strict=True):  # the files come back as if never removed
        p.write_bytes(data)
    again = drain_step(store, spool, "station")
    assert (again.stored, again.already_stored, again.remaining) == (0, 3, 0)
    assert store.count_inspections() == 3
    assert len(Audit(store).events(action="inspection.spooled")) == 3
    store.close()


def test_refused_records_are_held_with_their_reason_and_never_block_the_queue(tmp_path):
    rng = np.random.default_rng(8)
    store = _store(tmp_path)
    spool = _spool(tmp_path / "spool")
    good1 = spool.append(_record(rng))
    unknown = spool.append(_record(rng, order_id="WO-NOT-LOADED"))
    damaged = spool.append(_record(rng))
    good2 = spool.append(_record(rng))
    data = bytearray(damaged.read_bytes())
    data[-10] ^= 0xFF
    os.chmod(damaged, 0o644)
    damaged.write_bytes(bytes(data))
    report = drain_step(store, spool, "station")
    assert (report.stored, report.held, report.remaining) == (2, 2, 0)
    held = dict(spool.state().held)
    assert "WO-NOT-LOADED" in held[unknown.name] and "checksum" in held[damaged.name]
    assert {e.entity_id for e in Audit(store).events(action="spool.held")} == {unknown.name, damaged.name}
    assert store.count_inspections() == 2
    assert {good1.name, good2.name}.isdisjoint(held)
    store.close()


def test_a_storage_fault_mid_drain_keeps_every_record(tmp_path):
    from fault_support import sqlite_locked

    rng = np.random.default_rng(9)
    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "images", busy_timeout_ms=200)
    store.save_work_order(sample_work_order(), "qe")
    spool = _spool(tmp_path / "spool")
    for _ in range(3):
        spool.append(_record(rng))
    with sqlite_locked(tmp_path / "db.sqlite"):
        report = drain_step(store, spool, "station")
    assert report.error.startswith("SQLite: database is locked") and report.remaining == 3 and report.stored == 0
    assert drain_step(store, spool, "station").stored == 3
    store.close()


def test_read_only_folder_errors_are_storage_faults(tmp_path):
    from inspector.spool import is_storage_fault
    from inspector.store import DuplicateInspectionError, UnknownWorkOrderError

    assert is_storage_fault(OSError(errno.EROFS, "Read-only file system"))
    assert is_storage_fault(OSError(errno.ENOSPC, "No space left on device"))
    assert not is_storage_fault(UnknownWorkOrderError("no such order"))
    assert not is_storage_fault(DuplicateInspectionError("twice"))
    try:
        raise SpoolError("outer") from OSError(errno.EIO, "I/O error")
    except SpoolError as exc:
        assert is_storage_fault(exc)  # the cause decides
