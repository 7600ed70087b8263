"""A throwaway PostgreSQL server for tests (Debian ``postgresql`` binaries, loopback only).

Import the fixture into a test module: ``from pg import postgres_url  # noqa: F401``.
One server per test session (started on first use, stopped at exit): ``initdb`` into a
temporary folder, ``postgres`` on 127.0.0.1 at a free port with its unix socket in that
folder, fsync off (test data only). As root, the server runs as the ``postgres`` user
(PostgreSQL refuses root). Without binaries the tests skip, unless ``CI`` is set: then
they fail, so a CI machine that lost its PostgreSQL cannot pass silently.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

INSTALL_HINT = "install the Debian package: apt-get install -y postgresql"
ROOT_PREFIX = "inspector-pg-"


def _version_key(path: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in Path(path).parent.name.split("."))
    except ValueError:
        return (0,)


def find_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/<ver>/bin holding initdb, pg_ctl and postgres (or $PG_BIN)."""
    if os.environ.get("PG_BIN"):  # an explicit choice: no fallback, so it can also say "none here"
        candidates = [os.environ["PG_BIN"]]
    else:
        candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    for c in candidates:
        if all((Path(c) / exe).is_file() for exe in ("initdb", "pg_ctl", "postgres")):
            return Path(c)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """initdb + pg_ctl start/stop of a private cluster in a temporary folder."""

    def __init__(self, bin_dir: Path, root: Path | None = None) -> None:
        self.bin_dir = bin_dir
        adopted = root is not None
        self.root = root if root is not None else Path(tempfile.mkdtemp(prefix=ROOT_PREFIX))
        if not adopted:
            (self.root / "owner.pid").write_text(str(os.getpid()))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 0
        self.url = ""
        self._template = ""
        self.run_as: str | None = None
        if os.geteuid() == 0:
            self.run_as = "postgres"
            _ensure_user(self.run_as)
            if not adopted:
                pw = pwd.getpwnam(self.run_as)
                os.chown(self.root, pw.pw_uid, pw.pw_gid)
                os.chmod(self.root, 0o700)

    def _cmd(self, exe: str, *args: str) -> list[str]:
        cmd = [str(self.bin_dir / exe), *args]
        if self.run_as:
            runuser = shutil.which("runuser")
            if runuser:
                return [runuser, "-u", self.run_as, "--", *cmd]
            return ["su", self.run_as, "-s", "/bin/sh", "-c", " ".join(cmd)]
        return cmd

    def _run(self, exe: str, *args: str, timeout: float = 120) -> None:
        proc = subprocess.run(
            self._cmd(exe, *args), capture_output=True, text=True, timeout=timeout, cwd=self.root
        )
        if proc.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{exe} {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}{log}"
            )

    def start(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        last: Exception | None = None
        for _ in range(3):  # a free port can be taken between probe and bind
            self.port = _free_port()
            opts = (
                f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c synchronous_commit=off "
                "-c full_page_writes=off -c max_connections=60"
            )
            try:
                self._run(
                    "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", opts, "-w", "-t", "60", "start"
                )
                self.url = self.create_database("inspector")
                return
            except RuntimeError as exc:
                last = exc
        raise RuntimeError(f"PostgreSQL did not start: {last}")

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(sql)

    def create_database(self, name: str | None = None, template: str | None = None) -> str:
        """A new database (random name unless given), empty or a copy of ``template``;
        returns its SQLAlchemy URL. FILE_COPY: much faster than WAL_LOG for small databases."""
        name = name or "t_" + uuid.uuid4().hex[:12]
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{template or "template0"}" STRATEGY FILE_COPY')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def drop_database(self, url: str) -> None:
        """Drop a database made by ``create_database`` (closing any connection left to it)."""
        self._admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')

    def migrated_template(self) -> str:
        """Name of a database at the schema head, made once, to copy for tests that need data."""
        if not self._template:
            from inspector.store.db import make_engine
            from inspector.store.migrate import upgrade

            url = self.create_database("inspector_head")
            engine = make_engine(url)
            try:
                upgrade(engine)
            finally:
                engine.dispose()
            self._template = "inspector_head"
        return self._template

    def stop(self, mode: str = "fast") -> None:
        if self.data.exists():
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
        shutil.rmtree(self.root, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_orphans(bin_dir: Path) -> int:
    """Stop and delete servers left by test runs that were killed (their owner pid is gone)."""
    reaped = 0
    for root in Path(tempfile.gettempdir()).glob(f"{ROOT_PREFIX}*"):
        try:
            owner = int((root / "owner.pid").read_text().strip())
        except (OSError, ValueError):
            continue
        if _pid_alive(owner):
            continue
        PostgresServer(bin_dir, root=root).stop(mode="immediate")
        reaped += 1
    return reaped


def _ensure_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/bin/sh", name], check=True)


_lock = threading.Lock()
_server: PostgresServer | None = None
_failure: str | None = None


def in_ci() -> bool:
    """True when the ``CI`` environment variable says so (CI=true/1/yes)."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def skip_or_fail(reason: str) -> None:
    """Skip the test with ``reason``; under CI fail it instead (a lost server must show)."""
    if in_ci():
        pytest.fail(f"CI is set, so PostgreSQL tests may not skip: {reason}", pytrace=False)
    pytest.skip(reason)


def unavailable_reason() -> str | None:
    """Why no test server can be started here (None when the binaries and driver exist)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'psycopg[binary]')"
    if find_bin_dir() is None:
        return f"PostgreSQL binaries not found under /usr/lib/postgresql/*/bin ({INSTALL_HINT})"
    return None


def get_server() -> PostgresServer:
    """The session's server, started on first call (skips, or fails under CI, when it cannot)."""
    global _server, _failure
    with _lock:
        if _server is None and _failure is None:
            _failure = unavailable_reason()
            if _failure is None:
                reap_orphans(find_bin_dir())
                server = PostgresServer(find_bin_dir())
                try:
                    server.start()
                except Exception as exc:  # noqa: BLE001 - reported through skip/fail below
                    server.stop()
                    _failure = f"PostgreSQL could not be started: {exc}"
                else:
                    _server = server
                    atexit.register(server.stop)
        if _failure is not None:
            skip_or_fail(_failure)
        assert _server is not None
        return _server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The running test server (session-scoped; stopped at the end of the session).

    ``postgres_server.url`` is the URL of its database ``inspector`` (shared by the session).
    """
    server = get_server()
    yield server
    global _server
    with _lock:
        if _server is server:
            server.stop()
            _server = None


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """URL of a fresh, EMPTY database on the test server (one per test, dropped after)."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture
def postgres_head_url(postgres_server: PostgresServer) -> Iterator[str]:
    """URL of a fresh database already at the schema head (a copy of a migrated template)."""
    url = postgres_server.create_database(template=postgres_server.migrated_template())
    yield url
    postgres_server.drop_database(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database: a SQLite file (empty), then a PostgreSQL database at the schema head
    (runs each test twice). Migrations on PostgreSQL are tested on empty databases elsewhere."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'inspector.db'}"
    return request.getfixturevalue("postgres_head_url")
