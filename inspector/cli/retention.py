"""`inspector retention apply | policy`: remove images (and, when asked, records) past their period.

Admin only. The audit trail is never purged; each run appends one ``retention.applied``
event with counts, bytes freed and the sha256 of what went, so ``inspector audit verify``
still passes afterwards. Defaults come from the settings keys ``retention_images_days`` and
``retention_records_days`` when the station's settings have them; flags override.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from inspector.cli import UserError
from inspector.cli.users import add_user_option, sign_in


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("retention", help="apply the retention policy (admin)",
                       description=__doc__.split("\n\n")[0] if __doc__ else None)
    s = p.add_subparsers(dest="retention_command", metavar="ACTION", required=True)

    a = s.add_parser("apply", help="remove images/records older than the policy allows")
    a.add_argument("--images-days", type=int, metavar="N", help="keep camera images N days")
    a.add_argument("--records-days", type=int, metavar="M",
                   help="keep inspection records M days (default: forever)")
    a.add_argument("--include-unreviewed", action="store_true",
                   help="also remove flagged parts nobody has reviewed (kept by default)")
    a.add_argument("--archive", metavar="FILE", help="write every removed record to FILE as JSON lines first")
    a.add_argument("--dry-run", action="store_true", help="report what would go; change nothing")
    a.add_argument("--json", action="store_true")
    add_user_option(a)
    a.set_defaults(func=run_apply)

    pol = s.add_parser("policy", help="print the retention policy from the settings")
    pol.set_defaults(func=run_policy)


def _policy(args: argparse.Namespace, ctx: Any):
    keep = False if getattr(args, "include_unreviewed", False) else None
    return ctx.inspector.retention_policy(images_days=getattr(args, "images_days", None),
                                          records_days=getattr(args, "records_days", None), keep_unreviewed=keep)


def run_apply(args: argparse.Namespace, ctx: Any) -> int:
    policy = _policy(args, ctx)
    if policy.empty:
        raise UserError("no retention period: give --images-days N and/or --records-days M "
                        "(or set retention_images_days in the settings)")
    archive_path = Path(args.archive) if args.archive else None
    if archive_path is not None and archive_path.exists():
        raise UserError(f"{archive_path} exists already: give a new archive file name")
    sign_in(args, ctx)
    insp = ctx.inspector
    if archive_path is not None and not args.dry_run:
        archive_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with archive_path.open("x", encoding="utf-8") as fh:
                report = insp.apply_retention(policy, dry_run=False, archive=fh)
        except BaseException:
            archive_path.unlink(missing_ok=True)  # nothing was removed: no archive either
            raise
    else:
        report = insp.apply_retention(policy, dry_run=args.dry_run)
    if args.json:
        print(json.dumps({"dry_run": report.dry_run, "policy": {"images_days": policy.images_days,
                          "records_days": policy.records_days, "keep_unreviewed": policy.keep_unreviewed},
                          **report.counts(), "manifest_sha256": report.manifest_sha256,
                          "audit_seq": report.audit_seq, "errors": report.errors}, indent=1))
    else:
        for line in report.lines():
            print(line)
    return 1 if report.errors else 0


def run_policy(args: argparse.Namespace, ctx: Any) -> int:
    policy = _policy(args, ctx)
    images = "forever" if policy.images_days is None else f"{policy.images_days} days"
    records = "forever" if policy.records_days is None else f"{policy.records_days} days"
    print(f"images kept {images}; records kept {records}; unreviewed flagged parts kept: "
          f"{'yes' if policy.keep_unreviewed else 'no'}; the audit trail is kept forever")
    return 0
