"""Shared set-up of the review-queue UI tests: the three accounts and a main window on a copied data folder."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

PASSWORDS = {"root": "root-pass-1234", "ann": "ann-pass-1234", "olaf": "olaf-pass-1234"}


def add_accounts(accounts) -> None:
    """An admin (root), a reviewer (ann) and an operator (olaf) with the passwords above."""
    admin = accounts.create_user("root", "Rita Admin", "admin", PASSWORDS["root"], None)
    accounts.create_user("ann", "Ann Smith", "reviewer", PASSWORDS["ann"], admin)
    accounts.create_user("olaf", "Olaf Op", "operator", PASSWORDS["olaf"], admin)


def open_window(qtbot, tmp_path: Path, source: Path, close_timeout_ms: int) -> Iterator:
    """Yield a shown MainWindow on a copy of the data folder ``source``; close it afterwards."""
    from inspector.pipeline import Inspector
    from inspector.settings import Settings
    from ui.app import MainWindow, make_app

    data = tmp_path / "data"
    shutil.copytree(source, data)
    make_app()
    w = MainWindow(Inspector(Settings(data_dir=data, device="cpu")))
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    yield w
    w.close()
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=close_timeout_ms)
