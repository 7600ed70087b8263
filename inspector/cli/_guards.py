"""Checks the CLI makes before a command does anything: honest errors instead of silent defaults.

A missing ``--config`` file, a ``--db`` path that names no database (a typo would create a new,
empty one and scatter the records), a count that is not positive, an ``--operator`` that claims
another user once accounts exist: each is a :class:`UsageError` (exit code 2) saying what to fix.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from inspector.errors import UsageError


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1 (``--limit 0`` would inspect nothing and say it passed)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def check_config_file(given: str | None) -> Path | None:
    """The settings file named by ``--config``; UsageError when it is missing (a typo must not fall back
    to the defaults). ``$INSPECTOR_CONFIG`` naming no file still means "no settings file"."""
    if not given:
        return None
    path = Path(given).expanduser()
    if not path.is_file():
        raise UsageError(f"--config: settings file {path} not found (give an existing YAML file, or leave "
                         "--config out for the defaults)")
    return path


def sqlite_path(url: str) -> Path | None:
    """The file a SQLite URL (or plain path) names; None for other databases and in-memory SQLite."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    if "://" not in url:
        return Path(url).expanduser()
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise UsageError(f"--db: {url!r} is not a database URL ({exc}); e.g. sqlite:////var/lib/x.db or "
                         "postgresql+psycopg://user@host/db") from None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser()


def check_database(settings: Any, *, create: bool) -> None:
    """Refuse a SQLite database that does not exist, unless it is the data folder's own or ``create``.

    PostgreSQL URLs are left to the server (a wrong name fails to connect, it creates nothing).
    """
    path = sqlite_path(str(settings.database_url))
    if path is None or create:
        return
    default = Path(settings.data_dir).expanduser() / "inspector.db"
    if path.resolve() == default.resolve():
        return  # the data folder's own database is made on first use
    if path.exists():
        if not path.is_file():
            raise UsageError(f"--db: {path} is not a database file")
        return
    if not path.parent.is_dir():
        raise UsageError(f"--db: folder {path.parent} does not exist; check the path, or add --create-db to "
                         "make a new database there")
    raise UsageError(f"--db: database {path} does not exist; check the path (a typo would start a new, empty "
                     "database), or add --create-db to create it")


def check_operator(inspector: Any, operator: str | None) -> None:
    """``--operator NAME`` records who works; once accounts exist only a signed-in user may be named."""
    if not operator or not inspector.has_users():
        return
    from inspector.trace import normalise_username

    user = inspector.user
    try:
        claimed = normalise_username(operator)
    except ValueError:
        claimed = operator
    if user is None or user.username != claimed:
        inspector.refused("operator.claimed", f"--operator {operator!r} without signing in as that user")
        raise UsageError(f"--operator {operator!r}: accounts exist, so who works is proven by signing in: "
                         f"use --sign-in NAME (password from INSPECTOR_PASSWORD or a prompt)")
