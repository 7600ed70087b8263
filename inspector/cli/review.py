"""`inspector review list | decide | show | reasons`: the review queue and signed dispositions.

``decide`` re-authenticates the reviewer at signing (password prompt, or ``$INSPECTOR_PASSWORD``
for scripted use), refuses operators (exit 2), and records the decision, reason code,
comment, printed name, time and meaning as a new review: the machine verdict is never
overwritten. Reason codes are a list kept in the database (``reasons``).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from inspector.cli._guards import positive_int
from inspector.cli.users import acting_username, add_user_option, read_password, sign_in


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("review", help="review queue of flagged parts and signed dispositions",
                       description=__doc__.split("\n\n")[0] if __doc__ else None)
    s = p.add_subparsers(dest="review_command", metavar="ACTION", required=True)

    ls = s.add_parser("list", help="flagged parts (NG, REVIEW), newest first, with their current decision")
    ls.add_argument("--order", "-w", help="work order id")
    ls.add_argument("--lot")
    ls.add_argument("--unreviewed", action="store_true", help="only parts nobody has dispositioned yet")
    ls.add_argument("--limit", type=positive_int, default=50)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)

    d = s.add_parser("decide", help="sign a disposition of one part (re-enter your password)")
    d.add_argument("inspection_id", help="inspection id (a unique prefix is enough)")
    d.add_argument("--decision", "-d", required=True, choices=("accept", "reject", "rework"))
    d.add_argument("--reason", "-r", required=True, help="reason code (see `inspector review reasons`)")
    d.add_argument("--comment", "-c", default="", help="free text kept with the signature")
    d.add_argument("--meaning", default="", help="signature meaning; only the defined one is accepted, e.g. "
                                                 "'Rejected by Ann Smith (reviewer): scrap per reason OVER-LIMIT' "
                                                 "(the default)")
    add_user_option(d, "the reviewer signing")
    d.add_argument("--json", action="store_true")
    d.set_defaults(func=run_decide)

    sh = s.add_parser("show", help="every review of one part with its signature check")
    sh.add_argument("inspection_id")
    sh.add_argument("--json", action="store_true")
    sh.set_defaults(func=run_show)

    r = s.add_parser("reasons", help="list the reason codes reviewers may use")
    r.add_argument("--all", action="store_true", help="also deactivated codes")
    r.set_defaults(func=run_reasons)

    ar = s.add_parser("add-reason", help="add a reason code (admin)")
    ar.add_argument("code")
    ar.add_argument("--decisions", required=True, help="which decisions it justifies, e.g. reject,rework")
    ar.add_argument("--description", required=True)
    add_user_option(ar)
    ar.set_defaults(func=run_add_reason)

    dr = s.add_parser("deactivate-reason", help="withdraw a reason code (admin; old reviews keep it)")
    dr.add_argument("code")
    add_user_option(dr)
    dr.set_defaults(func=run_deactivate_reason)


def resolve_inspection_id(ctx: Any, given: str) -> str:
    """The full id of the inspection whose id starts with ``given`` (the facade's ``resolve_id``)."""
    return ctx.inspector.resolve_id(given)


def run_list(args: argparse.Namespace, ctx: Any) -> int:
    insp = ctx.inspector
    parts = insp.query(order_id=args.order, lot=args.lot, flagged_only=True, unreviewed_only=args.unreviewed,
                       limit=args.limit)
    latest = {p.id: insp.latest_review(p.id) for p in parts}
    if args.json:
        print(json.dumps([{"id": p.id, "inspected_at": p.inspected_at.isoformat(), "order_id": p.order_id,
                           "lot": p.lot, "verdict": p.verdict.kind.value, "reasons": list(p.verdict.reasons),
                           "decision": latest[p.id].decision.value if latest[p.id] else None,
                           "reviewer": latest[p.id].reviewer if latest[p.id] else None} for p in parts], indent=1))
        return 0
    if not parts:
        print("no flagged parts" + (" waiting for review" if args.unreviewed else ""))
        return 0
    print(f"{'inspection':<12} {'inspected (UTC)':<16} {'order':<12} {'lot':<10} {'verdict':<7} decision")
    for p in parts:
        r = latest[p.id]
        decision = f"{r.decision.value} ({r.reason_code}, {r.reviewer})" if r else "-"
        print(f"{p.id[:12]:<12} {p.inspected_at.strftime('%Y-%m-%d %H:%M'):<16} {p.order_id:<12} {p.lot:<10} "
              f"{p.verdict.kind.value:<7} {decision}")
    return 0


def run_decide(args: argparse.Namespace, ctx: Any) -> int:
    username = acting_username(args, ctx)
    inspection_id = resolve_inspection_id(ctx, args.inspection_id)
    review = ctx.inspector.review(inspection_id, args.decision, args.reason, args.comment, username=username,
                                  password=read_password(username), meaning=args.meaning)
    if args.json:
        print(json.dumps({"review_id": review.id, "inspection_id": review.inspection_id,
                          "decision": review.decision.value, "reason_code": review.reason_code,
                          "signed_at": review.decided_at.isoformat(), "meaning": review.signature_meaning}))
    else:
        print(f"signed review #{review.id} of {inspection_id}: {review.signature_meaning} "
              f"at {review.decided_at.isoformat()}")
    return 0


def run_show(args: argparse.Namespace, ctx: Any) -> int:
    inspection_id = resolve_inspection_id(ctx, args.inspection_id)
    insp = ctx.inspector.get(inspection_id)
    rows = ctx.inspector.signed_reviews(inspection_id)
    if args.json:
        print(json.dumps({"inspection_id": inspection_id, "verdict": insp.verdict.kind.value, "reviews": [
            {"id": r.id, "decision": r.decision.value, "reason_code": r.reason_code, "comment": r.comment,
             "reviewer": r.reviewer, "printed_name": r.reviewer_name, "signed_at": r.decided_at.isoformat(),
             "meaning": r.signature_meaning, "signature_hash": sig.signature_hash if sig else None,
             "signature_valid": ok} for r, sig, ok in rows]}, indent=1))
        return 0
    print(f"inspection {inspection_id}: machine verdict {insp.verdict.kind.value}")
    if not rows:
        print("  not reviewed")
    for r, sig, ok in rows:
        state = "signature valid" if ok else ("UNSIGNED" if sig is None else "SIGNATURE INVALID")
        print(f"  #{r.id} {r.decided_at.strftime('%Y-%m-%d %H:%M:%S')}Z {r.decision.value} {r.reason_code} "
              f"by {r.reviewer_name} ({r.reviewer}): {r.signature_meaning} [{state}]")
        if r.comment:
            print(f"      comment: {r.comment}")
    return 0


def run_reasons(args: argparse.Namespace, ctx: Any) -> int:
    codes = ctx.inspector.reason_codes(include_inactive=args.all)
    for c in codes:
        flag = "" if c.active else " (deactivated)"
        print(f"{c.code:<20} {','.join(d.value for d in c.decisions):<22} {c.description}{flag}")
    return 0


def run_add_reason(args: argparse.Namespace, ctx: Any) -> int:
    sign_in(args, ctx)
    code = ctx.inspector.add_reason_code(args.code, args.description, args.decisions)
    print(f"added reason code {code.code} ({', '.join(d.value for d in code.decisions)})")
    return 0


def run_deactivate_reason(args: argparse.Namespace, ctx: Any) -> int:
    sign_in(args, ctx)
    code = ctx.inspector.deactivate_reason_code(args.code)
    print(f"reason code {code.code} deactivated")
    return 0
