"""The hash-chain format of the audit trail, and checking a sequence of events against it.

Each event's ``hash`` is the SHA-256 (lowercase hex) of the UTF-8 bytes of this canonical
JSON object (``inspector.canonical``: keys sorted, no whitespace, non-ASCII kept, see
``docs/traceability.md``)::

    {"action": ..., "actor": ..., "after": <text|null>, "at": "YYYY-MM-DDTHH:MM:SS.ffffffZ",
     "before": <text|null>, "entity": ..., "entity_id": ..., "prev_hash": ..., "seq": <int>,
     "v": 1}

``before``/``after`` enter as the *stored JSON text* (itself canonical JSON), so only strings
and one integer are hashed: any language recomputes the hash byte for byte. ``prev_hash`` of
event 1 is 64 zeros; every later event carries the hash of the one before it. Editing a
field breaks that event's hash; deleting or re-ordering rows breaks the sequence or a link.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from inspector.canonical import canonical_text, sha256_hex

CHAIN_VERSION = 1
GENESIS = "0" * 64


def format_time(at: datetime) -> str:
    """The hashed form of an event time: UTC, microseconds, 'Z' (naive times are refused)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at.isoformat()} refused: audit times are aware UTC")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(seq: int, at: datetime, actor: str, action: str, entity: str, entity_id: str,
               before: str | None, after: str | None, prev_hash: str) -> str:
    """SHA-256 hex of one event's canonical form (see the module docstring)."""
    body = {
        "v": CHAIN_VERSION, "seq": int(seq), "at": format_time(at), "actor": actor, "action": action,
        "entity": entity, "entity_id": entity_id, "before": before, "after": after, "prev_hash": prev_hash,
    }
    return sha256_hex(canonical_text(body))


@dataclass(frozen=True)
class StoredEvent:
    """One audit row as stored (``before``/``after`` are the JSON texts)."""

    seq: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    before: str | None
    after: str | None
    prev_hash: str
    hash: str

    def recompute(self) -> str:
        return event_hash(self.seq, self.at, self.actor, self.action, self.entity, self.entity_id,
                          self.before, self.after, self.prev_hash)


@dataclass
class VerifyResult:
    """Outcome of checking the audit trail.

    ``ok``: no problem found. ``n_events``: rows read. ``first_bad_seq``: the lowest sequence
    number at which the chain is broken (None when ok). ``problems``: one sentence per finding,
    in sequence order. ``head_seq``/``head_hash``: the last event (write them down: a later
    verify with ``expect_head`` proves nothing was cut off the end). ``warnings``: oddities
    that are not proof of tampering (e.g. a station clock running behind).
    """

    ok: bool
    n_events: int
    first_bad_seq: int | None
    problems: list[str] = field(default_factory=list)
    head_seq: int | None = None
    head_hash: str | None = None
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for people: 'audit trail OK: 42 events, head #42 3fa1...' or the first problem."""
        if self.ok:
            head = f", head #{self.head_seq} {self.head_hash}" if self.head_seq else ""
            return f"audit trail OK: {self.n_events} events{head}"
        more = f" (+{len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        where = f" at #{self.first_bad_seq}" if self.first_bad_seq is not None else ""
        return f"audit trail TAMPERED{where}: {self.problems[0]}{more}"


class ChainChecker:
    """Feeds events in ``seq`` order and collects what is wrong with the chain (streaming)."""

    def __init__(self) -> None:
        self.n = 0
        self.prev_hash = GENESIS
        self.prev_seq = 0
        self.prev_at: datetime | None = None
        self.problems: list[tuple[int | None, str]] = []
        self.warnings: list[str] = []

    def feed(self, ev: StoredEvent) -> None:
        self.n += 1
        expected_seq = self.prev_seq + 1
        if ev.seq != expected_seq:
            if ev.seq > expected_seq:
                missing = f"#{expected_seq}" if ev.seq == expected_seq + 1 else f"#{expected_seq}..#{ev.seq - 1}"
                self._bad(expected_seq, f"event(s) {missing} missing: sequence jumps from "
                                        f"#{self.prev_seq} to #{ev.seq} (deleted rows)")
            else:
                self._bad(ev.seq, f"event #{ev.seq} out of order after #{self.prev_seq}")
        if ev.prev_hash != self.prev_hash:
            self._bad(ev.seq, f"event #{ev.seq} does not link to the event before it "
                              f"(prev_hash {ev.prev_hash[:12]}..., expected {self.prev_hash[:12]}...): "
                              "a row was deleted, inserted or re-ordered")
        if ev.recompute() != ev.hash:
            self._bad(ev.seq, f"event #{ev.seq} ({ev.action} {ev.entity} {ev.entity_id}) was altered: "
                              "its content no longer matches its hash")
        if self.prev_at is not None and ev.at < self.prev_at:
            self.warnings.append(f"event #{ev.seq} is dated {format_time(ev.at)}, before event "
                                 f"#{self.prev_seq} ({format_time(self.prev_at)}): a station clock is behind")
        self.prev_hash = ev.hash
        self.prev_seq = ev.seq
        self.prev_at = ev.at

    def _bad(self, seq: int, message: str) -> None:
        self.problems.append((seq, message))

    def result(self, extra: Iterable[tuple[int | None, str]] = ()) -> VerifyResult:
        """The verdict; ``extra`` problems with seq None (e.g. a missing trigger) sort last."""
        problems = sorted([*self.problems, *extra], key=lambda p: (p[0] is None, p[0] or 0))
        seqs = [p[0] for p in problems if p[0] is not None]
        return VerifyResult(
            ok=not problems, n_events=self.n,
            first_bad_seq=min(seqs) if seqs else None,
            problems=[m for _, m in problems],
            head_seq=self.prev_seq or None, head_hash=self.prev_hash if self.n else None,
            warnings=list(self.warnings),
        )
