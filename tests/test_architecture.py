"""House rules checked by the suite: the import contracts of pyproject.toml (`lint-imports`: the core
imports no UI or Qt, the UI only the facade, domain and settings, the model no training code, no
cycles in the core); files stay small enough to read in one sitting; `--help` stays light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 400


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint), "--no-cache"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def test_files_stay_readable():
    code = sorted((ROOT / "inspector").rglob("*.py")) + sorted((ROOT / "ui").rglob("*.py"))
    long = {str(p.relative_to(ROOT)): n for p in code
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"split these by responsibility (at most {MAX_LINES} lines): {long}"


def test_help_and_core_import_do_not_load_torch_or_qt():
    code = ("import sys, inspector.pipeline, inspector.cli as c; c.build_parser(); "
            "print(sorted(m for m in ('torch', 'transformers', 'PySide6') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
