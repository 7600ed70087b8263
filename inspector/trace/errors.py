"""Typed errors of traceability: accounts, permissions, signatures, audit, retention.

Every message says what happened and what the user can do about it. The CLI prints them
without a traceback (exit code 2).
"""

from __future__ import annotations

from inspector.errors import InspectorError


class TraceError(InspectorError):
    """Base class of every traceability error."""


class AuthError(TraceError):
    """Sign-in refused: unknown user, wrong password, deactivated or locked account."""


class AccountLockedError(AuthError):
    """The account is locked (by an admin, or by an older Inspector after failed sign-ins)."""


class SignInThrottled(AuthError):
    """Too many failed sign-ins from this source: wait ``retry_after_s`` seconds (the account is not locked)."""

    def __init__(self, message: str, retry_after_s: float = 0.0):
        super().__init__(message)
        self.retry_after_s = retry_after_s


class PermissionDenied(TraceError, PermissionError):
    """The user's role does not grant the permission the action needs (``permission``, when known)."""

    def __init__(self, message: str, permission: str = ""):
        super().__init__(message)
        self.permission = permission


class AccountError(TraceError, ValueError):
    """A user-management request is invalid (duplicate name, weak password, last admin...)."""


class ReviewError(TraceError, ValueError):
    """A review/disposition cannot be signed as asked (unknown reason code, missing comment...)."""


class AuditError(TraceError):
    """The audit trail cannot be written or read (not a tamper finding: see ``VerifyResult``)."""


class RetentionError(TraceError, ValueError):
    """A retention request is invalid (negative days, nothing to keep...)."""
