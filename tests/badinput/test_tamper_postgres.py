"""The tamper list on PostgreSQL (issue 12, point 4): the append-only triggers and what someone with
DDL rights does behind them (``ALTER TABLE ... DISABLE TRIGGER``, ``DROP TRIGGER``), on a real server
started by the test suite. The station is real (facade, accounts, store, signed review); its model is
the tests' scratch detector, as the model plays no part in what is checked here.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import sqlalchemy as sa
from pg import postgres_head_url, postgres_server  # noqa: F401 - fixtures
from tamper_support import ORDER, found, verify
from zone_support import ScratchBackend

from inspector.pipeline import Inspector
from inspector.settings import Settings

pytestmark = pytest.mark.postgres
PW = {"root": "root-password-1", "ann": "ann-password-1", "olaf": "olaf-password-1"}


class _PgStation:
    def __init__(self, tmp_path, url: str) -> None:
        self.url = url
        self.config = tmp_path / "settings.yaml"
        self.config.write_text(f"data_dir: '{tmp_path / 'data'}'\ndatabase_url: '{url}'\nexplain: 'off'\n"
                               "station: pg-1\n")
        images = []
        for i in range(3):
            img = np.full((120, 160, 3), 200, np.uint8)
            if i == 1:
                img[50:58, 30:120] = 10  # a long dark scratch: NG
            images.append(str(tmp_path / f"part{i}.png"))
            cv2.imwrite(images[-1], img)
        with Inspector(Settings.load(config_file=self.config), backend=ScratchBackend()) as f:
            f.create_user("root", "Rita Admin", "admin", PW["root"])
            f.sign_in("root", PW["root"])
            f.create_user("ann", "Ann Smith", "reviewer", PW["ann"])
            f.create_user("olaf", "Olaf Op", "operator", PW["olaf"])
            wo = f.load_work_order(ORDER)
            f.run(images, wo)
            stored = f.store.query_inspections(newest_first=False)
            self.ng = next(i.id for i in stored if i.verdict.kind.value == "NG")
            self.ok = next(i.id for i in stored if i.verdict.kind.value == "OK")
            f.review(self.ng, "reject", "OVER-LIMIT", "scrap", username="ann", password=PW["ann"])

    def ddl(self, *statements: str) -> None:
        engine = sa.create_engine(self.url)
        try:
            with engine.begin() as conn:
                for stmt in statements:
                    conn.exec_driver_sql(stmt)
        finally:
            engine.dispose()


@pytest.fixture
def pg_station(tmp_path, postgres_head_url, monkeypatch):  # noqa: F811
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("INSPECTOR_CONFIG", raising=False)
    return _PgStation(tmp_path, postgres_head_url)


def test_the_untouched_postgres_station_verifies_clean(pg_station):
    rc, report = verify(pg_station)
    assert rc == 0 and report["problems"] == [] and report["warnings"] == [], report


def test_update_with_triggers_disabled_then_enabled_is_found(pg_station):
    s = pg_station
    s.ddl("ALTER TABLE inspections DISABLE TRIGGER USER", f"UPDATE inspections SET verdict = 'OK' WHERE id = '{s.ng}'",
          "ALTER TABLE inspections ENABLE TRIGGER USER")
    rc, report = verify(s)
    assert rc == 1 and found(report, "verdict 'NG' -> 'OK'"), report["problems"]
    assert not found(report, "append-only guard")  # the guards are back: only the seal tells


def test_a_disabled_trigger_is_found(pg_station):
    pg_station.ddl("ALTER TABLE audit_events DISABLE TRIGGER trg_audit_events_no_update")
    rc, report = verify(pg_station)
    assert rc == 1 and found(report, "trg_audit_events_no_update is missing or disabled"), report["problems"]


def test_a_dropped_truncate_guard_is_found(pg_station):
    pg_station.ddl("DROP TRIGGER trg_inspections_no_truncate ON inspections")
    rc, report = verify(pg_station)
    assert rc == 1 and found(report, "trg_inspections_no_truncate is missing"), report["problems"]


def test_a_record_deleted_behind_disabled_triggers_is_found(pg_station):
    s = pg_station
    s.ddl("ALTER TABLE inspections DISABLE TRIGGER USER", f"DELETE FROM inspections WHERE id = '{s.ok}'",
          "ALTER TABLE inspections ENABLE TRIGGER USER")
    rc, report = verify(s)
    assert rc == 1 and found(report, f"inspection {s.ok} (recorded in event"), report["problems"]


def test_role_escalation_and_an_edited_event_are_found(pg_station):
    s = pg_station
    s.ddl("UPDATE users SET role = 'admin' WHERE username = 'olaf'",
          "ALTER TABLE audit_events DISABLE TRIGGER USER",
          "UPDATE audit_events SET actor = 'root' WHERE action = 'review.decided'",
          "ALTER TABLE audit_events ENABLE TRIGGER USER")
    rc, report = verify(s)
    assert rc == 1 and found(report, "the role of user 'olaf'") and found(report, "was altered: its content"), \
        report["problems"]
