"""CLI arguments a new user gets wrong: each is a one-line error with a non-zero exit code, never a
traceback, a hang or a silent new database; a data folder named with ?, # or %xx keeps its records."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import pytest
from zone_support import part_image, write_order

from inspector import plugins
from inspector.cli import main

ROOT = Path(__file__).resolve().parents[2]
ADMIN_PW = "root-password-1"


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    """An isolated station with the fake backend ('fake' in inspector.backends); returns run(*argv)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    for k in ("INSPECTOR_PASSWORD", "INSPECTOR_NEW_PASSWORD", "INSPECTOR_CONFIG", "INSPECTOR_OPERATOR",
              "INSPECTOR_DATABASE_URL", "INSPECTOR_DATA_DIR"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setitem(plugins.BUILTINS, "inspector.backends", {"fake": "badinput_support:fake_backend"})
    plugins._table.cache_clear()
    monkeypatch.setenv("INSPECTOR_BACKEND", "fake")
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"

    def run(*argv: str, data_dir: Path | None = data, password: str | None = None,
            new_password: str | None = None) -> tuple[int, str]:
        for key, value in (("INSPECTOR_PASSWORD", password), ("INSPECTOR_NEW_PASSWORD", new_password)):
            if value is None:
                monkeypatch.delenv(key, raising=False)
            else:
                monkeypatch.setenv(key, value)
        capsys.readouterr()
        head = ["--data-dir", str(data_dir)] if data_dir is not None else []
        try:
            code = main([*head, *argv])
        except SystemExit as exc:  # argparse refuses the arguments: usage error, exit code 2
            code = int(exc.code or 0)
        out = capsys.readouterr()
        return code, out.out + out.err

    run.data, run.tmp = data, tmp_path
    yield run
    plugins._table.cache_clear()


def _order(cli) -> str:
    return str(write_order(cli.tmp))


def _line(cli, n: int = 2) -> Path:
    line = cli.tmp / "line"
    line.mkdir(exist_ok=True)
    for i in range(n):
        cv2.imwrite(str(line / f"p{i}.png"), part_image(scratch=False))
    return line


# --- numbers --------------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [
    ("inspect", "--order", "WO-1", "--limit", "0", "x"),
    ("inspect", "--order", "WO-1", "--limit", "-3", "x"),
    ("inspect", "--order", "WO-1", "--limit", "abc", "x"),
    ("inspect", "--order", "WO-1", "--limit", "1.5", "x"),
    ("list", "--limit", "0"),
    ("list", "--limit", "-1"),
    ("review", "list", "--limit", "0"),
    ("audit", "log", "--last", "0"),
    ("teach", "--target-frr", "x", "--good", "g"),
    ("inspect", "x"),  # no --order
    ("review", "decide", "abc", "--decision", "scrap", "--reason", "R"),
    ("users", "add", "x", "--role", "king", "--full-name", "X"),
    ("no-such-command",),
    ("list", "--since", "yesterday"),
    ("list", "--verdict", "MAYBE"),
    ("workorder", "frobnicate", "x"),
], ids=lambda a: "-".join(a)[:40])
def test_bad_arguments_are_usage_errors(cli, argv):
    code, text = cli(*argv)
    assert code == 2 and "Traceback" not in text


# --- files the command line names -----------------------------------------------------------

def test_missing_config_file_is_an_error(cli):
    code, text = cli("--config", str(cli.tmp / "settings-typo.yaml"), "list")
    assert code == 2 and "settings file" in text and "not found" in text


@pytest.mark.parametrize("db, phrase", [
    ("sqlite:///{tmp}/typo.db", "does not exist"),
    ("{tmp}/typo.db", "does not exist"),
    ("typo.db", "does not exist"),
    ("sqlite:///{tmp}/no/such/folder/x.db", "folder"),
    ("{tmp}/no-folder/x.db", "folder"),
    ("sqlite:///{tmp}", "not a database file"),
    ("nonsense://", "unsupported database"),
], ids=["url", "path", "relative", "url-no-folder", "path-no-folder", "a-folder", "not-a-url"])
def test_a_mistyped_db_is_an_error_not_a_new_empty_database(cli, db, phrase):
    db = db.format(tmp=cli.tmp)
    code, text = cli("--db", db, "list")
    assert code == 2 and phrase in text, text
    assert not (cli.tmp / "typo.db").exists() and not (cli.tmp / "no").exists()


def test_create_db_makes_the_new_database_on_purpose(cli):
    code, _ = cli("--db", str(cli.tmp / "new.db"), "--create-db", "list")
    assert code == 0 and (cli.tmp / "new.db").is_file()
    assert cli("--db", str(cli.tmp / "new.db"), "list")[0] == 0  # it exists now


