"""Fixtures for the re-inspection tests (tests/test_reinspect_*.py, tests/test_ui_rejudge.py).

``stored_lot``: once per session, a data folder with BR-100 taught (``ui_reference_dir``), WO-1001
loaded and 8 of the 22 sample line parts (``PARTS``: OK, NG, REVIEW and the two that revision D
fails) inspected with the real embedded model on CPU, kept small so each re-judge is quick. Each test gets
its own copy (``lot_settings``), so applying a re-judge in one test never shows in another.
``tight_order``: WO-1001 revision D: pits up to 0.3 mm instead of 0.4 mm (line_06 and line_16
carry pits of about 0.33-0.35 mm that revision C passes).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from inspector.pipeline import Inspector
from inspector.settings import Settings

__all__ = ["lot_facade", "lot_settings", "stored_lot", "tight_order"]

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_ORDER = ROOT / "sample_data" / "workorders" / "WO-1001_bracket.txt"
SAMPLE_LINE = ROOT / "sample_data" / "parts" / "BR-100" / "line"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PASSWORDS = {"root": "admin-password-1", "ann": "reviewer-password-1", "olaf": "operator-password-1"}
TIGHT_FROM, TIGHT_TO = "Pits up to 0.4 mm diameter", "Pits up to 0.3 mm diameter"
TIGHTENED = ("line_06.png", "line_16.png")  # OK under revision C, NG under revision D
PARTS = tuple(f"line_{n:02d}.png" for n in (1, 4, 6, 8, 14, 16, 20, 22))
N = len(PARTS)


def settings_for(data: Path) -> Settings:
    return Settings(data_dir=data, device="cpu", explain="off", station="test-station")


@pytest.fixture(scope="session")
def stored_lot(tmp_path_factory, ui_reference_dir) -> Path:
    data = tmp_path_factory.mktemp("reinspect-lot") / "data"
    shutil.copytree(ui_reference_dir, data / "references")
    with Inspector(settings_for(data)) as facade:
        wo = facade.load_work_order(SAMPLE_ORDER)
        summary = facade.run([str(SAMPLE_LINE / name) for name in PARTS], wo)
        assert summary.inspected == N and not summary.errors
    return data


@pytest.fixture
def lot_settings(stored_lot, tmp_path) -> Settings:
    data = tmp_path / "data"
    shutil.copytree(stored_lot, data)
    return settings_for(data)


@pytest.fixture
def lot_facade(lot_settings):
    with Inspector(lot_settings) as facade:
        yield facade


@pytest.fixture
def tight_order(tmp_path) -> Path:
    text = SAMPLE_ORDER.read_text(encoding="utf-8")
    assert TIGHT_FROM in text
    path = tmp_path / "WO-1001_rev_D.txt"
    path.write_text(text.replace(TIGHT_FROM, TIGHT_TO).replace("Revision: C", "Revision: D"), encoding="utf-8")
    return path


def make_accounts(facade: Inspector) -> None:
    """An admin (root), a reviewer (ann) and an operator (olaf) in the facade's database."""
    from inspector.trace import Accounts

    accounts = Accounts(facade.store, hasher=FAST_HASHER)
    admin = accounts.create_user("root", "Rita Admin", "admin", PASSWORDS["root"], None)
    accounts.create_user("ann", "Ann Smith", "reviewer", PASSWORDS["ann"], admin)
    accounts.create_user("olaf", "Olaf Op", "operator", PASSWORDS["olaf"], admin)
