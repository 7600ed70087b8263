"""Reason codes: the configurable list a reviewer picks from when signing a disposition.

The list lives in the database (table ``reason_codes``), so every station sharing a
database uses the same codes. Revision 0002 seeds the defaults (COSMETIC-OK, FALSE-ALARM,
MEASUREMENT-ERROR, OVER-LIMIT, REWORKABLE); admins add or deactivate codes (audited).
A code is never deleted or renamed: old reviews keep naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from inspector.domain import Decision, User, utcnow
from inspector.store.trace_tables import ReasonCodeRow
from inspector.trace import _db
from inspector.trace.errors import ReviewError
from inspector.trace.policy import require

_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,63}$")


@dataclass(frozen=True)
class ReasonCode:
    code: str
    description: str
    decisions: tuple[Decision, ...]  # the dispositions this reason may justify
    active: bool = True


def _from_row(row: ReasonCodeRow) -> ReasonCode:
    return ReasonCode(row.code, row.description,
                      tuple(Decision(d) for d in row.decisions.split(",") if d), bool(row.active))


def parse_decision(decision: str | Decision) -> Decision:
    """``Decision`` from 'accept'/'reject'/'rework' (case-insensitive). Raises ``ReviewError``."""
    if isinstance(decision, Decision):
        return decision
    try:
        return Decision(str(decision).strip().lower())
    except ValueError:
        raise ReviewError(f"decision {decision!r} is not one of accept, reject, rework") from None


def normalise_code(code: str) -> str:
    """Upper-case, trimmed code; raises ``ReviewError`` unless it is 2-64 of A-Z 0-9 - _."""
    norm = str(code or "").strip().upper()
    if not _CODE_RE.match(norm):
        raise ReviewError(f"reason code {code!r} must be 2-64 characters of A-Z, 0-9, '-' or '_', "
                          "e.g. OVER-LIMIT")
    return norm


class ReasonCodes:
    """The reason-code list of one database."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self._engine = _db.engine_of(store)

    def list(self, *, include_inactive: bool = False) -> list[ReasonCode]:
        """Codes sorted by name; active ones only unless ``include_inactive``."""
        stmt = select(ReasonCodeRow).order_by(ReasonCodeRow.code)
        if not include_inactive:
            stmt = stmt.where(ReasonCodeRow.active.is_(True))
        with _db.read_session(self._engine) as s:
            return [_from_row(r) for r in s.scalars(stmt)]

    def check(self, code: str, decision: str | Decision) -> ReasonCode:
        """The active code ``code`` if it may justify ``decision``; else ``ReviewError`` naming the valid ones."""
        decision = parse_decision(decision)
        norm = normalise_code(code)
        with _db.read_session(self._engine) as s:
            row = s.get(ReasonCodeRow, norm)
            found = _from_row(row) if row is not None else None
        valid = [c.code for c in self.list() if decision in c.decisions]
        if found is None or not found.active:
            state = "is not in the list" if found is None else "is deactivated"
            raise ReviewError(f"reason code {norm!r} {state}: for {decision.value} use one of "
                              f"{', '.join(valid) or '(none: an admin must add one)'}")
        if decision not in found.decisions:
            allowed = ", ".join(d.value for d in found.decisions)
            raise ReviewError(f"reason code {norm!r} justifies {allowed}, not {decision.value}: for "
                              f"{decision.value} use one of {', '.join(valid)}")
        return found

    def add(self, code: str, description: str, decisions: str | list[str] | tuple[str, ...],
            actor: User) -> ReasonCode:
        """Add a code (or re-activate a deactivated one with new text). Needs ``reasons.manage``; audited."""
        from inspector.trace.accounts import Accounts

        actor = Accounts(self._store).current(actor)
        require(actor, "reasons.manage")
        norm = normalise_code(code)
        if isinstance(decisions, str):
            decisions = [d for d in decisions.replace(" ", ",").split(",") if d]
        parsed = sorted({parse_decision(d) for d in decisions}, key=list(Decision).index)
        if not parsed:
            raise ReviewError("a reason code needs at least one decision it justifies (accept, reject, rework)")
        if not description.strip():
            raise ReviewError(f"reason code {norm}: give a description reviewers understand")
        from inspector.trace.audit import Audit

        with _db.write_session(self._engine) as s:
            row = s.get(ReasonCodeRow, norm)
            before = None
            if row is not None:
                if row.active:
                    raise ReviewError(f"reason code {norm} already exists")
                before = {"description": row.description, "decisions": row.decisions, "active": False}
                row.description, row.decisions, row.active = description.strip(), ",".join(parsed), True
            else:
                row = ReasonCodeRow(code=norm, description=description.strip(), decisions=",".join(parsed),
                                    active=True, created_at=utcnow(), created_by=actor.username)
                s.add(row)
            s.flush()
            Audit(self._engine).append_in(s, actor, "reason_code.added", "reason_code", norm, before,
                                          {"description": row.description, "decisions": row.decisions,
                                           "active": True})
            return _from_row(row)

    def deactivate(self, code: str, actor: User) -> ReasonCode:
        """Withdraw a code from the list (old reviews keep it). Needs ``reasons.manage``; audited."""
        from inspector.trace.accounts import Accounts
        from inspector.trace.audit import Audit

        actor = Accounts(self._store).current(actor)
        require(actor, "reasons.manage")
        norm = normalise_code(code)
        with _db.write_session(self._engine) as s:
            row = s.get(ReasonCodeRow, norm)
            if row is None:
                raise ReviewError(f"reason code {norm!r} is not in the list")
            if not row.active:
                return _from_row(row)
            row.active = False
            s.flush()
            Audit(self._engine).append_in(s, actor, "reason_code.deactivated", "reason_code", norm,
                                          {"active": True}, {"active": False})
            return _from_row(row)
