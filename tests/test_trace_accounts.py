"""Accounts: bootstrap, argon2id hashes (never plaintext), sign-in, throttling (never a lockout), recovery, admin-only changes."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select, text
from trace_support import *  # noqa: F403 - pytest fixtures
from trace_support import ADMIN_PW, FAST_HASHER, OPERATOR_PW, REVIEWER_PW

from inspector.domain import Role, User
from inspector.store.trace_tables import UserRow
from inspector.trace import (
    AccountError,
    AccountLockedError,
    Accounts,
    Audit,
    AuthError,
    PermissionDenied,
    SignInThrottled,
)


def test_bootstrap_first_admin_without_auth_then_admin_only(accounts):
    assert not accounts.has_users()
    with pytest.raises(AccountError, match="first user must be an admin"):
        accounts.create_user("olaf", "Olaf Op", "operator", OPERATOR_PW, None)
    admin = accounts.create_user("Root", "Rita Admin", "admin", ADMIN_PW, None)
    assert admin == User("root", "Rita Admin", Role.ADMIN, True)
    with pytest.raises(PermissionDenied, match="sign in as an admin"):
        accounts.create_user("eve", "Eve", "admin", "eve-password-1", None)
    ann = accounts.create_user("ann", "Ann Smith", "reviewer", REVIEWER_PW, admin)
    with pytest.raises(PermissionDenied, match="reviewer 'ann' may not manage users: needs role admin"):
        accounts.create_user("bob", "Bob", "reviewer", "bob-password-1", ann)
    with pytest.raises(AccountError, match="exists already"):
        accounts.create_user("ann", "Ann Again", "reviewer", REVIEWER_PW, admin)
    events = Audit(accounts._engine).events(action="user.created")
    assert [(e.actor, e.entity_id, e.after["bootstrap"]) for e in events] == [
        ("bootstrap", "root", True), ("root", "ann", False)]


def test_password_is_salted_argon2id_never_plaintext(store, people):
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT username, password_hash FROM users ORDER BY username")).all()
        dump = " ".join(str(v) for r in conn.execute(text("SELECT * FROM users")).all() for v in r)
        audit_dump = " ".join(str(v) for r in conn.execute(text("SELECT * FROM audit_events")).all() for v in r)
    hashes = {u: h for u, h in rows}
    assert all(h.startswith("$argon2id$") for h in hashes.values())
    for pw in (ADMIN_PW, REVIEWER_PW, OPERATOR_PW):
        assert pw not in dump and pw not in audit_dump
    # same password, two users -> different hashes (random salt)
    acc = Accounts(store, hasher=FAST_HASHER)
    acc.create_user("ann2", "Ann Two", "reviewer", REVIEWER_PW, people["admin"])
    with store.engine.connect() as conn:
        h2 = conn.execute(text("SELECT password_hash FROM users WHERE username='ann2'")).scalar()
    assert h2 != hashes["ann"]


def test_default_hasher_is_argon2id_with_strong_parameters(store):
    acc = Accounts(store)  # product defaults
    acc.create_user("root", "Rita Admin", "admin", ADMIN_PW, None)
    with store.engine.connect() as conn:
        h = conn.execute(text("SELECT password_hash FROM users")).scalar()
    assert h.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert acc.authenticate("root", ADMIN_PW).role is Role.ADMIN


def test_authenticate_ok_wrong_unknown_and_weak_passwords(accounts, people):
    assert accounts.authenticate("ANN", REVIEWER_PW) == people["reviewer"]
    with pytest.raises(AuthError, match="wrong user name or password"):
        accounts.authenticate("ann", "not-her-password")
    with pytest.raises(AuthError, match="^wrong user name or password$"):
        accounts.authenticate("nobody", "whatever-pw")
    with pytest.raises(AccountError, match="too short"):
        accounts.create_user("tim", "Tim", "operator", "short", people["admin"])
    with pytest.raises(AccountError, match="full name"):
        accounts.create_user("tim", "  ", "operator", "long-enough-1", people["admin"])
    failed = Audit(accounts._engine).events(action="auth.failed")
    assert [(e.entity_id, e.after["reason"]) for e in failed] == [
        ("ann", "wrong password"), ("?", "unknown user name")]


def test_failed_sign_ins_slow_their_source_and_never_lock_the_account(store, people):
    acc = Accounts(store, hasher=FAST_HASHER, free_attempts=2, base_delay_s=60)
    eve = "local:eve@station-1"
    for _ in range(2):
        with pytest.raises(AuthError) as err:
            acc.authenticate("root", "guess-1234", source=eve)
        assert not isinstance(err.value, SignInThrottled | AccountLockedError)
    with pytest.raises(SignInThrottled, match="wait 60 s") as err:  # the password is not even checked
        acc.authenticate("root", ADMIN_PW, source=eve)
    assert 55 < err.value.retry_after_s <= 60
    # the owner, from another source, is not slowed and the account was never locked
    assert acc.authenticate("root", ADMIN_PW, source="local:rita@station-1").username == "root"
    info = {a.user.username: a for a in acc.list_accounts()}["root"]
    assert not info.locked and info.failed_attempts == 0
    audit = Audit(store)
    assert [e.after["source"] for e in audit.events(action="auth.failed")] == [eve, eve]
    throttled = audit.events(action="auth.throttled")
    assert [(e.entity_id, e.after["source"], e.after["failures"]) for e in throttled] == [("root", eve, 2)]
    assert audit.events(action="user.locked") == []
    # a success starts a new window: the source gets its free attempts again
    with pytest.raises(AuthError) as err:
        acc.authenticate("root", "guess-5678", source=eve)
    assert not isinstance(err.value, SignInThrottled)
    assert audit.verify().ok


def test_the_wait_grows_and_ends(store, people):
    acc = Accounts(store, hasher=FAST_HASHER, free_attempts=1, base_delay_s=0.2, max_delay_s=0.4)
    with pytest.raises(AuthError):
        acc.authenticate("ann", "wrong-1", source="s")
    with pytest.raises(SignInThrottled):
        acc.authenticate("ann", REVIEWER_PW, source="s")
    time.sleep(0.25)
    with pytest.raises(AuthError) as err:  # allowed again after the wait, and wrong again
        acc.authenticate("ann", "wrong-2", source="s")
    assert not isinstance(err.value, SignInThrottled)
    with pytest.raises(SignInThrottled) as err:
        acc.authenticate("ann", REVIEWER_PW, source="s")
    assert 0.25 < err.value.retry_after_s <= 0.4  # doubled, capped
    time.sleep(0.45)
    assert acc.authenticate("ann", REVIEWER_PW, source="s").username == "ann"


def test_unknown_names_are_throttled_per_source_too(store, people):
    acc = Accounts(store, hasher=FAST_HASHER, free_attempts=2, base_delay_s=60)
    for name in ("mallory", "trudy"):
        with pytest.raises(AuthError, match="wrong user name or password"):
            acc.authenticate(name, "whatever-1", source="x")
    with pytest.raises(SignInThrottled):
        acc.authenticate("oscar", "whatever-1", source="x")
    assert acc.authenticate("ann", REVIEWER_PW, source="x").username == "ann"  # real accounts count apart


def test_a_locked_account_is_refused_audited_and_unlocked_by_an_admin(store, people):
    acc = Accounts(store, hasher=FAST_HASHER)
    with store.engine.begin() as conn:  # locked by an admin tool or an older Inspector
        conn.execute(text("UPDATE users SET locked = :v WHERE username = 'ann'"), {"v": True})
    with pytest.raises(AccountLockedError, match="inspector users unlock ann"):
        acc.authenticate("ann", REVIEWER_PW)
    assert Audit(store).events(action="auth.failed")[-1].after["reason"] == "account locked"
    with pytest.raises(PermissionDenied):
        acc.unlock("ann", people["operator"])
    acc.unlock("ann", people["admin"])
    assert acc.authenticate("ann", REVIEWER_PW).username == "ann"
    assert Audit(store).events(action="user.unlocked")[0].actor == "root"


def test_recovery_resets_an_admin_and_is_audited(store, people):
    acc = Accounts(store, hasher=FAST_HASHER, free_attempts=1, base_delay_s=60)
    with pytest.raises(AuthError):
        acc.authenticate("root", "forgotten-1", source="local:rita@st")
    with pytest.raises(SignInThrottled):
        acc.authenticate("root", "forgotten-2", source="local:rita@st")
    with pytest.raises(AccountError, match="not an admin account"):
        acc.recover("ann", "new-password-1", by="local-recovery:x@st")
    acc.recover("root", "brand-new-pass-1", by="local-recovery:rita@st")
    assert acc.authenticate("root", "brand-new-pass-1", source="local:rita@st").username == "root"
    ev = Audit(store).events(action="user.recovered")
    assert [(e.actor, e.entity_id, e.after["password_reset"]) for e in ev] == [
        ("local-recovery:rita@st", "root", True)]
    assert Audit(store).verify().ok


def test_deactivated_user_is_refused_and_last_admin_is_protected(accounts, people):
    admin = people["admin"]
    accounts.deactivate("olaf", admin)
    with pytest.raises(AuthError, match="deactivated"):
        accounts.authenticate("olaf", OPERATOR_PW)
    with pytest.raises(PermissionDenied, match="deactivated"):
        accounts.current(people["operator"])  # a User object from before does not help
    with pytest.raises(AccountError, match="last active admin"):
        accounts.deactivate("root", admin)
    with pytest.raises(AccountError, match="last active admin"):
        accounts.set_role("root", "reviewer", admin)
    accounts.reactivate("olaf", admin)
    assert accounts.authenticate("olaf", OPERATOR_PW).active
    assert [u.username for u in accounts.list_users()] == ["ann", "olaf", "root"]


def test_role_change_takes_effect_immediately_and_forged_users_gain_nothing(accounts, people):
    accounts.set_role("ann", "operator", people["admin"])
    stale = people["reviewer"]  # still says reviewer
    assert accounts.current(stale).role is Role.OPERATOR
    forged = User("ann", "Ann Smith", Role.ADMIN)
    with pytest.raises(PermissionDenied, match="operator 'ann' may not manage users"):
        accounts.create_user("mal", "Mal", "admin", "mal-password-1", forged)
    ev = Audit(accounts._engine).events(action="user.role_changed")[0]
    assert (ev.before, ev.after, ev.actor) == ({"role": "reviewer"}, {"role": "operator"}, "root")


def test_set_password_self_or_admin_only(accounts, people):
    accounts.change_own_password("olaf", OPERATOR_PW, "new-operator-pw")
    assert accounts.authenticate("olaf", "new-operator-pw")
    with pytest.raises(PermissionDenied):
        accounts.set_password("ann", "hijacked-pw-1", people["operator"])
    accounts.set_password("ann", "reset-by-admin-1", people["admin"])
    assert accounts.authenticate("ann", "reset-by-admin-1")
    events = Audit(accounts._engine).events(action="user.password_changed")
    assert [(e.entity_id, e.after["by"]) for e in events] == [("olaf", "self"), ("ann", "admin")]
    assert all(len(e.after["credential"]) == 64 for e in events)  # a digest of the new hash, never the hash


def test_users_are_never_deleted_nor_renamed_in_the_database(store, people):
    from sqlalchemy.exc import DatabaseError

    with pytest.raises(DatabaseError, match="never deleted"):
        with store.engine.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE username = 'olaf'"))
    with pytest.raises(DatabaseError, match="never changes"):
        with store.engine.begin() as conn:
            conn.execute(text("UPDATE users SET username = 'olga' WHERE username = 'olaf'"))
    with store.engine.connect() as conn:
        assert conn.execute(select(UserRow.username).order_by(UserRow.username)).scalars().all() == [
            "ann", "olaf", "root"]
