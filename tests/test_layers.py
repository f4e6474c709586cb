"""The package reads as its pipeline: each stage folder imports only the stages before it, and
no modules import each other in a circle. The contracts live in pyproject.toml
(`[tool.importlinter]`); `make lint` runs the same check."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import smallretail_llm

REPO = Path(__file__).resolve().parents[1]


def test_stages_import_only_earlier_stages_and_nothing_imports_in_a_circle():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint is None:
        pytest.skip("import-linter is not installed (the dev extra)")
    done = subprocess.run([lint, "--no-cache"], cwd=REPO, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_every_stage_is_a_folder_of_the_package():
    """A new top-level module must go into a stage (or be an entry point), or the layers
    contract would not see it."""
    root = Path(smallretail_llm.__file__).parent
    loose = sorted(p.name for p in root.glob("*.py"))
    assert loose == ["__init__.py", "demo.py"], loose
    folders = sorted(p.name for p in root.iterdir() if (p / "__init__.py").is_file())
    entry_points = ["cli"]  # the command line: a package on top of every stage, not a stage
    assert folders == sorted(["core", "grounding", "db", "catalog", "baseline", "data", "models",
                              "training", "serving", "evaluation", "bench", *entry_points])
