"""The tamper list (issue 12, point 4): each kind of tampering done for real on a real station's
SQLite database and files, and ``inspector audit verify`` must find it (exit 1, naming it).
Kinds verify cannot see on its own are tested for what does catch them (``--expect-head``).
The PostgreSQL kinds are in ``test_tamper_postgres.py``; the list with reasons is in
docs/reliability.md ("An audit that covers what decides a verdict").
"""

from __future__ import annotations

import json
from datetime import timedelta

import cv2
import pytest
from tamper_support import GUARDED, PASSWORDS, build_station, found, query, sql, verify

from inspector.canonical import canonical_text, sha256_hex
from inspector.pipeline import Inspector
from inspector.store.errors import ImageAlteredError
from inspector.trace import AuthError, SignInThrottled
from inspector.trace.chain import event_hash


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_station(tmp_path_factory.mktemp("tamper"))


@pytest.fixture
def station(built, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for k in ("INSPECTOR_CONFIG", "INSPECTOR_PASSWORD", "INSPECTOR_OPERATOR"):
        monkeypatch.delenv(k, raising=False)
    built.restore()
    return built


def _copy_row(station, table: str, key: str, value: str, changes: dict[str, str]) -> str:
    """INSERT ... SELECT copying one row of ``table`` with some columns replaced (SQL expressions);
    an autoincrement ``id`` is left to the database, a text id must be in ``changes``."""
    cols = [r[1] for r in query(station.db, f"PRAGMA table_info({table})") if r[1] != "id" or "id" in changes]
    exprs = [changes.get(c, c) for c in cols]
    return f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(exprs)} FROM {table} WHERE {key} = '{value}'"


