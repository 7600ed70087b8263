"""Regenerate the sample data in this folder.

    python sample_data/make_samples.py            # synthetic BR-100 parts (seeded, pixel-identical)
    python sample_data/make_samples.py --bsdata   # also re-copy the BSData subset (needs ../shared/data)

The synthetic images come from inspector.training.samples.build_sample_data; the real
BSData subset from build_bsdata_samples. sample_data/workorders/ is not touched.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from inspector.training.samples import build_bsdata_samples, build_sample_data  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=HERE, help="output folder (default: this folder)")
    ap.add_argument("--bsdata", action="store_true", help="also rebuild sample_data/bsdata from the shared data")
    ap.add_argument("--shared", type=Path, default=None,
                    help="shared data root (default: $INSPECTOR_SHARED_DATA or <repo>/../shared/data)")
    args = ap.parse_args(argv)
    paths = build_sample_data(args.out)
    print(f"wrote {len(paths)} synthetic files under {args.out / 'parts'}")
    if args.bsdata:
        shared = args.shared or Path(os.environ.get("INSPECTOR_SHARED_DATA", HERE.parent.parent / "shared" / "data"))
        src = shared / "bsdata"
        if not (src / "manifest.csv").is_file():
            print(f"no BSData at {src} (set --shared or INSPECTOR_SHARED_DATA)", file=sys.stderr)
            return 2
        paths = build_bsdata_samples(src, args.out / "bsdata")
        print(f"wrote {len(paths)} BSData files under {args.out / 'bsdata'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
