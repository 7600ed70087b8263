"""Parts on the command line: ``--trigger MODE`` of ``inspector inspect`` and its stdin triggers.

With ``--trigger software`` every line read on stdin is one software trigger
(``Inspector.trigger``); a non-empty line is the part's id (``SN-0042``). The end of stdin
(Ctrl+D, or the end of a piped file) stops the line after the last triggered part.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable
from typing import Any, TextIO

from inspector.parts.trigger import MODES, SOFTWARE, TriggerError


def add_trigger_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--trigger", choices=MODES, default=None,
                   help="how a video or camera becomes parts: free-run (part detection, the default for a "
                        "video/camera), software (one part per line on stdin, the line is the part id), "
                        "hardware (camera trigger input) or every-frame (settings: trigger_mode)")


def start_stdin_triggers(insp: Any, cancel: threading.Event, mode: str | None, done: Callable[[], int],
                         stream: TextIO | None = None) -> threading.Thread | None:
    """In software mode, a thread that turns stdin lines into triggers; EOF stops the line.

    ``done()`` counts the parts the line finished (stored or failed); the line is stopped once
    it has finished as many as were triggered, so a piped list of ids gives one inspection per line.
    """
    if (mode or insp.settings.trigger_mode) != SOFTWARE:
        return None
    stream = stream or sys.stdin

    def read() -> None:
        sent = 0
        for line in stream:
            try:
                insp.trigger(line.strip() or None, origin="cli")
                sent += 1
            except TriggerError as exc:
                print(f"error: {exc}", file=sys.stderr)
        while done() < sent and not cancel.wait(0.1):  # the line finishes what was sent first
            pass
        cancel.set()

    thread = threading.Thread(target=read, name="inspector-stdin-triggers", daemon=True)
    thread.start()
    return thread