# (kind, SQL statements with {ok} {ok2} {ng} {img} placeholders, phrase verify must report)
SQL_CASES = [
    ("inspection verdict NG -> OK", ["UPDATE inspections SET verdict = 'OK' WHERE id = '{ng}'"],
     "verdict 'NG' -> 'OK'"),
    ("inspection's findings deleted", ["DELETE FROM findings WHERE inspection_id = '{ng}'"], "findings 1 -> 0"),
    ("finding size shrunk (length_mm / 10)",
     ["UPDATE findings SET length_mm = length_mm / 10, width_mm = width_mm / 10 WHERE inspection_id = '{ng}'"],
     "was altered after it was recorded"),
    ("finding type changed", ["UPDATE findings SET defect_type = 'stain' WHERE inspection_id = '{ng}'"],
     "was altered after it was recorded"),
    ("image score lowered", ["UPDATE inspections SET image_score = 0.01 WHERE id = '{ng}'"],
     "was altered after it was recorded"),
    ("recorded thresholds changed", ["""UPDATE inspections SET thresholds = '{"threshold": 9.0}' WHERE id = '{ng}'"""],
     "was altered after it was recorded"),
    ("part id changed", ["UPDATE inspections SET part_id = 'BR-100-FAKE' WHERE id = '{ok}'"], "part id"),
    ("re-judge link forged", ["UPDATE inspections SET reinspects_id = '{ok}' WHERE id = '{ok2}'"], "re-judges"),
    ("lot changed", ["UPDATE inspections SET lot = 'L-OTHER' WHERE id = '{ok}'"], "was altered after it was recorded"),
    ("work-order version of a record changed", ["UPDATE inspections SET work_order_version = 9 WHERE id = '{ok}'"],
     "work order/version"),
    ("image of a record swapped", ["UPDATE inspections SET image_sha256 = '{img}' WHERE id = '{ok}'"], "image"),
    ("inspection deleted", ["DELETE FROM inspections WHERE id = '{ok}'"], "is missing and no retention run removed it"),
    ("audit event edited (no rehash)",
     ["UPDATE audit_events SET after = replace(after, '\"NG\"', '\"OK\"') WHERE entity_id = '{ng}' "
      "AND action = 'inspection.recorded'"], "its content no longer matches its hash"),
    ("audit event deleted", ["DELETE FROM audit_events WHERE action = 'model.taught'"], "missing: sequence jumps"),
    ("audit events re-ordered",
     ["UPDATE audit_events SET seq = -1 WHERE seq = 2", "UPDATE audit_events SET seq = 2 WHERE seq = 3",
      "UPDATE audit_events SET seq = 3 WHERE seq = -1"], "does not link to the event before it"),
    ("work-order clause limit changed",
     ["UPDATE work_orders SET clauses = replace(clauses, '1.0', '5.0')"], "was changed after it was loaded"),
    ("work-order limit changed and its content hash rewritten",
     ["UPDATE work_orders SET clauses = replace(clauses, '1.0', '5.0'), content_sha256 = '{fake_sha}'"],
     "was changed after it was loaded"),
    ("work-order text changed", ["UPDATE work_orders SET source_text = source_text || ' (amended)'"],
     "was changed after it was loaded"),
    ("work-order version renumbered", ["UPDATE work_orders SET version = 7"], "version 1 (loaded in event"),
    ("reference threshold raised in the database",
     ["UPDATE teach_references SET threshold = threshold * 3"], "was changed after it was taught"),
    ("review decision changed", ["UPDATE reviews SET decision = 'accept'"], "was altered after signing"),
    ("review reason and comment changed", ["UPDATE reviews SET reason_code = 'COSMETIC', comment = 'fine'"],
     "was altered after signing"),
    ("review signer changed", ["UPDATE reviews SET reviewer = 'root', reviewer_name = 'Rita Admin'"],
     "was altered after signing"),
    ("review signing time changed", ["UPDATE reviews SET signed_at = '2020-01-01 00:00:00.000000'"],
     "was altered after signing"),
    ("review signature meaning changed",
     ["UPDATE reviews SET signature_meaning = 'Accepted by Ann Smith (reviewer): use as is'"],
     "was altered after signing"),
    ("signature record's role changed", ["UPDATE review_signatures SET signer_role = 'admin'"],
     "was altered after signing"),
    ("review deleted", ["DELETE FROM review_signatures", "DELETE FROM reviews"],
     "is missing and no retention run removed it"),
    ("role escalation (operator -> admin)", ["UPDATE users SET role = 'admin' WHERE username = 'olaf'"],
     "the role of user 'olaf'"),
    ("deactivated flag flipped", ["UPDATE users SET active = 0 WHERE username = 'ann'"], "the active of user 'ann'"),
    ("printed name of a signer changed", ["UPDATE users SET full_name = 'Somebody Else' WHERE username = 'ann'"],
     "the full name of user 'ann'"),
    ("password hash swapped (admin's := operator's)",
     ["UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE username = 'olaf') "
      "WHERE username = 'root'"], "the password hash of user 'root'"),
    ("user deleted", ["DELETE FROM users WHERE username = 'ann'"], "user 'ann' is missing"),
    ("append-only trigger dropped", ["DROP TRIGGER trg_inspections_no_delete"],
     "append-only guard trg_inspections_no_delete is missing"),
    ("retention log row forged",
     ["INSERT INTO retention_items (audit_seq, kind, key, content_sha256, size_bytes) "
      "VALUES (1, 'inspection', '{ok}', '{fake_sha}', 1)"], "retention log rows name event #1"),
]


@pytest.mark.parametrize("kind,statements,phrase", SQL_CASES, ids=[c[0] for c in SQL_CASES])
def test_sql_tampering_is_found(station, kind, statements, phrase):
    ids = {"{ok}": station.ok_id, "{ok2}": station.ok2_id, "{ng}": station.ng_id, "{img}": station.ng_image,
           "{fake_sha}": "ab" * 32}
    texts = []
    for stmt in statements:
        for k, v in ids.items():
            stmt = stmt.replace(k, v)
        texts.append(stmt)
    sql(station.db, *texts, guards=() if kind.startswith("append-only") else GUARDED)
    rc, report = verify(station)
    assert rc == 1 and found(report, phrase), (kind, report["problems"])


