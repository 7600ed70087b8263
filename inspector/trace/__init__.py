"""Traceability: user accounts and roles, the hash-chained audit trail, signed dispositions,
reason codes and retention. See docs/traceability.md.

Entry points used by the facade (``inspector.pipeline``), the CLI and the app::

    Audit(store).append(actor, action, entity, entity_id, before, after) -> AuditEvent
    Audit(store).verify() -> VerifyResult
    Accounts(store).authenticate(username, password) -> User
    require(user, "review.decide")
    sign_review(store, inspection_id, decision, reason_code, comment, username, password, meaning) -> Review
    apply_retention(store, RetentionPolicy(images_days=365), admin, dry_run=True) -> RetentionReport
"""

from inspector.trace.accounts import Account, Accounts, normalise_username
from inspector.trace.audit import ACTIONS, Audit
from inspector.trace.chain import GENESIS, VerifyResult, event_hash
from inspector.trace.errors import (
    AccountError,
    AccountLockedError,
    AuditError,
    AuthError,
    PermissionDenied,
    RetentionError,
    ReviewError,
    SignInThrottled,
    TraceError,
)
from inspector.trace.policy import PERMISSIONS, ROLE_PERMISSIONS, allowed, parse_role, require, roles_with
from inspector.trace.reasons import ReasonCode, ReasonCodes, parse_decision
from inspector.trace.retention import RetentionPolicy, RetentionReport, apply_retention
from inspector.trace.signing import (
    ReviewPreview,
    Signature,
    default_meaning,
    preview_review,
    sign_review,
    signature_of,
    verify_signature,
)

__all__ = [
    "ACTIONS",
    "GENESIS",
    "PERMISSIONS",
    "ROLE_PERMISSIONS",
    "Account",
    "AccountError",
    "AccountLockedError",
    "Accounts",
    "Audit",
    "AuditError",
    "AuthError",
    "PermissionDenied",
    "ReasonCode",
    "ReasonCodes",
    "RetentionError",
    "RetentionPolicy",
    "RetentionReport",
    "ReviewError",
    "ReviewPreview",
    "SignInThrottled",
    "Signature",
    "TraceError",
    "VerifyResult",
    "allowed",
    "apply_retention",
    "default_meaning",
    "event_hash",
    "normalise_username",
    "parse_decision",
    "parse_role",
    "preview_review",
    "require",
    "roles_with",
    "sign_review",
    "signature_of",
    "verify_signature",
]
