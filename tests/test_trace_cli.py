"""The trace command groups end to end: users, review, audit, retention (exit codes included)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from trace_support import add_inspection

from inspector.cli import main
from inspector.domain import VerdictKind
from inspector.store import Store

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def station(tmp_path, monkeypatch):
    """An isolated station (own data folder, no user settings file) and a CLI runner."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for k in ("INSPECTOR_PASSWORD", "INSPECTOR_NEW_PASSWORD", "INSPECTOR_CONFIG", "INSPECTOR_OPERATOR"):
        monkeypatch.delenv(k, raising=False)
    data = tmp_path / "data"

    def cli(*argv: str, password: str | None = None, new_password: str | None = None) -> int:
        for key, value in (("INSPECTOR_PASSWORD", password), ("INSPECTOR_NEW_PASSWORD", new_password)):
            if value is None:
                monkeypatch.delenv(key, raising=False)
            else:
                monkeypatch.setenv(key, value)
        return main(["--data-dir", str(data), *argv])

    cli.data = data
    cli.db = data / "inspector.db"
    return cli


def _users(cli) -> None:
    assert cli("users", "add", "root", "--full-name", "Rita Admin", "--role", "admin",
               new_password="root-password-1") == 0
    assert cli("users", "add", "ann", "--full-name", "Ann Smith", "--role", "reviewer", "--user", "root",
               password="root-password-1", new_password="ann-password-1") == 0
    assert cli("users", "add", "olaf", "--full-name", "Olaf Op", "--role", "operator", "--user", "root",
               password="root-password-1", new_password="olaf-password-1") == 0


def _flagged_part(cli, verdict=VerdictKind.NG, inspected_at=None):
    with Store.open(f"sqlite:///{cli.db}", cli.data / "images") as store:
        return add_inspection(store, np.random.default_rng(), verdict, inspected_at)


def test_bootstrap_then_admin_only_user_management(station, capsys):
    cli = station
    assert cli("users", "add", "olaf", "--full-name", "Olaf", "--role", "operator", new_password="olaf-pw-123") == 2
    assert "first one must be an admin" in capsys.readouterr().err
    _users(cli)
    assert cli("users", "add", "eve", "--full-name", "Eve", "--role", "admin", "--user", "olaf",
               password="olaf-password-1", new_password="eve-password-1") == 2
    assert "operator 'olaf' may not manage users: needs role admin" in capsys.readouterr().err
    assert cli("users", "add", "eve", "--full-name", "Eve", "--role", "admin", "--user", "root",
               password="wrong-password", new_password="eve-password-1") == 2
    assert "wrong user name or password" in capsys.readouterr().err
    assert cli("users", "list", "--json") == 0
    listed = {u["username"]: u for u in json.loads(capsys.readouterr().out)}
    assert set(listed) == {"root", "ann", "olaf"} and listed["ann"]["role"] == "reviewer"
    assert listed["root"]["failed_attempts"] == 1  # the wrong password above
    assert cli("users", "set-role", "olaf", "reviewer", "--user", "root", password="root-password-1") == 0
    assert cli("users", "deactivate", "olaf", "--user", "root", password="root-password-1") == 0
    assert cli("users", "passwd", "ann", password="ann-password-1", new_password="ann-password-2") == 0
    capsys.readouterr()
    assert cli("audit", "log", "--entity", "user", "--id", "olaf") == 0
    out = capsys.readouterr().out
    assert "user.created" in out and "user.role_changed" in out and "user.deactivated" in out


