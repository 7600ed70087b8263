"""Local user accounts: argon2id password hashes, roles, sign-in throttling, all changes audited.

Passwords are never stored or logged: only their salted argon2id hash (PHC string, random
16-byte salt per hash; argon2-cffi defaults t=3, m=64 MiB, p=4, about 0.5 s per hash on a
2-core station). A user is never deleted, only deactivated, so old signatures keep a name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from inspector.domain import Role, User, utcnow
from inspector.store.trace_tables import UserRow
from inspector.trace import _db, throttle
from inspector.trace.audit import Audit
from inspector.trace.errors import (
    AccountError,
    AccountLockedError,
    AuthError,
    PermissionDenied,
    SignInThrottled,
)
from inspector.trace.policy import parse_role, require
from inspector.trace.statecheck import credential_digest

MIN_PASSWORD_LENGTH = 8
_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,127}$")


@dataclass(frozen=True)
class Account:
    """A user plus the account state shown to admins (never the hash)."""

    user: User
    locked: bool
    failed_attempts: int
    created_at: datetime
    created_by: str
    last_login_at: datetime | None


def normalise_username(username: str) -> str:
    """Lower-case, trimmed user name. Raises ``AccountError`` unless it is 1-128 of a-z 0-9 . _ @ -."""
    name = str(username or "").strip().lower()
    if not _USERNAME_RE.match(name):
        raise AccountError(f"user name {username!r} must be 1-128 characters of a-z, 0-9, '.', '_', '@', '-' "
                           "and start with a letter or digit")
    return name


def _user(row: UserRow) -> User:
    return User(username=row.username, full_name=row.full_name, role=Role(row.role), active=bool(row.active))


def _account(row: UserRow) -> Account:
    return Account(_user(row), bool(row.locked), int(row.failed_attempts), row.created_at, row.created_by,
                   row.last_login_at)


class Accounts:
    """User accounts of one database (shared by every station using it)."""

    def __init__(self, store: Any, *, free_attempts: int = throttle.FREE_ATTEMPTS,
                 base_delay_s: float = throttle.BASE_DELAY_S, max_delay_s: float = throttle.MAX_DELAY_S,
                 min_password_length: int = MIN_PASSWORD_LENGTH, hasher: Any = None) -> None:
        """``free_attempts``: failed sign-ins of one source before it must wait ``base_delay_s``,
        doubling per further failure up to ``max_delay_s`` (``inspector.trace.throttle``); accounts
        are never locked by failures. ``hasher``: an ``argon2.PasswordHasher`` (default parameters).
        """
        if free_attempts < 1 or base_delay_s <= 0 or max_delay_s < base_delay_s:
            raise ValueError("free_attempts must be >= 1 and 0 < base_delay_s <= max_delay_s")
        from argon2 import PasswordHasher

        self._engine = _db.engine_of(store)
        self._audit = Audit(self._engine)
        self._throttle = {"free": int(free_attempts), "base_s": float(base_delay_s), "cap_s": float(max_delay_s)}
        self.min_password_length = int(min_password_length)
        self._hasher = hasher or PasswordHasher()
        self._dummy: str | None = None

    # --- passwords ----------------------------------------------------------------------

    def _check_password(self, username: str, password: str) -> None:
        if not isinstance(password, str) or len(password) < self.min_password_length:
            raise AccountError(f"password for '{username}' is too short: use at least "
                               f"{self.min_password_length} characters")
        if not password.strip() or password.strip().lower() == username:
            raise AccountError(f"password for '{username}' must not be blank or the user name")

    def _hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def _verify(self, stored_hash: str | None, password: str) -> bool:
        """argon2 verification (constant time in the password); runs a dummy hash for unknown users."""
        from argon2.exceptions import InvalidHashError, VerificationError

        if stored_hash is None:
            if self._dummy is None:
                self._dummy = self._hasher.hash("inspector-dummy-password")
            stored_hash = self._dummy
            password = password + "\x00"  # never matches, same work as a real check
        try:
            return bool(self._hasher.verify(stored_hash, password or ""))
        except (VerificationError, InvalidHashError):
            return False

    # --- queries ------------------------------------------------------------------------

    def has_users(self) -> bool:
        """True once any account exists (bootstrap is over)."""
        with _db.read_session(self._engine) as s:
            return bool(s.scalar(select(func.count()).select_from(UserRow)))

    def get(self, username: str) -> User:
        """The user named ``username``. Raises ``AccountError`` when there is none."""
        name = normalise_username(username)
        with _db.read_session(self._engine) as s:
            row = s.scalar(select(UserRow).where(UserRow.username == name))
            if row is None:
                raise AccountError(f"no user '{name}' (see `inspector users list`)")
            return _user(row)

    def list_users(self, *, include_inactive: bool = True) -> list[User]:
        """Every user sorted by user name (deactivated ones too unless ``include_inactive=False``)."""
        return [a.user for a in self.list_accounts() if include_inactive or a.user.active]

    def list_accounts(self) -> list[Account]:
        """Every account with its lock state and failed-attempt count, sorted by user name."""
        with _db.read_session(self._engine) as s:
            return [_account(r) for r in s.scalars(select(UserRow).order_by(UserRow.username))]

    def current(self, user: User) -> User:
        """``user`` re-read from the database: its role as stored now.

        Raises ``AuthError`` when the account does not exist, ``PermissionDenied`` when it is
        deactivated, ``AccountLockedError`` when locked. Guards use it so that a ``User`` object
        built by hand, or a role changed since sign-in, grants nothing extra.
        """
        if not isinstance(user, User):
            raise AuthError(f"expected a signed-in User, got {type(user).__name__}: sign in first")
        with _db.read_session(self._engine) as s:
            row = s.scalar(select(UserRow).where(UserRow.username == user.username))
            if row is None:
                raise AuthError(f"user '{user.username}' does not exist: sign in with an existing account")
            if row.locked:
                raise AccountLockedError(self._locked_message(row.username))
            if not row.active:
                raise PermissionDenied(f"user '{row.username}' is deactivated")
            return _user(row)

    # --- sign-in ------------------------------------------------------------------------

    def authenticate(self, username: str, password: str, *, source: str = "local") -> User:
        """Check a user name and password; returns the ``User``.

        ``source``: where the attempt comes from (the facade: ``local:<os user>@<station>``).
        Raises ``AuthError`` ("wrong user name or password", the same text for an unknown
        name), ``SignInThrottled`` when this source failed too often on this account lately
        (the password is not even checked; other sources are not slowed), ``AccountLockedError``
        for an account an admin locked, ``AuthError`` for a deactivated one. Every refusal is
        audited (``auth.failed``, ``auth.throttled``, with the source).
        """
        try:
            name = normalise_username(username)
        except AccountError:
            name = None
        source = str(source or "local")[:200]
        now = utcnow()
        with _db.read_session(self._engine) as s:
            row = s.scalar(select(UserRow).where(UserRow.username == name)) if name else None
            stored = (row.password_hash, bool(row.locked), bool(row.active)) if row is not None else None
            entity = name if row is not None else "?"
            since = throttle.window_start(row.last_login_at if row is not None else None, now)
            wait = throttle.state(s, entity, source, since=since, now=now, **self._throttle)
        if wait.retry_after_s > 0:
            self._audit.append(name if stored else None, "auth.throttled", "user", entity, None,
                               {"source": source, "failures": wait.failures,
                                "retry_after_s": round(wait.retry_after_s, 1)})
            raise SignInThrottled(f"too many failed sign-ins from {source}: wait {wait.retry_after_s:.0f} s before "
                                  "the next try (the account is not locked; an admin with access to the station "
                                  f"can run `inspector users recover --user NAME`)", wait.retry_after_s)
        if stored is None:
            self._verify(None, password)
            self._audit.append(None, "auth.failed", "user", "?", None,
                               {"reason": "unknown user name", "source": source})
            raise AuthError("wrong user name or password")
        stored_hash, locked, active = stored
        if locked:
            self._audit.append(name, "auth.failed", "user", name, None, {"reason": "account locked", "source": source})
            raise AccountLockedError(self._locked_message(name))
        if not self._verify(stored_hash, password):
            self._record_failure(name, source)
        if not active:
            raise AuthError(f"account '{name}' is deactivated: an admin can reactivate it "
                            f"(`inspector users reactivate {name}`)")
        self._record_success(name, stored_hash, password)
        return self.get(name)

    @staticmethod
    def _locked_message(name: str) -> str:
        return (f"account '{name}' is locked: an admin can unlock it (`inspector users unlock {name}`), or an "
                f"admin with access to the station recover it (`inspector users recover --user {name}`)")

    def _record_failure(self, name: str, source: str) -> None:
        with _db.write_session(self._engine) as s:
            s.execute(update(UserRow).where(UserRow.username == name)
                      .values(failed_attempts=UserRow.failed_attempts + 1))
            count = int(s.scalar(select(UserRow.failed_attempts).where(UserRow.username == name)) or 0)
            self._audit.append_in(s, name, "auth.failed", "user", name, None,
                                  {"reason": "wrong password", "failed_attempts": count, "source": source})
        raise AuthError(f"wrong user name or password ({count} failed in a row)")

    def _record_success(self, name: str, stored_hash: str, password: str) -> None:
        new_hash = self._hash(password) if self._hasher.check_needs_rehash(stored_hash) else None
        with _db.write_session(self._engine) as s:
            values: dict[str, Any] = {"failed_attempts": 0, "last_login_at": utcnow()}
            if new_hash:
                values["password_hash"] = new_hash
            s.execute(update(UserRow).where(UserRow.username == name).values(**values))
            if new_hash:  # verify compares every account's hash with the trail's digest of it
                self._audit.append_in(s, name, "user.password_rehashed", "user", name, None,
                                      {"credential": credential_digest(new_hash)})

    # --- management ---------------------------------------------------------------------

    def create_user(self, username: str, full_name: str, role: str | Role, password: str,
                    actor: User | None) -> User:
        """Create an account; returns the ``User``.

        ``actor``: a signed-in user with ``users.manage`` (admin). Bootstrap: while no account
        exists, ``actor=None`` may create the first one, which must be an admin. Raises
        ``PermissionDenied``, ``AccountError`` (duplicate name, weak password, empty full name).
        """
        name = normalise_username(username)
        role = parse_role(role)
        full_name = (full_name or "").strip()
        if not full_name:
            raise AccountError(f"user '{name}' needs a full name: it is printed with every signature")
        self._check_password(name, password)
        if actor is not None:
            actor = require(self.current(actor), "users.manage")
        password_hash = self._hash(password)
        with _db.write_session(self._engine) as s:
            _db.lock_chain(s)  # PostgreSQL: two stations bootstrapping at once queue here
            n_users = int(s.scalar(select(func.count()).select_from(UserRow)) or 0)
            if actor is None:
                if n_users:
                    raise PermissionDenied("users exist already: sign in as an admin to add users "
                                           "(`inspector users add ... --as ADMIN`)")
                if role is not Role.ADMIN:
                    raise AccountError("the first user must be an admin (`inspector users add NAME "
                                       "--role admin`); that admin then adds the others")
            if s.scalar(select(UserRow.id).where(UserRow.username == name)) is not None:
                raise AccountError(f"user '{name}' exists already (names are never reused)")
            now = utcnow()
            by = actor.username if actor else "bootstrap"
            s.add(UserRow(username=name, full_name=full_name, role=role.value, password_hash=password_hash,
                          active=True, failed_attempts=0, locked=False, created_at=now, created_by=by,
                          updated_at=now, last_login_at=None))
            s.flush()
            self._audit.append_in(s, actor or by, "user.created", "user", name, None,
                                  {"full_name": full_name, "role": role.value, "active": True,
                                   "bootstrap": actor is None, "credential": credential_digest(password_hash)})
        return User(name, full_name, role, True)

    def _change(self, username: str, actor: User, action: str, permission: str = "users.manage",
                **values: Any) -> User:
        """Apply column changes to one account under ``permission``; audits before/after."""
        actor = require(self.current(actor), permission)
        name = normalise_username(username)
        with _db.write_session(self._engine) as s:
            _db.lock_chain(s)
            row = s.scalar(select(UserRow).where(UserRow.username == name))
            if row is None:
                raise AccountError(f"no user '{name}' (see `inspector users list`)")
            before = {k: getattr(row, k) for k in values}
            if before == values:
                return _user(row)
            demotes = values.get("role", Role.ADMIN.value) != Role.ADMIN.value or values.get("active") is False
            if row.role == Role.ADMIN.value and row.active and demotes:
                admins = s.scalar(select(func.count()).select_from(UserRow).where(
                    UserRow.role == Role.ADMIN.value, UserRow.active.is_(True), UserRow.locked.is_(False)))
                if int(admins or 0) <= 1:
                    raise AccountError(f"'{name}' is the last active admin: make another admin first")
            for k, v in values.items():
                setattr(row, k, v)
            row.updated_at = utcnow()
            s.flush()
            self._audit.append_in(s, actor, action, "user", name, before, dict(values))
            return _user(row)

    def set_role(self, username: str, role: str | Role, actor: User) -> User:
        """Change a user's role (admin only; the last active admin cannot be demoted)."""
        return self._change(username, actor, "user.role_changed", role=parse_role(role).value)

    def deactivate(self, username: str, actor: User) -> User:
        """Refuse all further sign-ins of a user (admin only; never the last active admin)."""
        return self._change(username, actor, "user.deactivated", active=False)

    def reactivate(self, username: str, actor: User) -> User:
        return self._change(username, actor, "user.reactivated", active=True)

    def unlock(self, username: str, actor: User) -> User:
        """Unlock an account locked by failed sign-ins and reset its failure count (admin only)."""
        return self._change(username, actor, "user.unlocked", locked=False, failed_attempts=0)

    def set_password(self, username: str, new_password: str, actor: User) -> None:
        """Set a new password: an admin for anyone, or a signed-in user for themself. Audited
        (``user.password_changed``; the event never holds a password or hash)."""
        name = normalise_username(username)
        actor = self.current(actor)
        if actor.username != name:
            require(actor, "users.manage")
        self._check_password(name, new_password)
        new_hash = self._hash(new_password)
        with _db.write_session(self._engine) as s:
            row = s.scalar(select(UserRow).where(UserRow.username == name))
            if row is None:
                raise AccountError(f"no user '{name}' (see `inspector users list`)")
            row.password_hash = new_hash
            row.updated_at = utcnow()
            s.flush()
            self._audit.append_in(s, actor, "user.password_changed", "user", name, None,
                                  {"by": "self" if actor.username == name else "admin",
                                   "credential": credential_digest(new_hash)})

    def change_own_password(self, username: str, old_password: str, new_password: str) -> None:
        """A user changes their own password, proving the old one first."""
        user = self.authenticate(username, old_password)
        self.set_password(user.username, new_password, user)

    def recover(self, username: str, new_password: str, *, by: str) -> User:
        """Give an admin account a new password, unlocked and reactivated, without signing in.

        Only for a person with write access to the station's database file (the CLI's
        ``inspector users recover`` checks that): such a person could change the tables anyway,
        so this grants nothing new, and it is audited (``user.recovered``, actor ``by``).
        Raises ``AccountError`` for an unknown or non-admin account or a weak password.
        """
        name = normalise_username(username)
        self._check_password(name, new_password)
        new_hash = self._hash(new_password)
        with _db.write_session(self._engine) as s:
            _db.lock_chain(s)
            row = s.scalar(select(UserRow).where(UserRow.username == name))
            if row is None or row.role != Role.ADMIN.value:
                raise AccountError(f"'{name}' is not an admin account: recovery is for admins (see `inspector "
                                   "users list`); an admin then resets other users")
            before = {"locked": bool(row.locked), "active": bool(row.active), "failed_attempts": row.failed_attempts}
            row.password_hash, row.locked, row.active, row.failed_attempts = new_hash, False, True, 0
            row.updated_at = utcnow()
            s.flush()
            self._audit.append_in(s, str(by)[:128], "user.recovered", "user", name, before,
                                  {"locked": False, "active": True, "failed_attempts": 0, "password_reset": True,
                                   "credential": credential_digest(new_hash)})
            return _user(row)
