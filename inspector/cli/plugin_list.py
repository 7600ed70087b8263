"""`inspector plugins`: every registered plugin (sources, backends, publishers, exporters,
commands), the distribution that provides it and whether it loads. A plugin that fails to
load is listed with its error and skipped by the station; it never stops it.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from inspector import plugins


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plugins", help="list installed plugins and whether they load",
                       description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--group", choices=[g.split(".")[-1] for g in plugins.GROUPS],
                   help="only this kind of plugin")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: object) -> int:
    groups = tuple(g for g in plugins.GROUPS if args.group in (None, g.split(".")[-1]))
    rows = plugins.status(groups)
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
    else:
        width = max((len(r.name) for r in rows), default=4)
        for r in rows:
            state = "loaded" if r.loaded else "FAILED"
            origin = f"{r.distribution} {r.version}".strip()
            print(f"{r.group.split('.')[-1]:<11} {r.name:<{width}}  {state:<6}  {origin}")
            if r.error:
                print(f"{'':<11} {'':<{width}}  {r.error}")
    return 0 if all(r.loaded for r in rows) else 1