def test_operator_overturn_is_refused_with_exit_code_and_reviewer_signs(station, capsys):
    cli = station
    _users(cli)
    part = _flagged_part(cli)
    rc = cli("review", "decide", part.id[:10], "--decision", "accept", "--reason", "FALSE-ALARM",
             "--user", "olaf", password="olaf-password-1")
    assert rc == 2
    assert "operator 'olaf' may not overturn verdicts: needs role reviewer or admin" in capsys.readouterr().err
    assert cli("review", "list", "--unreviewed", "--json") == 0
    assert [p["id"] for p in json.loads(capsys.readouterr().out)] == [part.id]
    rc = cli("review", "decide", part.id, "--decision", "reject", "--reason", "OVER-LIMIT", "--comment",
             "scratch 0.8 mm in zone A", "--user", "ann", password="wrong-password")
    assert rc == 2 and "wrong user name or password" in capsys.readouterr().err
    rc = cli("review", "decide", part.id, "--decision", "reject", "--reason", "OVER-LIMIT", "--comment",
             "scratch 0.8 mm in zone A", "--user", "ann", "--json", password="ann-password-1")
    assert rc == 0
    signed = json.loads(capsys.readouterr().out)
    assert signed["meaning"] == "Rejected by Ann Smith (reviewer): scrap per reason OVER-LIMIT"
    assert cli("review", "list", "--unreviewed", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []
    assert cli("review", "show", part.id) == 0
    assert "[signature valid]" in capsys.readouterr().out
    assert cli("audit", "verify") == 0
    assert "audit trail OK" in capsys.readouterr().out


def test_audit_verify_exits_nonzero_on_tamper(station, capsys):
    cli = station
    _users(cli)
    capsys.readouterr()
    assert cli("audit", "head") == 0
    head = capsys.readouterr().out.strip()
    conn = sqlite3.connect(cli.db)  # an attacker with file access: drop the guard, edit, leave
    conn.execute("DROP TRIGGER trg_audit_events_no_update")
    conn.execute("UPDATE audit_events SET after = replace(after, 'reviewer', 'admin') WHERE seq = 2")
    conn.commit()
    conn.close()
    assert cli("audit", "verify", "--expect-head", head) == 1
    out = capsys.readouterr().out
    assert "TAMPERED at #2" in out and "altered" in out and "trg_audit_events_no_update" in out
    assert cli("audit", "verify", "--json") == 1
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] is False and result["first_bad_seq"] == 2


def test_retention_cli_dry_run_then_apply_keeps_verify_ok(station, capsys, tmp_path):
    cli = station
    _users(cli)
    old = datetime.now(UTC) - timedelta(days=200)
    parts = [_flagged_part(cli, VerdictKind.OK, old) for _ in range(3)]
    young = _flagged_part(cli, VerdictKind.OK, datetime.now(UTC) - timedelta(days=1))
    images = cli.data / "images"
    n_files = len(list(images.glob("??/??/*.png")))
    assert cli("retention", "apply", "--images-days", "90", "--dry-run", "--user", "ann",
               password="ann-password-1") == 2
    assert "needs role admin" in capsys.readouterr().err
    assert cli("retention", "apply", "--images-days", "90", "--dry-run", "--json", "--user", "root",
               password="root-password-1") == 0
    dry = json.loads(capsys.readouterr().out)
    assert dry["dry_run"] and dry["images_removed"] == 3 and dry["bytes_freed"] > 0 and dry["audit_seq"] is None
    assert len(list(images.glob("??/??/*.png"))) == n_files
    archive = tmp_path / "archive.jsonl"
    assert cli("retention", "apply", "--images-days", "90", "--records-days", "180", "--archive", str(archive),
               "--user", "root", password="root-password-1") == 0
    out = capsys.readouterr().out
    assert "removed 3 (" in out and "removed 3 inspections" in out and "retention.applied" in out
    assert len(archive.read_text().splitlines()) == 3
    assert len(list(images.glob("??/??/*.png"))) == n_files - 3
    with Store.open(f"sqlite:///{cli.db}", images) as store:
        assert store.get_inspection(young.id)
        assert store.count_inspections() == 1
    assert cli("audit", "verify") == 0
    assert parts


def test_real_process_exit_code_for_a_refused_overturn(station, tmp_path):
    cli = station
    _users(cli)
    part = _flagged_part(cli)
    env = {**os.environ, "PYTHONPATH": str(REPO), "INSPECTOR_PASSWORD": "olaf-password-1",
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    proc = subprocess.run([sys.executable, "-m", "inspector", "--data-dir", str(cli.data), "review", "decide",
                           part.id, "--decision", "accept", "--reason", "FALSE-ALARM", "--user", "olaf"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert "may not overturn verdicts" in proc.stderr
