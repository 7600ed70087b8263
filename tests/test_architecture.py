"""House rules checked by the suite: the core imports no Qt; the UI imports no SQLAlchemy or torch;
files stay small enough to read in one sitting; importing the core and `--help` stay light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _py(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_core_imports_no_qt():
    bad = {str(p.relative_to(ROOT)): sorted(_imports(p) & {"PySide6", "PyQt5", "PyQt6", "shiboken6"})
           for p in _py("inspector")}
    assert not {k: v for k, v in bad.items() if v}


def test_ui_talks_to_the_facade_not_to_storage_or_torch():
    bad = {str(p.relative_to(ROOT)): sorted(_imports(p) & {"sqlalchemy", "torch", "transformers", "alembic"})
           for p in _py("ui")}
    assert not {k: v for k, v in bad.items() if v}


def test_files_stay_readable():
    long = {str(p.relative_to(ROOT)): n for p in _py("inspector") + _py("ui")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600}
    assert not long, f"split these by responsibility: {long}"


def test_help_and_core_import_do_not_load_torch_or_qt():
    code = ("import sys, inspector.pipeline, inspector.cli as c; c.build_parser(); "
            "print(sorted(m for m in ('torch', 'transformers', 'PySide6') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
