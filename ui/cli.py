"""`inspector app`: the desktop station, registered by the UI through the entry-point group
``inspector.commands`` (pyproject.toml), so the core package never imports ``ui``."""

from __future__ import annotations

import argparse
from pathlib import Path

from inspector.pipeline import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("app", help="open the desktop station (operator view, teach mode, review queue)")
    p.add_argument("--order", "-w", help="work order file to load at start")
    p.add_argument("--source", help="source to preselect (folder, video, camera:N, hotfolder:DIR)")
    p.add_argument("--teach-folder", help="good images to teach from at start if the part is not taught")
    p.add_argument("--autostart", action="store_true", help="start inspecting at once")
    p.add_argument("--quit-after-run", action="store_true", help="close when the source is finished (tests)")
    p.add_argument("--screenshot", help="save a screenshot of the window here after the run (tests, docs)")
    p.set_defaults(func=run_app)


def launch(ctx, *, order_file: Path | None = None, source: str | None = None,
           teach_folder: Path | None = None, autostart: bool = True, quit_after_run: bool = False,
           screenshot: str | None = None) -> int:
    try:
        from ui.app import main as ui_main
    except ImportError as exc:
        raise UsageError(f"the desktop app cannot start: {exc} (install the pyside6-essentials package)") from exc
    # The facade built by the CLI carries a --sign-in into the window.
    facade = ctx.inspector if ctx.args.sign_in else None
    return ui_main(ctx.settings, order_file=order_file, source=source, teach_folder=teach_folder,
                   autostart=autostart, quit_after_run=quit_after_run, screenshot=screenshot, facade=facade)


def run_app(args, ctx) -> int:
    return launch(ctx, order_file=Path(args.order) if args.order else None, source=args.source,
                  teach_folder=Path(args.teach_folder) if args.teach_folder else None,
                  autostart=args.autostart, quit_after_run=args.quit_after_run, screenshot=args.screenshot)