def test_the_untouched_station_verifies_clean(station):
    rc, report = verify(station)
    assert rc == 0 and report["problems"] == [] and report["warnings"] == [], report
    actions = {e[0] for e in query(station.db, "SELECT action FROM audit_events")}
    assert {"inspection.recorded", "records.sealing_started", "settings.recorded", "model.taught"} <= actions


def test_inserted_inspection_finding_user_and_review_are_found(station):
    insert = [
        _copy_row(station, "inspections", "id", station.ok_id, {"id": "'f' || substr(id, 2)"}),
        _copy_row(station, "findings", "inspection_id", station.ng_id, {"inspection_id": f"'{station.ok_id}'"}),
        _copy_row(station, "users", "username", "olaf", {"username": "'mallory'", "role": "'admin'"}),
        _copy_row(station, "reviews", "inspection_id", station.ng_id, {"comment": "'second opinion'"}),
    ]
    sql(station.db, *insert)
    rc, report = verify(station)
    assert rc == 1
    assert found(report, "has no inspection.recorded event: it was inserted outside the station")
    assert found(report, f"inspection {station.ok_id} (part")  # the OK record gained a finding
    assert found(report, "user 'mallory' (role admin) has no user.created event")
    assert found(report, "has no review.decided event")


def test_an_event_inserted_into_the_chain_is_found(station):
    rows = query(station.db, "SELECT seq, at, actor, action, entity, entity_id, before, after, prev_hash, hash "
                             "FROM audit_events ORDER BY seq")
    k = len(rows) // 2
    forged = (rows[k][0], rows[k][1], "root", "user.role_changed", "user", "olaf", None, '{"role":"admin"}',
              rows[k - 1][9], "0" * 64)
    stmts = ["UPDATE audit_events SET seq = seq + 100000 WHERE seq >= ?", ]
    sql(station.db, *stmts, params=(rows[k][0],))
    sql(station.db, "UPDATE audit_events SET seq = seq - 100000 + 1 WHERE seq >= 100000")
    sql(station.db, "INSERT INTO audit_events (seq, at, actor, action, entity, entity_id, before, after, prev_hash, "
                    "hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", params=forged)
    rc, report = verify(station)
    assert rc == 1 and found(report, "does not link to the event before it"), report["problems"]


def test_a_cut_off_tail_is_found_and_named_with_the_recorded_head(station):
    _, report = verify(station)
    head = f"{report['head_seq']}:{report['head_hash']}"
    sql(station.db, "DELETE FROM audit_events WHERE seq = (SELECT max(seq) FROM audit_events)")
    rc, report = verify(station)
    assert rc == 1  # the last event was the signature's: its review now has none
    rc, report = verify(station, "--expect-head", head)
    assert rc == 1 and found(report, "is gone: the trail ends at"), report["problems"]


def test_a_database_rolled_back_to_an_older_copy_needs_the_recorded_head(station):
    """Outside what the database alone can prove: a whole older copy is consistent in itself."""
    old = station.db.read_bytes()
    with Inspector(station.settings()) as f:
        f.sign_in("root", PASSWORDS["root"])
        f.set_role("olaf", "reviewer")
    _, report = verify(station)
    head = f"{report['head_seq']}:{report['head_hash']}"
    for suffix in ("-wal", "-shm"):
        station.db.with_name(station.db.name + suffix).unlink(missing_ok=True)
    station.db.write_bytes(old)
    assert verify(station)[0] == 0
    rc, report = verify(station, "--expect-head", head)
    assert rc == 1 and found(report, "is gone: the trail ends at"), report["problems"]


