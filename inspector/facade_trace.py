"""The facade's traceability door: accounts and roles, reason codes, the audit trail, retention.

A mixin of :class:`inspector.pipeline.Inspector`. Actions that change something act as the
signed-in user (``Inspector.sign_in``); the trace layer checks the right and appends the
audit event in the same transaction as the change. Writes run on the facade's writer thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from inspector.domain import User

if TYPE_CHECKING:  # the trace layer (SQLAlchemy) is imported on first use: the window appears fast
    from inspector.trace import Account, ReasonCode, RetentionPolicy, RetentionReport


def _trace() -> Any:
    import inspector.trace

    return inspector.trace


class TraceDoor:
    """Accounts, reason codes, audit and retention of :class:`~inspector.pipeline.Inspector`."""

    store: Any
    settings: Any
    user: User | None
    _write: Callable[..., Any]

    def _acting(self) -> User:
        if self.user is None:
            exc = _trace().PermissionDenied("sign in first: this needs an account with that right")
            self.refused("permission.denied", str(exc))
            raise exc
        return self.user

    # --- refusals are audited ------------------------------------------------------------------

    @property
    def auth_source(self) -> str:
        """Where sign-ins come from, for throttling: ``local:<os user>@<station>``."""
        import getpass

        try:
            who = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry (containers)
            who = "?"
        return f"local:{who}@{self.settings.station}"

    def refused(self, action: str, message: str, permission: str = "") -> None:
        """Audit a refused action (``permission.denied``, ``operator.claimed``...): who, what, from where.

        Never raises: a refusal must reach the user even when the audit cannot be written.
        """
        actor = self.user.username if self.user is not None else None
        try:
            self._write(_trace().Audit(self.store).append, actor, action, "permission", permission or "?", None,
                        {"message": message[:500], "source": self.auth_source})
        except Exception:  # the refusal itself is what the caller raises next
            logging.getLogger(__name__).exception("could not audit refusal %s", action)

    def _guarded(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A trace write on the writer thread; a PermissionDenied from it is audited, then raised."""
        try:
            return self._write(fn, *args, **kwargs)
        except _trace().PermissionDenied as exc:
            self.refused("permission.denied", str(exc), getattr(exc, "permission", ""))
            raise

    # --- accounts and roles ---------------------------------------------------------------------

    def has_users(self) -> bool:
        return _trace().Accounts(self.store).has_users()

    def accounts(self) -> list[Account]:
        return _trace().Accounts(self.store).list_accounts()

    def create_user(self, username: str, full_name: str, role: str, password: str) -> User:
        """A new account, created by the signed-in admin (or the very first admin, signed-in nobody)."""
        return self._guarded(_trace().Accounts(self.store).create_user, username, full_name, role, password, self.user)

    def set_role(self, username: str, role: str) -> User:
        return self._guarded(_trace().Accounts(self.store).set_role, username, role, self._acting())

    def set_password(self, username: str, new_password: str) -> None:
        self._guarded(_trace().Accounts(self.store).set_password, username, new_password, self._acting())

    def recover_account(self, username: str, new_password: str, *, by: str) -> User:
        """Local admin recovery (new password, unlocked, active); the CLI checks file-system access first."""
        return self._write(_trace().Accounts(self.store).recover, username, new_password, by=by)

    def change_account(self, change: str, username: str) -> User:
        """``change``: 'deactivate', 'reactivate' or 'unlock'."""
        if change not in ("deactivate", "reactivate", "unlock"):
            raise ValueError(f"unknown account change {change!r}")
        return self._guarded(getattr(_trace().Accounts(self.store), change), username, self._acting())

    @staticmethod
    def permission_matrix() -> list[tuple[str, str, dict[str, bool]]]:
        from inspector.trace.policy import matrix

        return list(matrix())

    # --- reason codes ---------------------------------------------------------------------------

    def reason_codes(self, *, include_inactive: bool = False) -> list[ReasonCode]:
        """Reason codes reviewers may choose from (admin-managed list)."""
        return _trace().ReasonCodes(self.store).list(include_inactive=include_inactive)

    def add_reason_code(self, code: str, description: str, decisions: str | list[str]) -> ReasonCode:
        return self._guarded(_trace().ReasonCodes(self.store).add, code, description, decisions, self._acting())

    def deactivate_reason_code(self, code: str) -> ReasonCode:
        return self._guarded(_trace().ReasonCodes(self.store).deactivate, code, self._acting())

    # --- the audit trail ------------------------------------------------------------------------

    def verify_audit(self, *, expect_head: tuple[int, str] | None = None, deep: bool = True, images: bool = True):
        """Check the hash chain and (``deep``) every record tied to it: inspections, ``images`` (hashed),
        work orders, references and their files, accounts, reviews; never raises for tampering.
        Settings edited since the last run or outside the app are warnings (``trace.settingscheck``)."""
        from inspector.trace.settingscheck import check_settings

        result = _trace().Audit(self.store).verify(expect_head=expect_head, deep=deep, images=images)
        if deep:
            result.warnings += check_settings(self.store.engine, self.settings)
        return result

    @staticmethod
    def seal_records(store: Any) -> None:
        """Seal every inspection ``store`` stores from now on into the audit trail (``trace.seal``)."""
        from inspector.trace.seal import install

        install(store)

    def record_settings(self) -> None:
        """At a run's start: record the verdict-relevant settings when they changed since the last run.

        A storage fault here does not stop the line (the spool takes its parts): it is logged and the
        next run records them; meanwhile ``verify`` warns that the settings differ from those recorded.
        """
        from inspector.trace.settingscheck import record_settings

        try:
            self._write(record_settings, self.store, self.settings, self.actor)
        except Exception as exc:  # noqa: BLE001 - never a reason to stop the line
            logging.getLogger(__name__).warning("settings not recorded in the audit trail: %s", exc)

    def audit_events(self, **filters: Any):
        return _trace().Audit(self.store).events(**filters)

    def audit_head(self):
        return _trace().Audit(self.store).head()

    # --- retention ------------------------------------------------------------------------------

    def retention_policy(self, **overrides: Any) -> RetentionPolicy:
        """The policy from the settings, then ``overrides`` (images_days, records_days, keep_unreviewed)."""
        return _trace().RetentionPolicy.from_settings(self.settings, **overrides)

    def apply_retention(self, policy: RetentionPolicy, *, dry_run: bool = False,
                        archive: IO[str] | None = None) -> RetentionReport:
        """Remove images/records past the policy as the signed-in admin; audited as ``retention.applied``."""
        return self._guarded(_trace().apply_retention, self.store, policy, self._acting(), dry_run=dry_run,
                             archive=archive)
