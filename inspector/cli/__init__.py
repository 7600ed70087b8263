"""The ``inspector`` command. Subcommands live in modules of this package, each exposing
``register(subparsers)``; they are discovered automatically, so a command group is one file.

Every subcommand gets ``run(args, ctx) -> int`` where ``ctx`` builds Settings and the
Inspector facade lazily (a ``--help`` never imports torch).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from inspector import plugins
from inspector.cli._guards import check_config_file, check_database, check_operator
from inspector.errors import UsageError, exit_code
from inspector.settings import Settings


class Context:
    """What a subcommand needs: settings from the global options, the facade on first use."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self._settings: Settings | None = None
        self._inspector = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            a = self.args
            overrides = {
                "data_dir": a.data_dir, "database_url": a.db, "image_dir": a.images,
                "reference_dir": a.references, "station": a.station, "device": a.device,
                "operator": a.operator, "explain": getattr(a, "explain", None),
            }
            self._settings = Settings.load(overrides, config_file=check_config_file(a.config))
        return self._settings

    @property
    def inspector(self):
        if self._inspector is None:
            from inspector.pipeline import Inspector

            check_database(self.settings, create=self.args.create_db or getattr(self.args, "creates_db", False))
            # publisher plugins start only for a command that runs the line (`inspect`, the app)
            self._inspector = Inspector(self.settings, publishers=getattr(self.args, "runs_line", False))
            if self.args.sign_in:
                self._inspector.sign_in(self.args.sign_in, read_password(self.args.sign_in))
            check_operator(self._inspector, self.args.operator)
        return self._inspector

    def close(self) -> None:
        if self._inspector is not None:
            self._inspector.close()


def read_password(username: str) -> str:
    """INSPECTOR_PASSWORD for scripted use, else an interactive prompt (never a command-line argument)."""
    import getpass
    import os

    env = os.environ.get("INSPECTOR_PASSWORD")
    if env is not None:
        return env
    if not sys.stdin.isatty():
        raise UserError(f"password for {username!r} needed: set INSPECTOR_PASSWORD or run interactively")
    return getpass.getpass(f"password for {username}: ")


UserError = UsageError  # a problem the user can fix; printed without a traceback, exit code 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inspector", description=__doc__.splitlines()[0] if __doc__ else None)
    g = parser.add_argument_group("station (override settings file and INSPECTOR_* env)")
    g.add_argument("--config", help="settings YAML file (default ~/.config/inspector/settings.yaml)")
    g.add_argument("--data-dir", help="folder for database, images and taught references")
    g.add_argument("--db", help="database URL, e.g. sqlite:///x.db or postgresql+psycopg://u@127.0.0.1/db")
    g.add_argument("--create-db", action="store_true", help="create the SQLite database named by --db if it "
                   "does not exist (otherwise a missing file is an error: a typo must not start a new one)")
    g.add_argument("--images", help="content-addressed image folder")
    g.add_argument("--references", help="folder of taught part references")
    g.add_argument("--station", help="station name recorded with every inspection")
    g.add_argument("--device", help="auto (default), cpu or cuda")
    g.add_argument("--operator", help="user name recorded with inspections (once accounts exist: only the "
                   "signed-in user, see --sign-in)")
    g.add_argument("--sign-in", metavar="USER", help="act as this account (password from INSPECTOR_PASSWORD "
                   "or a prompt); needed for teach/report/export once accounts exist")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if mod.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{mod.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    for module in plugins.load_all("inspector.commands").values():  # e.g. `inspector app`, from ui/
        try:
            module.register(sub)
        except Exception:  # a broken command plugin is logged and skipped
            logging.getLogger(__name__).exception("command plugin %r failed to register", module)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    ctx = Context(args)
    try:
        return int(args.func(args, ctx) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `inspector ... | head`: the reader left; no traceback, nothing more to say
        _silence_stdout()
        return 141
    except Exception as exc:
        # Typed core errors carry what the user must fix: a message, no traceback. The one place
        # where errors become exit codes (inspector.errors.exit_code).
        code = exit_code(exc)
        if code is None:
            from inspector.spool import fault_text, is_storage_fault

            if not is_storage_fault(exc):
                raise
            # disk full, database locked or unreachable: said in one line (docs/reliability.md), exit 3
            print(f"error: {fault_text(exc)}", file=sys.stderr)
            return 3
        print(f"error: {exc}", file=sys.stderr)
        if args.verbose and not isinstance(exc, UsageError):
            raise
        return code
    finally:
        ctx.close()
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _silence_stdout()


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's last flush cannot raise on a closed pipe."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (tests capture it)
        pass


if __name__ == "__main__":
    sys.exit(main())
