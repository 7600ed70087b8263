"""``verify``'s checks of what a verdict is judged against, and of who may act: work orders,
taught references (rows and files on disk) and accounts, each against the events that changed them.

- **Work orders**: each ``workorder.loaded`` event names the stored version and the digest of
  its row (clauses, limits, text, version; every column but the surrogate id). A row that no
  longer matches, a named version that is gone, a row whose content no longer hashes to its
  ``content_sha256``, or (once records are sealed) a version with no load event, is a problem.
- **References**: each ``model.taught`` event names the reference version, its thresholds, the
  digest of its row and of its files (``reference_files_digest``: name, size and SHA-256 of every
  file in the reference folder). The thresholds and files are what the model judges with: a
  changed row, or a folder whose files match none of the part's teaches, is a problem.
- **Accounts**: replaying ``user.*`` events gives every account's role, active flag, lock and
  full name, and the digest of its password hash (``credential``: SHA-256 of the stored PHC string,
  which reveals nothing the database does not hold). A row that differs, a user with no
  ``user.created`` event, or a created user whose row is gone, is a problem.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from inspector.canonical import canonical_text, sha256_hex
from inspector.store import convert
from inspector.store.tables import ReferenceRow, WorkOrderRow
from inspector.store.trace_tables import AuditEventRow, UserRow
from inspector.trace import _db
from inspector.trace.records import STARTED, file_sha256, row_digest

Problem = tuple[int | None, str]

# what each user.* event sets (the keys of its ``after`` that describe the account)
USER_FIELDS = ("full_name", "role", "active", "locked", "credential")


def credential_digest(password_hash: str | None) -> str:
    """SHA-256 of a stored password hash string: lets verify see a swapped hash without recording it."""
    return sha256_hex(password_hash or "")


def reference_files_digest(folder: str | Path) -> str | None:
    """Digest of the files of a taught reference (name, size, SHA-256 of each file in the folder,
    sorted by name; dot files left out); None when there is no such folder."""
    folder = Path(folder)
    if not str(folder) or not folder.is_dir():
        return None
    files = [[p.name, p.stat().st_size, file_sha256(p)] for p in sorted(folder.iterdir())
             if p.is_file() and not p.name.startswith(".")]
    return sha256_hex(canonical_text(files))


def _after(text: str | None) -> dict[str, Any]:
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _events(s: Any, *actions: str) -> list[tuple[int, str, str, dict[str, Any]]]:
    t = AuditEventRow
    rows = s.execute(select(t.seq, t.action, t.entity_id, t.after).where(t.action.in_(actions)).order_by(t.seq))
    return [(seq, action, eid, _after(after)) for seq, action, eid, after in rows]


def check_state(engine: Any) -> tuple[list[Problem], list[str]]:
    """Problems and warnings about work orders, references and accounts."""
    problems: list[Problem] = []
    warnings: list[str] = []
    with _db.read_session(engine) as s:
        strict = s.scalar(select(AuditEventRow.seq).where(AuditEventRow.action == STARTED).limit(1)) is not None
        _check_work_orders(s, strict, problems, warnings)
        _check_references(s, strict, problems, warnings)
        _check_users(s, problems)
    return problems, warnings


def _unrecorded(strict: bool, problems: list[Problem], warnings: list[str], text: str) -> None:
    if strict:
        problems.append((None, text + ": it was inserted outside the station"))
    else:
        warnings.append(text + " (stored outside the station's audited load, or by an older version)")


def _check_work_orders(s: Any, strict: bool, problems: list[Problem], warnings: list[str]) -> None:
    loaded: dict[tuple[str, int], tuple[int, str | None]] = {}
    for seq, _, order_id, after in _events(s, "workorder.loaded"):
        if isinstance(after.get("version"), int):
            key = (order_id, after["version"])
            if after.get("row_sha256") or key not in loaded:
                loaded[key] = (seq, after.get("row_sha256"))
    seen: set[tuple[str, int]] = set()
    for row in s.scalars(select(WorkOrderRow).order_by(WorkOrderRow.order_id, WorkOrderRow.version)):
        key = (row.order_id, row.version)
        seen.add(key)
        name = f"work order {row.order_id} version {row.version}"
        values = {c.key: getattr(row, c.key) for c in WorkOrderRow.__table__.columns}
        seq, digest = loaded.get(key, (None, None))
        if digest is None and not _content_ok(row):  # no row digest recorded: the content hash at least
            problems.append((seq, f"{name} was changed after it was loaded: its clauses, limits or text no "
                                  "longer hash to its content_sha256"))
        if key not in loaded:
            _unrecorded(strict, problems, warnings, f"{name} has no workorder.loaded event")
        elif digest is not None and digest != row_digest(values):
            problems.append((seq, f"{name} was changed after it was loaded (event #{seq}): its clauses, limits, "
                                  "text or version no longer match what was loaded"))
    for key, (seq, digest) in sorted(loaded.items(), key=lambda kv: kv[1][0]):
        if digest is not None and key not in seen:
            problems.append((seq, f"work order {key[0]} version {key[1]} (loaded in event #{seq}) is missing: "
                                  "it was deleted or renumbered"))


def _content_ok(row: WorkOrderRow) -> bool:
    try:
        return convert.work_order_sha256(convert.work_order_from_row(row)) == row.content_sha256
    except Exception:  # noqa: BLE001 - clauses that no longer parse: certainly not what was loaded
        return False


def _check_references(s: Any, strict: bool, problems: list[Problem], warnings: list[str]) -> None:
    taught: dict[tuple[str, int], tuple[int, dict[str, Any]]] = {}
    files: dict[str, set[str]] = {}
    for seq, _, part, after in _events(s, "model.taught"):
        if isinstance(after.get("version"), int):
            taught[part, after["version"]] = (seq, after)
        if after.get("files_sha256"):
            files.setdefault(part, set()).add(after["files_sha256"])
    latest: dict[str, ReferenceRow] = {}
    for row in s.scalars(select(ReferenceRow).order_by(ReferenceRow.part_number, ReferenceRow.version)):
        latest[row.part_number] = row
        name = f"the reference of part {row.part_number} version {row.version}"
        if (row.part_number, row.version) not in taught:
            _unrecorded(strict, problems, warnings, f"{name} has no model.taught event")
            continue
        seq, after = taught[row.part_number, row.version]
        values = {c.key: getattr(row, c.key) for c in ReferenceRow.__table__.columns}
        if after.get("row_sha256"):
            bad = after["row_sha256"] != row_digest(values)
        else:  # recorded before row digests: the thresholds the event names
            bad = any(k in after and after[k] != values[k] for k in ("threshold", "review_low", "n_good"))
        if bad:
            problems.append((seq, f"{name} was changed after it was taught (event #{seq}): threshold "
                                  f"{row.threshold!r}, review band {row.review_low!r} in the database"))
    for part, row in sorted(latest.items()):
        if part not in files:
            continue  # taught before file digests were recorded, or by a backend without a folder
        folder = Path(row.path)
        digest = reference_files_digest(folder)
        if digest is None:
            problems.append((None, f"the reference folder {folder} of part {part} is missing: the part cannot be "
                                   "judged as taught (teach it again; the event log keeps the old teach)"))
        elif digest not in files[part]:
            problems.append((None, f"the reference files of part {part} in {folder} were changed on disk after it "
                                   "was taught: they match none of its model.taught events (a replaced reference "
                                   "changes every verdict)"))


def _check_users(s: Any, problems: list[Problem]) -> None:
    state: dict[str, dict[str, Any]] = {}
    last: dict[str, int] = {}
    for seq, action, name, after in _events(s, "user.created", "user.role_changed", "user.deactivated",
                                            "user.reactivated", "user.locked", "user.unlocked",
                                            "user.password_changed", "user.recovered", "user.password_rehashed"):
        if action != "user.created" and name not in state:
            continue  # the chain check reports an event that lost its user.created
        current = state.setdefault(name, {"locked": False} if action == "user.created" else {})
        current.update({k: after[k] for k in USER_FIELDS if k in after})
        if action in ("user.password_changed", "user.recovered") and "credential" not in after:
            current.pop("credential", None)  # changed by an older version: the new hash is not known
        last[name] = seq
    rows = {r.username: r for r in s.scalars(select(UserRow))}
    for name, row in sorted(rows.items()):
        if name not in state:
            problems.append((None, f"user '{name}' (role {row.role}) has no user.created event: the account was "
                                   "inserted outside the station"))
            continue
        want, seq = state[name], last[name]
        have = {"full_name": row.full_name, "role": row.role, "active": bool(row.active), "locked": bool(row.locked),
                "credential": credential_digest(row.password_hash)}
        for field in USER_FIELDS:
            if field in want and want[field] != have[field]:
                what = "password hash" if field == "credential" else field.replace("_", " ")
                shown = "" if field == "credential" else f": {have[field]!r} in the database, {want[field]!r} in the trail"
                problems.append((seq, f"the {what} of user '{name}' was changed outside the station (last account "
                                      f"event #{seq}){shown}"))
    for name in sorted(set(state) - set(rows)):
        problems.append((last[name], f"user '{name}' is missing: accounts are never deleted (deactivated instead)"))
