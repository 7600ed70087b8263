"""`inspector audit verify | log | head`: check and read the hash-chained audit trail.

``verify`` exits 0 when the trail is intact, 1 when it finds tampering (edited, deleted,
re-ordered or cut-off events, inspection records, images, work orders, references or accounts
changed behind the trail, reviews changed behind their signatures, a removed guard).
Reading needs no sign-in: whoever can run this can read the database file anyway.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from inspector.cli import UserError


def _time(value: str) -> datetime:
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO date/time, e.g. 2026-11-23T08:00") from None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t


def _head(value: str) -> tuple[int, str]:
    seq, _, h = value.partition(":")
    if not seq.isdigit() or len(h) != 64:
        raise argparse.ArgumentTypeError(f"{value!r}: give SEQ:HASH as printed by `inspector audit head`")
    return int(seq), h.lower()


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="verify and read the audit trail",
                       description=__doc__.split("\n\n")[0] if __doc__ else None)
    s = p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)

    v = s.add_parser("verify", help="check the hash chain and the records tied to it (exit 1 on tamper)")
    v.add_argument("--expect-head", type=_head, metavar="SEQ:HASH",
                   help="a head recorded earlier (`inspector audit head`): proves nothing was cut off the end")
    v.add_argument("--chain-only", action="store_true",
                   help="skip the cross-checks (records, images, work orders, references, accounts, reviews)")
    v.add_argument("--skip-images", action="store_true",
                   help="do not hash every stored image (the slow part on a large archive)")
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=run_verify)

    lg = s.add_parser("log", help="list audit events (oldest first)")
    lg.add_argument("--entity", help="e.g. inspection, user, work_order, part, retention")
    lg.add_argument("--id", dest="entity_id", help="entity id, e.g. an inspection id or user name")
    lg.add_argument("--action", help="e.g. review.decided, or a prefix like user.*")
    lg.add_argument("--actor", help="user name")
    lg.add_argument("--since", type=_time, help="ISO date/time (no zone = UTC)")
    lg.add_argument("--until", type=_time, help="ISO date/time (no zone = UTC)")
    lg.add_argument("--last", type=int, metavar="N", help="only the newest N events")
    lg.add_argument("--json", action="store_true", help="one JSON object per line")
    lg.set_defaults(func=run_log)

    h = s.add_parser("head", help="print the newest event as SEQ:HASH (write it down to detect truncation)")
    h.set_defaults(func=run_head)


def run_verify(args: argparse.Namespace, ctx: Any) -> int:
    result = ctx.inspector.verify_audit(expect_head=args.expect_head, deep=not args.chain_only,
                                        images=not args.skip_images)
    if args.json:
        print(json.dumps({"ok": result.ok, "n_events": result.n_events, "first_bad_seq": result.first_bad_seq,
                          "problems": result.problems, "warnings": result.warnings,
                          "head_seq": result.head_seq, "head_hash": result.head_hash}, indent=1))
    else:
        print(result.summary())
        for problem in result.problems:
            print(f"  problem: {problem}")
        for warning in result.warnings:
            print(f"  warning: {warning}")
    return 0 if result.ok else 1


def run_log(args: argparse.Namespace, ctx: Any) -> int:
    if args.last is not None and args.last < 1:
        raise UserError("--last must be at least 1")
    events = ctx.inspector.audit_events(entity=args.entity, entity_id=args.entity_id, action=args.action,
                                        actor=args.actor, since=args.since, until=args.until, limit=args.last,
                                        newest_first=args.last is not None)
    if args.last is not None:
        events.reverse()
    for e in events:
        if args.json:
            print(json.dumps({"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
                              "entity": e.entity, "entity_id": e.entity_id, "before": e.before,
                              "after": e.after, "prev_hash": e.prev_hash, "hash": e.hash}, ensure_ascii=False))
        else:
            change = ""
            if e.before is not None:
                change += f" before={json.dumps(e.before, ensure_ascii=False)}"
            if e.after is not None:
                change += f" after={json.dumps(e.after, ensure_ascii=False)}"
            print(f"#{e.seq:<6} {e.at.strftime('%Y-%m-%d %H:%M:%S')}Z {e.actor:<12} {e.action:<22} "
                  f"{e.entity}:{e.entity_id}{change}")
    if not events and not args.json:
        print("no matching events")
    return 0


def run_head(args: argparse.Namespace, ctx: Any) -> int:
    head = ctx.inspector.audit_head()
    if head is None:
        print("the audit trail is empty")
        return 0
    print(f"{head.seq}:{head.hash}")
    return 0
