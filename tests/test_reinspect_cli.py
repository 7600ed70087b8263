"""`inspector reinspect` from the command line: the dry-run table, --apply --json, exit codes."""

from __future__ import annotations

import json

from reinspect_support import *  # noqa: F403 - fixtures
from reinspect_support import TIGHTENED, N

from inspector.cli import main


def _cli(settings, *args: str) -> list[str]:
    return ["--data-dir", str(settings.data_dir), "--device", "cpu", "reinspect", "--order", "WO-1001", *args]


def test_dry_run_prints_the_table_then_apply_writes_once(lot_settings, tight_order, capsys):
    assert main(_cli(lot_settings, "--workorder", str(tight_order))) == 0
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if ln.startswith(TIGHTENED)]
    assert len(lines) == 2 and all(" OK " in ln and " NG " in ln and "changed" in ln for ln in lines)
    assert "2 change (OK->NG 2)" in out and "dry run: nothing written" in out

    assert main(_cli(lot_settings, "--workorder", str(tight_order), "--apply", "--json")) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["applied"]["written"] == N and doc["applied"]["work_order_version"] == 2
    assert doc["summary"]["changes"] == {"OK->NG": 2}
    assert all(r["new_inspection"] for r in doc["rows"])

    assert main(_cli(lot_settings, "--workorder", "2", "--apply")) == 0  # again: nothing to write
    out = capsys.readouterr().out
    assert f"{N} already current" in out and "applied: 0 new records" in out


def test_bad_requests_exit_2_with_a_message(lot_settings, capsys):
    assert main(_cli(lot_settings, "--workorder", "9")) == 2
    assert "has no version 9" in capsys.readouterr().err
    assert main(_cli(lot_settings, "--scheduler", "tcp://127.0.0.1:1")) == 2
    assert "--scheduler needs --engine dask" in capsys.readouterr().err
