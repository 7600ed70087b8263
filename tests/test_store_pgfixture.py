"""The PostgreSQL test harness itself: skip locally without binaries, fail under CI."""

from __future__ import annotations

import pg
import pytest
from pg import postgres_server  # noqa: F401 - fixture


def test_missing_binaries_skip_locally(monkeypatch, tmp_path):
    monkeypatch.setenv("PG_BIN", str(tmp_path))  # a folder without initdb
    monkeypatch.delenv("CI", raising=False)
    reason = pg.unavailable_reason()
    assert reason is not None and "apt-get install -y postgresql" in reason
    with pytest.raises(pytest.skip.Exception, match="not found"):
        pg.skip_or_fail(reason)


def test_missing_binaries_fail_under_ci(monkeypatch, tmp_path):
    monkeypatch.setenv("PG_BIN", str(tmp_path))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        pg.skip_or_fail(pg.unavailable_reason())


def test_binaries_are_found_when_installed(monkeypatch):
    monkeypatch.delenv("PG_BIN", raising=False)
    found = pg.find_bin_dir()
    if found is None:
        pg.skip_or_fail("PostgreSQL binaries not installed (apt-get install -y postgresql)")
    assert (found / "initdb").is_file() and (found / "pg_ctl").is_file()


@pytest.mark.postgres
def test_server_runs_on_loopback_only(postgres_server):  # noqa: F811
    import psycopg

    assert postgres_server.url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    with psycopg.connect(f"host=127.0.0.1 port={postgres_server.port} user=postgres dbname=inspector") as c:
        assert c.execute("SHOW listen_addresses").fetchone()[0] == "127.0.0.1"
        assert c.execute("SELECT current_database()").fetchone()[0] == "inspector"