@pytest.mark.parametrize("name", ["data?x", "data#1", "data%41", "d?#%2F%"], ids=["question", "hash", "pct", "all"])
def test_a_data_folder_named_with_url_characters_keeps_its_own_database(cli, name):
    data = cli.tmp / name
    code, text = cli("users", "add", "root", "--full-name", "Rita Admin", "--role", "admin", data_dir=data,
                     new_password=ADMIN_PW)
    assert code == 0, text
    assert (data / "inspector.db").is_file()
    assert sorted(cli.tmp.rglob("*.db")) == [data / "inspector.db"]  # no stray database elsewhere
    code, text = cli("users", "list", data_dir=data)
    assert code == 0 and "root" in text


# --- sources ---------------------------------------------------------------------------------

def _with_notes(folder: Path) -> Path:
    folder.mkdir()
    (folder / "notes.txt").write_text("not an image")
    return folder


@pytest.mark.parametrize("make, phrase", [
    (lambda t: t.mkdir() or t, "is empty"),
    (lambda t: _with_notes(t), "holds no image"),
    (lambda t: t, "cannot tell what kind of source"),
    (lambda t: f"folder:{t}", "folder not found"),
    (lambda t: f"hotfolder:{t}", "hot folder not found"),
    (lambda t: f"files:{t}/a.png,{t}/b.png", "file not found"),
    (lambda t: f"video:{t}/line.mp4", "video file not found"),
    (lambda t: f"telepathy:{t}", "cannot tell what kind of source"),
], ids=["empty", "no-image", "nothing-there", "no-folder", "no-hotfolder", "missing-files", "no-video", "unknown"])
def test_a_source_with_nothing_to_inspect_is_an_error(cli, make, phrase):
    source = make(cli.tmp / "src")
    code, text = cli("inspect", "--order", _order(cli), str(source))
    assert code == 2 and phrase in text, text


def test_inspect_with_a_bad_file_records_review_and_exits_zero(cli):
    line = _line(cli)
    (line / "p9.png").write_bytes(b"\x89PNG\r\n\x1a\ntruncated")
    code, text = cli("inspect", "--order", _order(cli), str(line))
    assert code == 0 and "REVIEW" in text and "3 inspected" in text


# --- accounts --------------------------------------------------------------------------------

def test_operator_cannot_claim_a_user_once_accounts_exist(cli):
    assert cli("--operator", "anyone", "list")[0] == 0  # no accounts yet: the station runs open
    assert cli("users", "add", "root", "--full-name", "Rita Admin", "--role", "admin", new_password=ADMIN_PW)[0] == 0
    code, text = cli("--operator", "root", "list")
    assert code == 2 and "--sign-in" in text
    code, text = cli("--operator", "someone", "list")
    assert code == 2
    assert cli("--operator", "root", "--sign-in", "root", "list", password=ADMIN_PW)[0] == 0
    code, text = cli("audit", "log", "--action", "operator.claimed", "--json")
    assert code == 0 and text.count('"operator.claimed"') == 2


def test_users_recover_needs_a_local_sqlite_database(cli):
    code, text = cli("--db", "postgresql+psycopg://nobody@127.0.0.1:1/x", "users", "recover", "--user", "root",
                     new_password="new-password-1")
    assert code == 2 and "SQLite" in text
    assert cli("users", "add", "root", "--full-name", "Rita Admin", "--role", "admin", new_password=ADMIN_PW)[0] == 0
    assert cli("users", "add", "ann", "--full-name", "Ann", "--role", "reviewer", "--user", "root",
               password=ADMIN_PW, new_password="ann-password-1")[0] == 0
    code, text = cli("users", "recover", "--user", "ann", new_password="new-password-1")
    assert code == 2 and "not an admin" in text
    code, text = cli("users", "recover", "--user", "root", new_password="new-password-1")
    assert code == 0 and "recovered" in text
    assert cli("--sign-in", "root", "users", "list", password="new-password-1")[0] == 0


# --- output to a closed pipe -----------------------------------------------------------------

def test_workorder_show_into_a_closed_pipe_prints_no_traceback(tmp_path):
    order = write_order(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "inspector", "workorder", "show", str(order)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # like `| head` that has already exited
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipe" not in err, err


def test_broken_pipe_inside_a_command_is_handled(monkeypatch, tmp_path):
    class Closed:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", Closed())
    assert main(["workorder", "show", str(write_order(tmp_path))]) == 141