def test_a_rewritten_chain_with_recomputed_hashes_needs_the_recorded_head(station):
    """Outside what the trail alone can prove: someone who recomputes every hash from an edited event
    on. Caught by the head written down before (``audit head`` on a report or in the shift log)."""
    _, before = verify(station)
    head = f"{before['head_seq']}:{before['head_hash']}"
    rows = query(station.db, "SELECT seq, at, actor, action, entity, entity_id, before, after, prev_hash, hash "
                             "FROM audit_events ORDER BY seq")
    from datetime import UTC, datetime
    stmts, prev = [], None
    for seq, at, actor, action, entity, eid, b, a, prev_hash, _ in rows:
        if prev is not None:
            prev_hash = prev
        if action == "user.created" and eid == "olaf":
            a = a.replace('"operator"', '"admin"')
        when = datetime.fromisoformat(at).replace(tzinfo=UTC)
        h = event_hash(seq, when, actor, action, entity, eid, b, a, prev_hash)
        stmts.append((a, prev_hash, h, seq))
        prev = h
    conn_stmts = [f"UPDATE audit_events SET after = {_q(a)}, prev_hash = '{p}', hash = '{h}' WHERE seq = {s}"
                  for a, p, h, s in stmts]
    sql(station.db, "UPDATE users SET role = 'admin' WHERE username = 'olaf'", *conn_stmts)
    rc, report = verify(station)
    assert rc == 0  # consistent forgery: the trail alone cannot tell
    rc, report = verify(station, "--expect-head", head)
    assert rc == 1 and found(report, "history was rewritten"), report["problems"]


def _q(text: str | None) -> str:
    return "NULL" if text is None else "'" + text.replace("'", "''") + "'"


def _image_path(station):
    return next(station.data.joinpath("images").glob(f"??/??/{station.ng_image}.*"))


@pytest.mark.parametrize("how", ["replaced", "truncated", "deleted"])
def test_a_stored_image_changed_on_disk_is_found_by_verify_and_on_read(station, how):
    path = _image_path(station)
    if how == "replaced":
        img = cv2.imread(str(path))
        img[:40, :40] = 255  # the defect painted over
        path.write_bytes(cv2.imencode(".png", img)[1].tobytes())
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[:1000])
    else:
        path.unlink()
    rc, report = verify(station)
    phrase = "missing from the image store" if how == "deleted" else "was replaced or damaged"
    assert rc == 1 and found(report, phrase), report["problems"]
    assert verify(station, "--skip-images")[0] == 0  # only the image check sees it
    if how != "deleted":
        with Inspector(station.settings()) as f, pytest.raises(ImageAlteredError, match="no longer matches"):
            f.image(f.store.get_inspection(station.ng_id))  # hashed on every read


def test_reference_files_changed_or_removed_on_disk_are_found(station):
    folder = next(station.data.joinpath("references").iterdir())
    meta = json.loads((folder / "reference.json").read_text())
    meta["calibration"]["threshold"] *= 3  # three times as lenient: every verdict moves
    (folder / "reference.json").write_text(json.dumps(meta, indent=1, sort_keys=True))
    rc, report = verify(station)
    assert rc == 1 and found(report, "were changed on disk after it was taught"), report["problems"]
    station.restore()
    for p in folder.iterdir():
        p.unlink()
    folder.rmdir()
    rc, report = verify(station)
    assert rc == 1 and found(report, "is missing: the part cannot be judged as taught"), report["problems"]


def test_a_swapped_password_hash_lets_the_operator_in_as_admin_and_verify_says_so(station):
    sql(station.db, "UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE username = 'olaf') "
                    "WHERE username = 'root'")
    with Inspector(station.settings()) as f:
        assert f.sign_in("root", PASSWORDS["olaf"]).role.value == "admin"  # why it matters
    rc, report = verify(station)
    assert rc == 1 and found(report, "the password hash of user 'root'"), report["problems"]


def test_settings_edited_outside_the_app_are_reported_and_recorded(station):
    text = station.config.read_text() + "max_image_pixels: 50000000\n"
    station.config.write_text(text)
    rc, report = verify(station)
    assert rc == 0 and found(report, "differ from those recorded in event", "warnings"), report
    with Inspector(station.settings()) as f:
        f.record_settings()  # what every run does first
        event = f.audit_events(action="settings.recorded")[-1]
    assert event.after["outside_app"] == ["max_image_pixels"] and event.after["values"]["max_image_pixels"] == 50_000_000
    rc, report = verify(station)
    assert rc == 0 and found(report, "changed outside the app before the run recorded in event", "warnings")
    assert not found(report, "differ from those recorded", "warnings")


