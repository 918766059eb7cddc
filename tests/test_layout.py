"""The package layout: data flows one way, and nothing below the studio imports the app or the command line."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from support.paths import REPO

PACKAGE = REPO / "dancegen"
SHARED = {"errors", "config", "spec", "hub", "onnxrt"}  # helpers every stage may use
# stage -> the stages it may import (besides SHARED): inputs -> face / music -> pose / choreo -> pipeline -> metrics
ALLOWED = {
    "io": set(),
    "face": {"io"},
    "music": {"io"},
    "pose": set(),
    "choreo": {"pose", "music"},
    "motion": {"io", "pose", "music", "choreo"},
    "models": {"io"},
    "pipeline": {"models"},
    "metrics": {"face", "pose"},
    "timing": set(),  # the studio's run-time estimates
    "train": {"io", "face", "pose", "models", "pipeline"},  # clips -> trained identity weights (beside the studio)
    # the dance without the video (the studio's choreography, and ``dancegen choreograph`` without torch)
    "dance": {"io", "face", "music", "pose", "choreo", "metrics", "motion"},
    "studio": {"io", "face", "music", "pose", "choreo", "models", "pipeline", "metrics", "timing", "dance"},
    # a study runs the studio per cell: a caller of the studio beside the app and the command line
    "study": {"studio", "metrics", "io", "models"},  # models: presets and trained folders, named without loading
    "app": {"studio", "dance", "choreo", "music", "metrics", "cli", "study"},  # choreo: the panel edits plans
    "cli": {"studio", "dance", "face", "music", "io", "study", "train", "motion"},
}


def imports_of(path: Path) -> set[str]:
    """The dancegen stages a module imports (first part after ``dancegen.``), relative imports resolved."""
    parts = path.relative_to(REPO).with_suffix("").parts  # ("dancegen", "face", "analyser")
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts[: len(parts) - node.level]
                name = ".".join(base + ((node.module,) if node.module else ()))
            else:
                name = node.module or ""
            names = [name] if node.module or node.level == 0 else [f"{name}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for n in names:
            if n.startswith("dancegen.") and len(n.split(".")) > 1:
                found.add(n.split(".")[1])
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__main__.py")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_each_stage_imports_only_the_stages_before_it(path):
    rel = path.relative_to(PACKAGE).with_suffix("").parts
    stage = rel[0]
    if stage in SHARED or stage == "__init__":
        assert imports_of(path) <= SHARED - {stage}, path
        return
    wrong = imports_of(path) - ALLOWED[stage] - SHARED - {stage}
    assert not wrong, f"{path.relative_to(REPO)} imports {sorted(wrong)}"


def test_rendering_does_not_import_the_planner_and_no_module_is_huge():
    assert "choreo" not in imports_of(PACKAGE / "pose" / "render.py")
    sizes = {p.relative_to(REPO): len(p.read_text().splitlines()) for p in MODULES}
    assert max(sizes.values()) <= 450, max(sizes.items(), key=lambda kv: kv[1])


def test_importing_the_package_and_the_app_settings_loads_nothing_heavy():
    code = ("import sys, dancegen, dancegen.config, dancegen.errors, dancegen.cli, dancegen.app.serve, "
            "dancegen.app.review, dancegen.cli.eval; "
            "print(sorted(m for m in ('torch', 'gradio', 'insightface', 'onnxruntime', 'cv2', 'librosa') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
