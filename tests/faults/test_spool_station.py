"""Storage faults mid-run never stop the line or lose a part (issue 12, points 1 and 6).

Each test runs the real line (``Inspector.run``, a fast fake model) and makes a real fault while
it runs: another connection holds SQLite's write lock past the busy timeout, the data folder
becomes a read-only mount, the data disk (a small tmpfs) fills up. Parts judged during the fault
go to the spool, the station keeps judging and says "storage degraded, N parts spooled", and when
the fault ends the spool drains in order, exactly once, with its audit events.
"""

from __future__ import annotations

import time
from contextlib import ExitStack

import pytest
from fault_support import (
    ScriptedSource,
    audit_actions,
    cli,
    fill,
    frame,
    free_disk,
    read_only,
    sqlite_locked,
    station,
    stored_order,
    tmpfs,
    wait_until,
)

from inspector.events import PartFailed, PartStored, StorageDegraded, StorageRecovered


def _listen(facade) -> list:
    heard: list = []
    facade.events.subscribe(heard.append, PartStored, PartFailed, StorageDegraded, StorageRecovered)
    return heard


def _wait_drained(facade, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while facade.spool_status()[0].pending and time.monotonic() < deadline:
        time.sleep(0.05)
    assert facade.spool_status()[0].pending == 0, facade.spool_status()


def _check_all_stored_once(facade, n: int, summary, heard) -> None:
    names = [f"part{i:03d}.png" for i in range(n)]
    assert summary.inspected == n and not summary.aborted, summary
    assert stored_order(facade) == names  # every part once, committed in the order it was judged
    spooled = [e.result.inspection.id for e in heard if isinstance(e, PartStored) and e.result.spooled]
    assert summary.spooled == len(spooled) > 0
    assert audit_actions(facade, "inspection.spooled") == spooled  # once each, in order
    assert facade.verify_audit().ok


def test_sqlite_locked_past_the_busy_timeout_mid_run(tmp_path):
    facade, wo = station(tmp_path / "data", tmp_path, explain="sync")
    heard = _listen(facade)
    lock = ExitStack()
    db = tmp_path / "data" / "inspector.db"
    source = ScriptedSource(12, {3: lambda: lock.enter_context(sqlite_locked(db)), 8: lock.close},
                            flagged={1, 4, 9})
    summary = facade.run(source, wo)
    _wait_drained(facade)
    _check_all_stored_once(facade, 12, summary, heard)
    assert not summary.errors
    degraded = [e for e in heard if isinstance(e, StorageDegraded)]
    assert degraded[0].text.startswith("storage degraded, 1 part spooled: SQLite: database is locked")
    assert [e.spooled for e in degraded][:5] == [1, 2, 2, 3, 4]  # part 4's explanation is no part
    assert wait_until(lambda: any(isinstance(e, StorageRecovered) for e in heard))  # published after the drain
    for insp in facade.query(limit=None):  # the flagged parts' explanations came through the spool too
        assert (insp.explanation is not None) == (insp.frame_name in ("part001.png", "part004.png", "part009.png"))
    facade.close()


def test_read_only_data_folder_mid_run_spools_to_another_volume(tmp_path):
    data = tmp_path / "data"
    facade, wo = station(data, tmp_path, spool_dir=tmp_path / "spool-volume")
    heard = _listen(facade)
    mounts = ExitStack()
    source = ScriptedSource(9, {2: lambda: mounts.enter_context(read_only(data)), 6: mounts.close})
    try:
        summary = facade.run(source, wo)
    finally:
        mounts.close()
    _wait_drained(facade)
    _check_all_stored_once(facade, 9, summary, heard)
    degraded = [e for e in heard if isinstance(e, StorageDegraded)]
    assert "Read-only file system" in degraded[0].reason
    facade.close()


def test_disk_full_mid_run_spools_into_the_reserve_and_list_and_verify_still_work(tmp_path):
    with tmpfs(tmp_path / "disk", "12m") as disk:
        data = disk / "data"
        facade, wo = station(data, tmp_path, spool_reserve_bytes=2 * 1024 * 1024, spool_min_free_bytes=0)
        heard = _listen(facade)
        seen: dict = {}

        def full() -> None:
            fill(disk)

        def read_while_full() -> None:  # another process, while the disk is still full
            seen["list"] = cli("--data-dir", str(data), "list", "--limit", "100")
            seen["verify"] = cli("--data-dir", str(data), "audit", "verify")
            seen["status"] = cli("--data-dir", str(data), "spool", "status")

        # a runaway writer keeps the disk full from part 2 to part 6 (the spool's slack is taken too)
        source = ScriptedSource(10, {2: full, 3: full, 4: full, 5: read_while_full, 7: lambda: free_disk(disk)})
        summary = facade.run(source, wo)
        _wait_drained(facade)
        _check_all_stored_once(facade, 10, summary, heard)
        assert [e for e in heard if isinstance(e, StorageDegraded)][0].reason.startswith("No space left on device")
        assert seen["list"].returncode == 0, seen["list"].stderr
        assert len(seen["list"].stdout.splitlines()) >= 3  # the heading and the parts stored before the disk filled
        assert seen["verify"].returncode == 0, seen["verify"].stdout + seen["verify"].stderr
        assert seen["status"].returncode == 0 and "waiting: " in seen["status"].stdout, seen["status"].stderr
        facade.close()


def test_list_and_audit_verify_on_a_full_disk_with_no_station_running(tmp_path):
    """Cold: nothing holds the database open, so SQLite cannot even create its index file; the
    store opens the file read-only instead."""
    with tmpfs(tmp_path / "disk", "12m") as disk:
        data = disk / "data"
        facade, wo = station(data, tmp_path)
        ids = [facade.inspect_frame(frame(i), wo).inspection.id for i in range(3)]
        facade.close()
        fill(disk)
        listed = cli("--data-dir", str(data), "list")
        verified = cli("--data-dir", str(data), "audit", "verify")
        shown = cli("--data-dir", str(data), "show", ids[1][:12])
        free_disk(disk)
    assert listed.returncode == 0, listed.stderr
    assert all(i[:10] in listed.stdout for i in ids)
    assert "read-only" in listed.stderr  # said, not hidden
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert shown.returncode == 0 and ids[1] in shown.stdout


def test_a_full_spool_is_reported_per_part_and_the_line_goes_on(tmp_path):
    facade, wo = station(tmp_path / "data", tmp_path, spool_max_parts=2)
    heard = _listen(facade)
    lock = ExitStack()
    db = tmp_path / "data" / "inspector.db"
    source = ScriptedSource(5, {1: lambda: lock.enter_context(sqlite_locked(db))})
    try:
        summary = facade.run(source, wo)
    finally:
        lock.close()
    failed = [e.message for e in heard if isinstance(e, PartFailed)]
    assert summary.spooled == 2 and summary.inspected == 3 and len(failed) == 2 and not summary.aborted
    assert "not spooled: spool full: 2 records pending (setting spool_max_parts 2)" in failed[0]
    _wait_drained(facade)
    assert stored_order(facade) == ["part000.png", "part001.png", "part002.png"]
    facade.close()


def test_what_a_run_left_in_the_spool_drains_at_the_next_start(tmp_path):
    data = tmp_path / "data"
    first, wo = station(data, tmp_path)
    with sqlite_locked(data / "inspector.db"):
        results = [first.inspect_frame(frame(i), wo) for i in range(3)]
        assert all(r.spooled for r in results)
        first.close()  # storage still locked: the records stay
    second, wo = station(data, tmp_path)
    heard = _listen(second)
    assert second.resume_spool() == 3
    _wait_drained(second)
    assert stored_order(second) == ["part000.png", "part001.png", "part002.png"]
    assert audit_actions(second, "inspection.spooled") == [r.inspection.id for r in results]
    assert wait_until(lambda: [e.drained for e in heard if isinstance(e, StorageRecovered)] == [3])
    second.close()


def test_spool_status_and_drain_commands(tmp_path, capsys):
    from inspector.cli import main

    data = tmp_path / "data"
    facade, wo = station(data, tmp_path)
    with sqlite_locked(data / "inspector.db"):
        for i in range(2):
            facade.inspect_frame(frame(i), wo)
        facade.close()
        assert main(["--data-dir", str(data), "spool", "status"]) == 0
        out = capsys.readouterr().out
        assert "waiting: 2 parts, 0 explanations" in out and "database is locked" in out
        assert main(["--data-dir", str(data), "spool", "drain"]) == 3  # says why at once (no busy-timeout wait)
        out = capsys.readouterr().out
        assert "2 left in the spool; stopped: SQLite" in out and "database is locked" in out
    assert main(["--data-dir", str(data), "spool", "drain"]) == 0
    assert "stored 2 spooled parts" in capsys.readouterr().out
    assert main(["--data-dir", str(data), "spool", "status", "--json"]) == 0
    assert '"parts": 0' in capsys.readouterr().out


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_explanations_of_spooled_parts_follow_them(tmp_path, mode):
    facade, wo = station(tmp_path / "data", tmp_path, explain=mode)
    with sqlite_locked(tmp_path / "data" / "inspector.db"):
        flagged = facade.inspect_frame(frame(0, scratch=True), wo)
        facade.wait_explanations(30)
    _wait_drained(facade)
    assert flagged.spooled and facade.get(flagged.inspection.id).explanation.text == "fake"
    facade.close()


def test_a_command_against_an_unreachable_database_says_so_without_a_traceback(tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = cli("--data-dir", str(tmp_path / "data"), "--db", f"postgresql://postgres@127.0.0.1:{port}/x", "list")
    assert done.returncode == 3 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: database: connection failed"), done.stderr