def test_settings_saved_through_the_app_are_not_outside_it(station):
    with Inspector(station.settings()) as f:
        from dataclasses import replace

        f.save_settings(replace(f.settings, part_settle_frames=5), station.config)
    with Inspector(station.settings()) as f:
        f.record_settings()
        assert f.audit_events(action="settings.recorded")[-1].after["outside_app"] == []


def test_a_station_clock_running_backwards_is_a_warning(station, monkeypatch):
    import inspector.trace.audit as audit_module

    real = audit_module.utcnow
    monkeypatch.setattr(audit_module, "utcnow", lambda: real() - timedelta(hours=2))
    with Inspector(station.settings()) as f, pytest.raises(AuthError):
        f.sign_in("olaf", "wrong-password-0")  # audited with the clock two hours behind
    monkeypatch.setattr(audit_module, "utcnow", real)
    rc, report = verify(station)
    assert rc == 0 and found(report, "a station clock is behind", "warnings"), report


def test_the_station_s_own_later_writes_keep_it_clean(station):
    """Not tampering: sign-ins, a new user and a role change through the facade verify clean."""
    with Inspector(station.settings()) as f:
        f.sign_in("root", PASSWORDS["root"])
        f.create_user("eve", "Eve Example", "operator", "eve-password-1")
        f.set_role("eve", "reviewer")
    rc, report = verify(station)
    assert rc == 0 and report["problems"] == [], report


def test_every_refusal_is_audited(station):
    """Refused actions leave events: wrong password, unknown name, a permission the role lacks."""
    with Inspector(station.settings()) as f:
        with pytest.raises(AuthError):
            f.sign_in("ann", "not-her-password")
        with pytest.raises(AuthError):
            f.sign_in("nobody", "whatever-password")
        refusals = []
        for _ in range(4):  # 3 free failures per source, then the source must wait
            try:
                f.sign_in("ann", "still-not-her-password")
            except AuthError as exc:
                refusals.append(type(exc))
        assert refusals[-1] is SignInThrottled, refusals
        f.sign_in("olaf", PASSWORDS["olaf"])
        with pytest.raises(Exception, match="may not"):
            f.set_role("olaf", "admin")
        with pytest.raises(Exception, match="may not|needs role"):
            f.teach("BR-100", [])
        events = [(e.action, e.entity_id, e.actor) for e in f.audit_events(after_seq=0)]
    assert ("auth.failed", "ann", "ann") in events and ("auth.failed", "?", "system") in events
    assert ("auth.throttled", "ann", "ann") in events
    denied = [e for e in events if e[0] == "permission.denied"]
    assert len(denied) == 2 and all(e[2] == "olaf" for e in denied), denied
    assert verify(station)[0] == 0


def test_digest_is_what_the_doc_says(station):
    """The record digest can be recomputed by hand from the stored row (docs/reliability.md)."""
    conn_rows = query(station.db, "SELECT after FROM audit_events WHERE action = 'inspection.recorded' "
                                  "AND entity_id = ?", (station.ok_id,))
    recorded = json.loads(conn_rows[0][0])["digest"]
    with Inspector(station.settings()) as f:
        with f.store.engine.connect() as conn:
            from inspector.trace.records import inspection_digest, read_records

            row, findings = read_records(conn, [station.ok_id])[0]
    body = {"v": 1, "inspection": {k: v for k, v in row.items() if v is not None}, "findings": []}
    body["inspection"] = {k: (v.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if hasattr(v, "strftime") else v)
                          for k, v in body["inspection"].items()}
    assert sha256_hex(canonical_text(body)) == recorded == inspection_digest(row, findings)
