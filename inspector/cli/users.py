"""`inspector users ...`: local accounts and roles (admin only, except the very first admin).

Passwords are never taken from the command line (they would land in shell history): the
acting user's password comes from a prompt, or from the environment variable
``INSPECTOR_PASSWORD`` for scripts; a new password from a prompt (typed twice) or
``INSPECTOR_NEW_PASSWORD``. See docs/traceability.md.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
from typing import Any

from inspector.cli import UserError

PASSWORD_ENV = "INSPECTOR_PASSWORD"
NEW_PASSWORD_ENV = "INSPECTOR_NEW_PASSWORD"


# --- shared by the command groups that act as a user (users, review, retention) -----------


def read_password(username: str, *, env: str = PASSWORD_ENV) -> str:
    """``$INSPECTOR_PASSWORD`` when set (scripts), else a hidden prompt."""
    value = os.environ.get(env)
    if value:
        return value
    try:
        return getpass.getpass(f"password for {username}: ")
    except EOFError:
        raise UserError(f"no password for {username}: type it at the prompt or set {env}") from None


def read_new_password(username: str) -> str:
    """``$INSPECTOR_NEW_PASSWORD`` when set, else a hidden prompt typed twice."""
    value = os.environ.get(NEW_PASSWORD_ENV)
    if value:
        return value
    try:
        first = getpass.getpass(f"new password for {username}: ")
        second = getpass.getpass(f"new password for {username} (again): ")
    except EOFError:
        raise UserError(f"no new password: type it at the prompt or set {NEW_PASSWORD_ENV}") from None
    if first != second:
        raise UserError("the two passwords differ: nothing changed")
    return first


def acting_username(args: argparse.Namespace, ctx: Any) -> str:
    name = getattr(args, "user", None) or getattr(ctx.settings, "operator", "")
    if not name:
        raise UserError("say who you are: --user NAME (your password is asked, or read from "
                        f"{PASSWORD_ENV})")
    return name


def sign_in(args: argparse.Namespace, ctx: Any):
    """Sign the acting user (``--user``) in on the facade and return the ``User``."""
    name = acting_username(args, ctx)
    return ctx.inspector.sign_in(name, read_password(name))


def add_user_option(p: argparse.ArgumentParser, what: str = "the admin doing this") -> None:
    p.add_argument("--user", "--as", dest="user", metavar="NAME",
                   help=f"{what}; password prompted or read from ${PASSWORD_ENV}")


# --- the users group ------------------------------------------------------------------------


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("users", help="user accounts and roles (operator, reviewer, admin)",
                       description=__doc__.split("\n\n")[0] if __doc__ else None)
    s = p.add_subparsers(dest="users_command", metavar="ACTION", required=True)

    a = s.add_parser("add", help="create an account (the first one, an admin, needs no sign-in)")
    a.add_argument("username")
    a.add_argument("--full-name", required=True, help="printed name used in signatures")
    a.add_argument("--role", required=True, choices=("operator", "reviewer", "admin"))
    add_user_option(a)
    a.set_defaults(func=run_add, creates_db=True)  # the first admin sets a station up

    ls = s.add_parser("list", help="list accounts with role, state and failed sign-ins")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)

    r = s.add_parser("set-role", help="change a user's role")
    r.add_argument("username")
    r.add_argument("role", choices=("operator", "reviewer", "admin"))
    add_user_option(r)
    r.set_defaults(func=run_set_role)

    pw = s.add_parser("passwd", help="set a password (your own, or anyone's as admin)")
    pw.add_argument("username")
    add_user_option(pw, "who is changing it (default: the user themself, proving the old password)")
    pw.set_defaults(func=run_passwd)

    for name, helptext in (("deactivate", "refuse all further sign-ins (accounts are never deleted)"),
                           ("reactivate", "allow a deactivated user to sign in again"),
                           ("unlock", "unlock an account locked by failed sign-ins")):
        c = s.add_parser(name, help=helptext)
        c.add_argument("username")
        add_user_option(c)
        c.set_defaults(func=run_change, change=name)

    rc = s.add_parser("recover", help="local admin recovery: new password, unlocked (needs write access to the "
                                      "station's SQLite database file; audited)")
    rc.add_argument("--user", dest="recover_user", metavar="NAME", required=True, help="the admin account")
    rc.set_defaults(func=run_recover)

    m = s.add_parser("roles", help="print the permission matrix")
    m.set_defaults(func=run_roles)


def run_add(args: argparse.Namespace, ctx: Any) -> int:
    insp = ctx.inspector
    actor = None
    if insp.has_users() or args.user:
        actor = sign_in(args, ctx)
    elif args.role != "admin":
        raise UserError("no accounts exist yet: the first one must be an admin (--role admin)")
    user = insp.create_user(args.username, args.full_name, args.role, read_new_password(args.username))
    how = "first admin (bootstrap)" if actor is None else f"by {actor.username}"
    print(f"created {user.role.value} '{user.username}' ({user.full_name}), {how}")
    return 0


def run_list(args: argparse.Namespace, ctx: Any) -> int:
    rows = ctx.inspector.accounts()
    if args.json:
        print(json.dumps([{"username": a.user.username, "full_name": a.user.full_name, "role": a.user.role.value,
                           "active": a.user.active, "locked": a.locked, "failed_attempts": a.failed_attempts,
                           "created_at": a.created_at.isoformat(), "created_by": a.created_by,
                           "last_login_at": a.last_login_at.isoformat() if a.last_login_at else None}
                          for a in rows], indent=1))
        return 0
    if not rows:
        print("no accounts yet: create the first admin with `inspector users add NAME --full-name ... "
              "--role admin`")
        return 0
    print(f"{'user':<16} {'role':<9} {'state':<12} {'full name':<28} last sign-in")
    for a in rows:
        state = "locked" if a.locked else ("active" if a.user.active else "deactivated")
        last = a.last_login_at.strftime("%Y-%m-%d %H:%M") if a.last_login_at else "-"
        print(f"{a.user.username:<16} {a.user.role.value:<9} {state:<12} {a.user.full_name:<28} {last}")
    return 0


def run_set_role(args: argparse.Namespace, ctx: Any) -> int:
    sign_in(args, ctx)
    user = ctx.inspector.set_role(args.username, args.role)
    print(f"'{user.username}' is now {user.role.value}")
    return 0


def run_passwd(args: argparse.Namespace, ctx: Any) -> int:
    if not args.user:
        args.user = args.username
    sign_in(args, ctx)
    ctx.inspector.set_password(args.username, read_new_password(args.username))
    print(f"password of '{args.username}' changed")
    return 0


def run_change(args: argparse.Namespace, ctx: Any) -> int:
    sign_in(args, ctx)
    user = ctx.inspector.change_account(args.change, args.username)
    done = {"deactivate": "deactivated", "reactivate": "reactivated", "unlock": "unlocked"}[args.change]
    print(f"'{user.username}': {done}")
    return 0


def run_recover(args: argparse.Namespace, ctx: Any) -> int:
    """The way back in when no admin can sign in: proven by file-system access, not by a password."""
    from inspector.cli._guards import sqlite_path

    path = sqlite_path(str(ctx.settings.database_url))
    if path is None:
        raise UserError("recovery works on the station's own SQLite database only; on a shared PostgreSQL "
                        "server the database owner resets the account")
    if not path.is_file():
        raise UserError(f"no database at {path}: give the station's --data-dir or --db")
    if not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
        raise UserError(f"recovery needs write access to {path} and its folder: run it as the account that "
                        "owns the station's data")
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "?"
    user = ctx.inspector.recover_account(args.recover_user, read_new_password(args.recover_user),
                                         by=f"local-recovery:{who}@{ctx.settings.station}")
    print(f"recovered admin '{user.username}': new password set, unlocked and active (audited as user.recovered)")
    return 0


def run_roles(args: argparse.Namespace, ctx: Any) -> int:
    print(f"{'permission':<17} {'operator':<9} {'reviewer':<9} {'admin':<6} what it allows")
    for perm, what, roles in ctx.inspector.permission_matrix():
        marks = " ".join(f"{'yes' if roles[r] else '-':<9}" for r in ("operator", "reviewer"))
        print(f"{perm:<17} {marks} {'yes' if roles['admin'] else '-':<6} {what}")
    return 0
