"""The README's loader snippet runs as printed, against an output folder named `pack`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from report_fixture import build_output

README = Path(__file__).resolve().parents[2] / "README.md"
MARKER = "<!-- readme-loader-snippet"


def readme_snippet() -> str:
    """The first python block after the marker comment."""
    text = README.read_text(encoding="utf-8")
    assert MARKER in text, f"{README.name} lost its {MARKER} marker"
    found = re.search(r"```python\n(.*?)```", text[text.index(MARKER):], re.DOTALL)
    assert found, "no python block after the marker"
    return found.group(1)


def test_readme_loader_snippet_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build_output(tmp_path / "pack")
    monkeypatch.chdir(tmp_path)
    names: dict = {}
    exec(compile(readme_snippet(), str(README), "exec"), names)
    assert len(names["input_ids"]) == 8  # the last row of the smallest bucket
    assert names["state"] == {"bucket": 8, "world_size": 1, "epoch": 1, "next_row": 0}
