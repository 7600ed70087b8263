"""A real station to tamper with (tests/badinput/test_tamper*.py), and the attacker's tools.

``build_station``: accounts (admin, reviewer, operator), the sample work order, BR-100 taught with
the real embedded model on CPU from the 12 sample good images, three sample line parts inspected
(OK and NG), and one signed rejection. The tests restore a pristine copy before each case and
change the copy as someone with the station's files would: SQL through the ``sqlite3`` module
with the append-only triggers dropped (and put back, so only the data tells), files edited in
place. ``verify`` runs ``inspector audit verify --json`` in-process.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from inspector.cli import main
from inspector.pipeline import Inspector
from inspector.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_data"
ORDER = SAMPLES / "workorders" / "WO-1001_bracket.txt"
GOOD = sorted((SAMPLES / "parts" / "BR-100" / "good").glob("*.png"))
LINE = [SAMPLES / "parts" / "BR-100" / "line" / f"line_0{i}.png" for i in (1, 2, 3, 4)]
PASSWORDS = {"root": "root-password-1", "ann": "ann-password-1", "olaf": "olaf-password-1"}

# the triggers an attacker drops before changing a table (and puts back afterwards)
GUARDED = ("inspections", "findings", "explanations", "reviews", "review_signatures", "audit_events",
           "users", "retention_items", "work_orders", "teach_references")


@dataclass
class Station:
    root: Path
    data: Path
    config: Path
    pristine: Path
    ok_id: str
    ok2_id: str
    ng_id: str
    ng_image: str

    @property
    def db(self) -> Path:
        return self.data / "inspector.db"

    def settings(self) -> Settings:
        return Settings.load(config_file=self.config)

    def restore(self) -> None:
        shutil.rmtree(self.data, ignore_errors=True)
        shutil.copytree(self.pristine, self.data)
        shutil.copyfile(self.pristine / "settings.yaml", self.config)


def build_station(root: Path) -> Station:
    data = root / "station"
    config = root / "settings.yaml"
    config.write_text(f"data_dir: '{data}'\ndevice: cpu\nexplain: 'off'\nstation: st-1\n")
    with Inspector(Settings.load(config_file=config)) as f:
        f.create_user("root", "Rita Admin", "admin", PASSWORDS["root"])
        f.sign_in("root", PASSWORDS["root"])
        f.create_user("ann", "Ann Smith", "reviewer", PASSWORDS["ann"])
        f.create_user("olaf", "Olaf Op", "operator", PASSWORDS["olaf"])
        wo = f.load_work_order(ORDER)
        f.teach(wo.part_number, GOOD)
        summary = f.run([str(p) for p in LINE], wo)
        assert summary.inspected == len(LINE), summary
        stored = f.store.query_inspections(newest_first=False)
        ng = [i for i in stored if i.verdict.kind.value == "NG" and i.findings]
        ok = [i for i in stored if i.verdict.kind.value == "OK"]
        assert ng and len(ok) >= 2, [(i.frame_name, i.verdict.kind) for i in stored]
        f.review(ng[0].id, "reject", "OVER-LIMIT", "scrap", username="ann", password=PASSWORDS["ann"])
    pristine = root / "pristine"
    shutil.copytree(data, pristine)
    shutil.copyfile(config, pristine / "settings.yaml")
    return Station(root, data, config, pristine, ok[0].id, ok[1].id, ng[0].id, ng[0].image_sha256)


def sql(db: Path, *statements: str, params: tuple = (), guards: tuple[str, ...] = GUARDED,
        restore_guards: bool = True) -> None:
    """Run SQL on the SQLite file as an attacker: triggers of ``guards`` dropped, then put back."""
    conn = sqlite3.connect(db)
    try:
        marks = " OR ".join(f"tbl_name = '{t}'" for t in guards) or "0"
        saved = conn.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND ({marks})").fetchall()
        for name, _ in saved:
            conn.execute(f"DROP TRIGGER {name}")
        for stmt in statements:
            conn.execute(stmt, params)
        if restore_guards:
            for _, text in saved:
                conn.execute(text)
        conn.commit()
    finally:
        conn.close()


def query(db: Path, stmt: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(stmt, params).fetchall()
    finally:
        conn.close()


def verify(station: Station, *args: str) -> tuple[int, dict]:
    """``inspector --config ... audit verify --json [args]``: (exit code, the JSON it printed)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = main(["--config", str(station.config), "audit", "verify", "--json", *args])
    return rc, json.loads(out.getvalue())


def found(report: dict, phrase: str, where: str = "problems") -> bool:
    return any(phrase in p for p in report[where])
