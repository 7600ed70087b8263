"""Failed sign-ins slow their source down; they never lock the account they name.

Five wrong passwords used to lock an account until an admin unlocked it, so anybody at the
station could lock out the only admin for good. Now every (source, account) pair has a few
free attempts, then each further failure doubles the wait before the next attempt from that
source is even checked (1 s, 2 s, 4 s ... at most ``MAX_DELAY_S``). The owner signing in from
another source is not slowed. The state is the audit trail itself (``auth.failed`` events carry
their source), so it holds across processes and stations sharing one database, and it ends at
the account's last successful sign-in, a password change, an unlock or a recovery.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from inspector.store.trace_tables import AuditEventRow

FREE_ATTEMPTS = 3  # failures from one source before the first wait
BASE_DELAY_S = 1.0
MAX_DELAY_S = 900.0  # 15 minutes: the most one source waits between attempts
WINDOW = timedelta(hours=24)  # older failures are forgotten
_SCAN = 400  # newest events of one account looked at
RESETS = ("user.recovered", "user.unlocked", "user.password_changed")


@dataclass(frozen=True)
class ThrottleState:
    """Failures of one source against one account since the last reset, and how long it must wait."""

    failures: int
    retry_after_s: float


def delay_for(failures: int, *, free: int = FREE_ATTEMPTS, base_s: float = BASE_DELAY_S,
              cap_s: float = MAX_DELAY_S) -> float:
    """Seconds the source waits after ``failures`` failures in a row (0 while attempts are free)."""
    if failures < free:
        return 0.0
    return float(min(cap_s, base_s * 2.0 ** min(failures - free, 32)))


def state(session: Session, entity_id: str, source: str, *, since: datetime, now: datetime,
          free: int = FREE_ATTEMPTS, base_s: float = BASE_DELAY_S, cap_s: float = MAX_DELAY_S) -> ThrottleState:
    """The throttle of ``source`` against account ``entity_id`` ('?' for unknown names), from the audit trail."""
    rows = session.execute(
        select(AuditEventRow.at, AuditEventRow.action, AuditEventRow.after)
        .where(AuditEventRow.entity == "user", AuditEventRow.entity_id == entity_id)
        .order_by(AuditEventRow.seq.desc()).limit(_SCAN)
    )
    failures, last = 0, None
    for at, action, after in rows:
        if at < since or action in RESETS:
            break
        if action != "auth.failed":
            continue
        try:
            data = json.loads(after or "{}")
        except ValueError:
            continue
        if isinstance(data, dict) and data.get("source") == source:
            failures += 1
            last = last or at
    wait = delay_for(failures, free=free, base_s=base_s, cap_s=cap_s)
    retry = max(0.0, (last + timedelta(seconds=wait) - now).total_seconds()) if last is not None and wait else 0.0
    return ThrottleState(failures, retry)


def window_start(last_login_at: datetime | None, now: datetime) -> datetime:
    """Failures count from the later of the account's last successful sign-in and ``now - WINDOW``."""
    start = now - WINDOW
    return max(start, last_login_at) if last_login_at is not None else start
