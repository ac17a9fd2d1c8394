"""Run one of our browser modules under Node.js on JSON inputs, for parity tests."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")


def run_module(tmp_path, module: str, script: str, data: dict, notes: list[str]):
    """Run `script` with argv [module path, data.json, notes.json]; return its JSON output."""
    (tmp_path / "data.json").write_text(json.dumps(data))
    (tmp_path / "notes.json").write_text(json.dumps(notes))
    (tmp_path / "run.js").write_text(script)
    result = subprocess.run(
        ["node", str(tmp_path / "run.js"), str(ROOT / "static" / "js" / module),
         str(tmp_path / "data.json"), str(tmp_path / "notes.json")],
        capture_output=True, text=True, check=True, timeout=60,
    )
    return json.loads(result.stdout)
