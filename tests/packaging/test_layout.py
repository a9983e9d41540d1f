"""The install is one import name, `longweave`, whose sub-packages are the repository's
top-level folders; nothing a user's own files are called can shadow it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT

FOLDERS = ("schemas", "sources", "filters", "synth", "pipeline", "jobs", "recipes")
HOSTILE = {  # a user's training repository with files named like ours and the stdlib's
    "filters.py": "raise ImportError('the user filters.py was imported')\n",
    "pipeline.py": "raise ImportError('the user pipeline.py was imported')\n",
    "tokenize.py": "raise ImportError('the user tokenize.py was imported')\n",
    "schemas/__init__.py": "raise ImportError('the user schemas/ was imported')\n",
}


def declared_packages() -> list[str]:
    tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11")
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"] == {"longweave": "."}
    return config["packages"]


def test_every_package_folder_is_declared_and_nothing_else() -> None:
    found = ["longweave"]
    for folder in FOLDERS:
        for root, dirs, files in os.walk(PROJECT_ROOT / folder):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            if "__init__.py" in files:
                rel = Path(root).relative_to(PROJECT_ROOT)
                found.append("longweave." + ".".join(rel.parts))
    assert sorted(declared_packages()) == sorted(found)


@pytest.fixture()
def hostile_folder(tmp_path: Path) -> Path:
    for name, text in HOSTILE.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_cli_and_a_benchmark_run_from_a_folder_with_shadowing_files(hostile_folder: Path) -> None:
    cli = Path(sys.executable).with_name("longweave")
    if not cli.exists():
        pytest.skip("the longweave console script is not installed in this environment")
    result = _run([str(cli), "--help"], hostile_folder)
    assert result.returncode == 0, result.stderr
    assert "validate" in result.stdout
    bench = PROJECT_ROOT / "benchmarks" / "bench_pack.py"
    result = _run([sys.executable, str(bench), "--help"], hostile_folder)
    assert result.returncode == 0, result.stderr
    assert "usage" in result.stdout.lower()


def test_the_old_top_level_names_are_not_installed(tmp_path: Path) -> None:
    for name in (*FOLDERS, "longweave.filters"):
        result = _run([sys.executable, "-c", f"import {name}"], tmp_path)
        assert (result.returncode == 0) == name.startswith("longweave."), (name, result.stderr)


@pytest.mark.slow
def test_the_wheel_holds_only_longweave(tmp_path: Path) -> None:
    # built from a copy: an in-tree build would leave build/ (and stale files) in the clone
    source = tmp_path / "src"
    shutil.copytree(PROJECT_ROOT, source, ignore=shutil.ignore_patterns(
        ".venv", "venv", ".git", "build", "*.egg-info", "__pycache__", "longweave-work"))
    result = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                   "-q", "-w", str(tmp_path), str(source)], tmp_path)
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("longweave-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"longweave", next(t for t in tops if t.endswith(".dist-info"))}
    for needed in ("longweave/__init__.py", "longweave/jobs/cli.py",
                   "longweave/pipeline/transforms/pack.py", "longweave/recipes/demo.yaml",
                   "longweave/recipes/samples/notes.jsonl",
                   "longweave/pipeline/report/templates/report.html.j2"):
        assert needed in names, needed
    assert not any(n.startswith(("longweave/tests/", "longweave/benchmarks/")) for n in names)
