"""Who may do what: the one permission policy of Inspector.

Every guarded action names a permission; :func:`require` checks a user's role against the
matrix below and raises :class:`PermissionDenied` with a sentence an operator understands.
The CLI and the desktop app both call it (through the facade), so the rule lives here only.
"""

from __future__ import annotations

from inspector.domain import Role, User
from inspector.trace.errors import PermissionDenied

# permission -> (what it lets a user do, in words for the refusal message)
PERMISSIONS: dict[str, str] = {
    "inspect": "run inspections",
    "teach": "teach parts or change thresholds",
    "review.decide": "overturn verdicts",
    "review.ok_parts": "disposition parts the machine passed (OK)",
    "users.manage": "manage users",
    "reasons.manage": "manage reason codes",
    "retention.apply": "apply retention (purge images or records)",
    "audit.verify": "verify or read the audit trail",
    "export": "export data",
    "report": "generate reports",
    "reinspect": "re-judge stored parts (new records linked to the originals)",
}

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.OPERATOR: frozenset({"inspect", "report"}),
    # a reviewer (quality engineer) may also disposition a part the machine passed: escapes found
    # downstream must be correctable by QA, not only by an admin
    Role.REVIEWER: frozenset({"inspect", "teach", "review.decide", "review.ok_parts", "audit.verify", "export",
                              "report", "reinspect"}),
    Role.ADMIN: frozenset(PERMISSIONS),
}


def parse_role(role: str | Role) -> Role:
    """``Role`` from its name (case-insensitive). Raises ``ValueError`` listing the roles."""
    if isinstance(role, Role):
        return role
    try:
        return Role(str(role).strip().lower())
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise ValueError(f"unknown role {role!r}: use one of {names}") from None


def roles_with(permission: str) -> tuple[Role, ...]:
    """The roles that hold ``permission``, least privileged first."""
    _check_known(permission)
    return tuple(r for r in Role if permission in ROLE_PERMISSIONS[r])


def allowed(user: User, permission: str) -> bool:
    """True when ``user`` is active and its role holds ``permission``."""
    _check_known(permission)
    return bool(user.active) and permission in ROLE_PERMISSIONS[parse_role(user.role)]


def require(user: User | None, permission: str) -> User:
    """Return ``user`` when it may exercise ``permission``; otherwise raise ``PermissionDenied``.

    The message names the user, the action and the roles that would be allowed, e.g.
    "operator 'ann' may not overturn verdicts: needs role reviewer or admin".
    """
    _check_known(permission)
    what = PERMISSIONS[permission]
    needed = " or ".join(r.value for r in roles_with(permission))
    if user is None:
        raise PermissionDenied(f"nobody is signed in: to {what} sign in as a user with role {needed}", permission)
    role = parse_role(user.role)
    if not user.active:
        raise PermissionDenied(f"user '{user.username}' is deactivated and may not {what}", permission)
    if permission not in ROLE_PERMISSIONS[role]:
        raise PermissionDenied(f"{role.value} '{user.username}' may not {what}: needs role {needed}", permission)
    return user


def matrix() -> list[tuple[str, str, dict[str, bool]]]:
    """(permission, description, {role: allowed}) rows, for docs and ``inspector users roles``."""
    return [(p, d, {r.value: p in ROLE_PERMISSIONS[r] for r in Role}) for p, d in PERMISSIONS.items()]


def _check_known(permission: str) -> None:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r} (known: {', '.join(PERMISSIONS)})")
