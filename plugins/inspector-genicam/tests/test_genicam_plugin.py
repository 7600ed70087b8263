"""The plugin as the station sees it: registered in ``inspector.sources`` and ``inspector.commands``;
without Aravis it is listed FAILED by ``inspector plugins`` with what to install, and the rest of
Inspector still works (the command, other sources)."""

from __future__ import annotations

import json
import subprocess
import sys

from inspector import plugins

NO_GI = "import sys; sys.modules['gi'] = None\n"  # `import gi` raises ImportError, as without PyGObject


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_registered_and_loaded_here():
    rows = {(r.group, r.name): r for r in plugins.status(("inspector.sources", "inspector.commands"))}
    source = rows[("inspector.sources", "genicam")]
    assert source.loaded and source.distribution == "inspector-genicam", source
    assert rows[("inspector.commands", "genicam")].loaded


def test_without_aravis_the_plugin_is_listed_failed_with_what_to_install():
    proc = _run(NO_GI + "from inspector.cli import main\nsys.exit(main(['plugins', '--json']))")
    assert proc.returncode == 1, proc.stderr  # something failed to load: a script can tell
    rows = {(r["group"], r["name"]): r for r in json.loads(proc.stdout)}
    genicam = rows[("inspector.sources", "genicam")]
    assert not genicam["loaded"]
    assert "Aravis is not importable" in genicam["error"] and "gir1.2-aravis-0.8" in genicam["error"]
    assert rows[("inspector.sources", "folder")]["loaded"]  # the station runs without it
    assert "Traceback" not in proc.stderr


def test_without_aravis_the_text_listing_and_the_command_say_why():
    proc = _run(NO_GI + "from inspector.cli import main\nmain(['plugins', '--group', 'sources'])")
    line = next(ln for ln in proc.stdout.splitlines() if " genicam " in ln)
    assert "FAILED" in line and "Aravis is not importable" in proc.stdout
    proc = _run(NO_GI + "from inspector.cli import main\nsys.exit(main(['genicam', 'list']))")
    assert proc.returncode == 2 and "error: Aravis is not importable" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = _run(NO_GI + "from inspector.sources import open_source\n"
                "from inspector.errors import InspectorError\n"
                "try:\n    open_source('genicam:127.0.0.1')\nexcept InspectorError as exc:\n    print('refused:', exc)\n")
    assert "refused: plugin 'genicam'" in proc.stdout and "Aravis is not importable" in proc.stdout
