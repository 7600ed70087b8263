"""Refused actions through the facade (the CLI's and the app's one door): each is audited with who,
what and from where; failed sign-ins slow the source and never lock the only admin out."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from zone_support import ScratchBackend

from inspector.pipeline import Inspector
from inspector.settings import Settings
from inspector.trace import Accounts, Audit, AuthError, PermissionDenied, ReviewError, SignInThrottled

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def facade(tmp_path):
    f = Inspector(Settings(data_dir=tmp_path / "data", device="cpu", explain="off", station="st-1"),
                  backend=ScratchBackend())
    acc = Accounts(f.store, hasher=FAST)
    root = acc.create_user("root", "Rita Admin", "admin", "root-password-1", None)
    acc.create_user("olaf", "Olaf Op", "operator", "olaf-password-1", root)
    yield f
    f.close()


REFUSALS = [
    ("teach", lambda f: f.require("teach")),
    ("export", lambda f: f.require("export")),
    ("review.decide", lambda f: f.require("review.decide")),
    ("users.manage", lambda f: f.set_role("olaf", "admin")),
    ("users.manage", lambda f: f.change_account("unlock", "root")),
    ("reasons.manage", lambda f: f.add_reason_code("NEW-CODE", "a code", "reject")),
    ("retention.apply", lambda f: f.apply_retention(f.retention_policy(images_days=30), dry_run=True)),
]


@pytest.mark.parametrize("permission, act", REFUSALS, ids=[f"{r[0]}-{i}" for i, r in enumerate(REFUSALS)])
def test_every_permission_refusal_is_audited(facade, permission, act):
    facade.sign_in("olaf", "olaf-password-1")
    with pytest.raises(PermissionDenied):
        act(facade)
    ev = Audit(facade.store).events(action="permission.denied")
    assert ev and ev[-1].actor == "olaf" and ev[-1].entity_id == permission
    assert ev[-1].after["source"].startswith("local:") and ev[-1].after["source"].endswith("@st-1")


def test_not_signed_in_is_a_refusal_too(facade):
    with pytest.raises(PermissionDenied):
        facade.set_role("olaf", "reviewer")
    assert Audit(facade.store).events(action="permission.denied")[-1].after["message"].startswith("sign in first")


def test_wrong_passwords_never_lock_the_only_admin(facade):
    for _ in range(12):
        with pytest.raises(AuthError):
            facade.sign_in("root", "not-the-password")
    assert any(isinstance(e, SignInThrottled) for e in [_attempt(facade)])
    assert not {a.user.username: a for a in facade.accounts()}["root"].locked
    other = Accounts(facade.store, hasher=FAST)
    assert other.authenticate("root", "root-password-1", source="local:rita@console").username == "root"
    audit = Audit(facade.store)
    assert audit.events(action="auth.throttled") and audit.events(action="user.locked") == []


def _attempt(facade):
    try:
        facade.sign_in("root", "root-password-1")
    except AuthError as exc:
        return exc
    return None


def test_a_signature_cannot_claim_another_meaning(facade):
    with pytest.raises(ReviewError, match="not the defined meaning.*Accepted by Rita Admin"):
        facade.review("0" * 32, "accept", "FALSE-ALARM", "", username="root", password="root-password-1",
                      meaning="Approved for shipment by the CEO")
