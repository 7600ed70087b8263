"""Part identity (issue 11, point 2): every inspection carries a part id, read from a DataMatrix,
QR code or barcode in the image (zxing-cpp), given by the trigger, or generated as
``<order>-<lot>-<sequence>`` with the sequence in the database: never repeated, also with two
stations on one database (SQLite and a real PostgreSQL). An existing database migrates: its
records get an empty part id and the report hashes printed before still verify."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest
import zxingcpp
from parts_support import run_in_thread, wait_for, write_belt_video
from pg import db_url, postgres_head_url, postgres_server  # noqa: F401 - fixtures
from zone_support import ScratchBackend, part_image, write_order

from inspector.canonical import canonical_text
from inspector.events import PartStored
from inspector.parts.identity import read_code
from inspector.pipeline import Inspector
from inspector.settings import Settings
from inspector.sources.builtin import CameraSource, VideoSource
from inspector.store import Store
from inspector.store.migrate import current_revision, downgrade, head_revision
from inspector.store.samples import sample_image, sample_inspection, sample_work_order

SAMPLE = "sample_data/parts/BR-100/line/line_{:02d}.png"


def with_code(image: np.ndarray, text: str, fmt=zxingcpp.BarcodeFormat.DataMatrix, at=(20, 20),
              scale: int = 4) -> np.ndarray:
    """``image`` (RGB or BGR) with a code made by zxing-cpp pasted at ``at`` (x, y)."""
    code = np.array(zxingcpp.create_barcode(text, fmt).to_image(scale=scale))
    out = image.copy()
    x, y = at
    h, w = code.shape[:2]
    out[y : y + h, x : x + w] = code[..., None]
    return out


@pytest.mark.parametrize("fmt, text", [(zxingcpp.BarcodeFormat.DataMatrix, "SN-4711"),
                                       (zxingcpp.BarcodeFormat.QRCode, "LOT7/0042"),
                                       (zxingcpp.BarcodeFormat.Code128, "C128-99")])
def test_the_part_id_is_read_from_a_code_pasted_on_a_sample_part(fmt, text):
    part = cv2.cvtColor(cv2.imread(SAMPLE.format(1)), cv2.COLOR_BGR2RGB)
    assert read_code(part) is None  # the plain sample part carries no code
    assert read_code(with_code(part, text, fmt, at=(90, 330), scale=2)) == text


def test_inspections_take_the_code_in_the_frame_and_a_trigger_id_beats_it(tmp_path):
    part = cv2.cvtColor(part_image(), cv2.COLOR_RGB2BGR)
    parts = [with_code(part, f"DM-{k:03d}", at=(110, 110), scale=3) for k in range(3)]
    video = write_belt_video(tmp_path / "coded.avi", parts)
    with Inspector(Settings(data_dir=tmp_path / "data", device="cpu", explain="off"),
                   backend=ScratchBackend()) as facade:
        wo = facade.load_work_order(write_order(tmp_path))
        assert facade.run(VideoSource(str(video)), wo).inspected == 3
        assert [i.part_id for i in facade.query(newest_first=False)] == ["DM-000", "DM-001", "DM-002"]
        stored = []
        facade.events.subscribe(lambda e: stored.append(e.inspection), PartStored)
        thread, cancel, out = run_in_thread(facade, CameraSource(str(video)), wo, trigger_mode="software")
        facade.trigger("FROM-PLC-1", origin="test")
        assert wait_for(lambda: len(stored) == 1), out
        cancel.set()
        thread.join(30)
    assert stored[0].part_id == "FROM-PLC-1"  # the id the line was told wins over what it reads


def _store(url, tmp_path, name):
    return Store.open(url, tmp_path / f"images-{name}")


def test_generated_sequences_never_repeat_with_two_stations_on_one_database(db_url, tmp_path):  # noqa: F811
    stations = [_store(db_url, tmp_path, "a"), _store(db_url, tmp_path, "b")]
    got: list[int] = []
    lock = threading.Lock()

    def station(store) -> None:
        mine = [store.next_part_sequence("WO-9", "L1") for _ in range(25)]
        with lock:
            got.extend(mine)

    threads = [threading.Thread(target=station, args=(stations[i % 2],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(got) == list(range(1, 101))  # 100 numbers, none twice, none skipped
    assert stations[0].next_part_sequence("WO-9", "L2") == 1  # one counter per order and lot
    assert stations[1].next_part_sequence("WO-9", "L1") == 101
    for s in stations:
        s.close()


def test_an_existing_database_migrates_and_its_report_hashes_still_verify(tmp_path):
    from inspector.reports import lot_document_hash

    url = f"sqlite:///{tmp_path / 'old.db'}"
    rng = np.random.default_rng(7)
    store = Store.open(url, tmp_path / "images")
    wo = sample_work_order()
    store.save_work_order(wo, "alice")
    old = [sample_inspection(rng, store.images.put_array(sample_image(rng))) for _ in range(4)]
    store.save_inspections(old)
    printed = lot_document_hash(store, wo.order_id)  # the hash a report printed before the upgrade
    downgrade(store.engine, "0003")  # the database as the release before part identity left it
    assert current_revision(store.engine) == "0003"
    store.close()
    # records without a part id hash as they did before the field existed
    assert all('"part_id"' not in canonical_text(i, content_only=True) for i in old)

    store = Store.open(url, tmp_path / "images")  # the new release opens it: migrated to head
    try:
        assert current_revision(store.engine) == head_revision()
        back = store.query_inspections(order_id=wo.order_id)
        assert sorted(i.id for i in back) == sorted(i.id for i in old)
        assert {i.part_id for i in back} == {""}  # nothing invented for records judged per frame
        assert lot_document_hash(store, wo.order_id) == printed  # the printed report still verifies
        new = sample_inspection(rng, store.images.put_array(sample_image(rng)))
        new.part_id = "WO-1001-LOT-A-000001"
        store.save_inspection(new)
        assert store.get_inspection(new.id).part_id == "WO-1001-LOT-A-000001"
        assert lot_document_hash(store, wo.order_id) != printed  # a new part, with its id, is in the hash
    finally:
        store.close()


def test_the_review_queue_and_the_lookup_find_parts_by_id(tmp_path):
    from inspector.domain import Frame, utcnow

    with Inspector(Settings(data_dir=tmp_path / "data", device="cpu", explain="off", read_codes=False),
                   backend=ScratchBackend()) as facade:
        wo = facade.load_work_order(write_order(tmp_path))
        for pid in ("SN-100", "SN-101", "SN-2000", "", "AB_1%"):
            facade.inspect_frame(Frame(image=part_image(), source="t", name=f"f-{pid}.png", part_id=pid,
                                       captured_at=utcnow()), wo)
        assert [i.part_id for i in facade.query(part_id="SN-101")] == ["SN-101"]
        assert sorted(i.part_id for i in facade.query(part_id="SN-10")) == ["SN-100", "SN-101"]  # its beginning
        assert [i.part_id for i in facade.query(part_id="AB_")] == ["AB_1%"]  # LIKE characters taken literally
        assert facade.query(part_id="AB%") == []
        assert [i.part_id for i in facade.query(part_id="WO-7001")] == ["WO-7001-L-1-000001"]  # generated
        assert [i.part_id for i in facade.pull_for_review("sn-2000")] == ["SN-2000"]  # any case, exact first
        assert {i.part_id for i in facade.pull_for_review("SN-1")} == {"SN-100", "SN-101"}


def _pdf_text(path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)


def test_reports_certificates_and_exports_carry_the_part_id(tmp_path):
    from inspector.domain import Frame, utcnow
    from inspector.reports.export import read_export

    with Inspector(Settings(data_dir=tmp_path / "data", device="cpu", explain="off", read_codes=False),
                   backend=ScratchBackend()) as facade:
        wo = facade.load_work_order(write_order(tmp_path))
        flagged = facade.inspect_frame(Frame(image=part_image(), source="t", name="frame-000042",
                                             part_id="SN-7781", captured_at=utcnow()), wo).inspection
        facade.certificate(flagged.id, tmp_path / "cert.pdf")
        facade.report(wo.order_id, tmp_path / "lot.pdf")
        facade.export(tmp_path / "parts.csv", "csv", order_id=wo.order_id)
    cert = _pdf_text(tmp_path / "cert.pdf")
    assert "Inspection certificate — SN-7781" in cert and "Part id" in cert and "frame-000042" in cert
    assert "SN-7781 (frame-000042)" in _pdf_text(tmp_path / "lot.pdf")  # the flagged part's gallery entry
    rows = read_export(tmp_path / "parts.csv")["inspections"]
    assert list(rows["part_id"]) == ["SN-7781"]


def test_a_part_is_never_lost_for_want_of_an_id(tmp_path):
    """No sequence number from the database (its counter table is gone): a random unique id; an odd
    image (4 channels) reads no code instead of failing."""
    import re

    from sqlalchemy import text

    from inspector.domain import Frame, utcnow

    assert read_code(np.zeros((40, 40, 4), np.uint8)) is None and read_code(np.zeros((0, 0), np.uint8)) is None
    with Inspector(Settings(data_dir=tmp_path / "data", device="cpu", explain="off"),
                   backend=ScratchBackend()) as facade:
        wo = facade.load_work_order(write_order(tmp_path))
        with facade.store.engine.begin() as conn:
            conn.execute(text("DROP TABLE part_sequences"))
        insp = facade.inspect_frame(Frame(image=part_image(), source="t", name="p.png", captured_at=utcnow()),
                                    wo).inspection
        assert re.fullmatch(r"WO-7001-L-1-x[0-9a-f]{12}", insp.part_id)
        assert facade.get(insp.id).part_id == insp.part_id  # stored
