"""PostgreSQL stopped and restarted mid-run: the line spools, keeps judging, and drains exactly once
when the server is back (issue 12, points 1 and 6).

The test starts a PostgreSQL server of its own (``tests/pg.py``: initdb, 127.0.0.1, a free port)
so it can stop and start it without disturbing the session's shared server.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fault_support import ScriptedSource, audit_actions, station, stored_order, wait_until
from pg import PostgresServer, find_bin_dir, skip_or_fail, unavailable_reason

from inspector.events import PartStored, StorageDegraded, StorageRecovered

pytestmark = pytest.mark.postgres


class RestartableServer(PostgresServer):
    """The test server, stopped and started again on the same port and data folder. Durable
    (fsync and synchronous commit on, unlike the shared test server): an ``immediate`` stop is a
    crash, and a commit the server acknowledged must survive it."""

    def start(self) -> None:
        super().start()
        self.halt("fast")
        self.resume()

    def options(self) -> str:
        return f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=on -c synchronous_commit=on -c max_connections=60"

    def halt(self, mode: str = "immediate") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def resume(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", self.options(), "-w", "-t", "60",
                  "start")


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[RestartableServer]:
    reason = unavailable_reason()
    if reason:
        skip_or_fail(reason)
    server = RestartableServer(find_bin_dir())
    try:
        server.start()
    except Exception as exc:  # noqa: BLE001 - reported as a skip (a failure under CI)
        server.stop()
        skip_or_fail(f"PostgreSQL could not be started: {exc}")
    yield server
    server.stop()


def _wait_drained(facade, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while facade.spool_status()[0].pending and time.monotonic() < deadline:
        time.sleep(0.05)
    assert facade.spool_status()[0].pending == 0, facade.spool_status()


@pytest.mark.parametrize("mode", ["immediate", "fast"])
def test_postgres_stopped_and_restarted_mid_run(tmp_path, own_postgres, mode):
    url = own_postgres.create_database()
    facade, wo = station(tmp_path / "data", tmp_path, database_url=url, explain="sync")
    heard: list = []
    facade.events.subscribe(heard.append, PartStored, StorageDegraded, StorageRecovered)
    source = ScriptedSource(12, {3: lambda: own_postgres.halt(mode), 7: own_postgres.resume}, flagged={4, 10})
    summary = facade.run(source, wo)
    _wait_drained(facade)
    names = [f"part{i:03d}.png" for i in range(12)]
    assert summary.inspected == 12 and not summary.errors and not summary.aborted
    assert stored_order(facade) == names  # each part once, in the order it was judged
    spooled = [e.result.inspection.id for e in heard if isinstance(e, PartStored) and e.result.spooled]
    assert summary.spooled == len(spooled) >= 4  # parts 3-6 at least (the server was down)
    assert audit_actions(facade, "inspection.spooled") == spooled
    degraded = [e for e in heard if isinstance(e, StorageDegraded)]
    assert degraded and degraded[0].text.startswith("storage degraded, 1 part spooled: ")
    assert wait_until(lambda: any(isinstance(e, StorageRecovered) for e in heard))
    part4 = next(i for i in facade.query(limit=None) if i.frame_name == "part004.png")
    assert part4.explanation is not None  # explained while the server was down: spooled behind its part
    assert facade.verify_audit().ok
    facade.close()
    own_postgres.drop_database(url)
