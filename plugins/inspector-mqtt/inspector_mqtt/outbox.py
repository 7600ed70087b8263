"""A persistent, bounded outbox: results wait here until the broker acknowledged them.

One small SQLite file under the station's data folder. A result is added once per key (the
inspection id: a second add of the same key is ignored, so a replay never duplicates), sent in
the order it was added, and marked acknowledged when the broker's PUBACK arrives. A process
that stops (or crashes) with results waiting sends them at its next start. At most ``limit``
results wait; beyond that the oldest waiting one is dropped, counted and logged (its record is
still in the station's database). Acknowledged rows are kept for a while (``KEEP_ACKED``) so a
late duplicate of a sent key is still recognised, then pruned.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

KEEP_ACKED = 10_000  # acknowledged rows remembered for de-duplication

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    added_at REAL NOT NULL,
    acked_at REAL
);
CREATE INDEX IF NOT EXISTS outbox_waiting ON outbox (acked_at, seq);
"""


@dataclass(frozen=True)
class Message:
    seq: int
    key: str
    topic: str
    payload: bytes


class Outbox:
    """Thread-safe: one connection behind a lock (every statement is short)."""

    def __init__(self, path: Path, limit: int = 100_000):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.limit = limit
        self.dropped = 0
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a result acknowledged to the line survives power loss
        self._db.executescript(SCHEMA)

    def add(self, key: str, topic: str, payload: bytes) -> bool:
        """Queue one message; False when ``key`` was queued (or sent) before."""
        with self._lock:
            cur = self._db.execute("INSERT OR IGNORE INTO outbox (key, topic, payload, added_at) VALUES (?, ?, ?, ?)",
                                   (key, topic, payload, time.time()))
            if cur.rowcount == 0:
                return False
            waiting = self._waiting_locked()
            if waiting > self.limit:
                over = waiting - self.limit
                rows = self._db.execute("SELECT seq, key FROM outbox WHERE acked_at IS NULL ORDER BY seq LIMIT ?",
                                        (over,)).fetchall()
                self._db.execute(f"DELETE FROM outbox WHERE seq IN ({','.join('?' * len(rows))})",
                                 [r[0] for r in rows])
                self.dropped += len(rows)
                log.error("MQTT outbox full (%d waiting): dropped the oldest %d (%s); their records stay in "
                          "the station database", self.limit, len(rows), ", ".join(r[1] for r in rows[:3]))
            return True

    def waiting(self, after: int = 0, limit: int = 100) -> list[Message]:
        """Unacknowledged messages with ``seq > after``, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT seq, key, topic, payload FROM outbox WHERE acked_at IS NULL AND seq > ? "
                                    "ORDER BY seq LIMIT ?", (after, limit)).fetchall()
        return [Message(s, k, t, bytes(p)) for s, k, t, p in rows]

    def ack(self, seqs: list[int]) -> None:
        if not seqs:
            return
        with self._lock:
            self._db.execute(f"UPDATE outbox SET acked_at = ? WHERE seq IN ({','.join('?' * len(seqs))})",
                             [time.time(), *seqs])
            self._db.execute("DELETE FROM outbox WHERE acked_at IS NOT NULL AND seq <= "
                             "(SELECT seq FROM outbox WHERE acked_at IS NOT NULL ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                             (KEEP_ACKED,))

    def count_waiting(self) -> int:
        with self._lock:
            return self._waiting_locked()

    def _waiting_locked(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM outbox WHERE acked_at IS NULL").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
