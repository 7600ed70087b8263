"""The permission policy: one matrix, clear refusals."""

from __future__ import annotations

import pytest

from inspector.domain import Role, User
from inspector.trace import PERMISSIONS, PermissionDenied, allowed, parse_role, require, roles_with


def test_operator_may_not_overturn_verdicts_with_the_exact_message():
    ann = User("ann", "Ann Smith", Role.OPERATOR)
    with pytest.raises(PermissionDenied) as err:
        require(ann, "review.decide")
    assert str(err.value) == "operator 'ann' may not overturn verdicts: needs role reviewer or admin"


def test_matrix_minimum_permissions():
    for p in ("inspect", "teach", "review.decide", "users.manage", "retention.apply", "audit.verify",
              "export", "report"):
        assert p in PERMISSIONS
    assert roles_with("users.manage") == (Role.ADMIN,)
    assert roles_with("retention.apply") == (Role.ADMIN,)
    assert roles_with("review.decide") == (Role.REVIEWER, Role.ADMIN)
    assert roles_with("review.ok_parts") == (Role.REVIEWER, Role.ADMIN)  # QA corrects escapes
    assert roles_with("inspect") == (Role.OPERATOR, Role.REVIEWER, Role.ADMIN)
    admin = User("root", "R", Role.ADMIN)
    assert all(allowed(admin, p) for p in PERMISSIONS)


def test_deactivated_user_and_nobody_are_refused():
    with pytest.raises(PermissionDenied, match="deactivated"):
        require(User("x", "X", Role.ADMIN, active=False), "report")
    with pytest.raises(PermissionDenied, match="nobody is signed in"):
        require(None, "inspect")
    with pytest.raises(PermissionDenied, match="needs role admin"):
        require(User("bob", "Bob", Role.REVIEWER), "users.manage")


def test_unknown_permission_and_role_are_programming_errors():
    with pytest.raises(KeyError, match="unknown permission"):
        require(User("x", "X", Role.ADMIN), "fly")
    with pytest.raises(ValueError, match="use one of operator, reviewer, admin"):
        parse_role("boss")
    assert parse_role(" Reviewer ") is Role.REVIEWER
