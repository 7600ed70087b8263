"""Print the corpus accuracy per industry (the table in docs/workorders.md).

python -m tests.workorders_corpus.report [-v]     # -v lists every wrong clause
"""

from __future__ import annotations

import sys
from collections import defaultdict

from tests.workorders_corpus.golden import grade_all


def table(verbose: bool = False) -> str:
    results = grade_all()
    by: dict[str, list] = defaultdict(list)
    for r in results:
        by[r.industry].append(r)
    rows = [
        "| industry | orders | clauses | right | accuracy | wrongly refused |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for ind, rs in sorted(by.items()):
        total, right = sum(r.total for r in rs), sum(r.right for r in rs)
        rows.append(
            f"| {ind} | {len(rs)} | {total} | {right} | {100 * right / max(total, 1):.1f} % | "
            f"{sum(r.refused_wrongly for r in rs)} |"
        )
    total, right = sum(r.total for r in results), sum(r.right for r in results)
    rows.append(
        f"| **all** | {len(results)} | {total} | {right} | {100 * right / max(total, 1):.1f} % | "
        f"{sum(r.refused_wrongly for r in results)} |"
    )
    if verbose:
        for r in results:
            for p in r.problems:
                rows.append(f"  {r.industry}/{r.file} {p}")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table("-v" in sys.argv))
