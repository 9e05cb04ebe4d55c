"""Helpers of the config tests: scenario files written into the test's temporary folder."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest


@pytest.fixture
def scenario_file(tmp_path):
    """``scenario_file(text, name="my.yaml", folder=tmp_path)``: write dedented YAML, return its path."""

    def write(text: str, name: str = "my.yaml", folder: Path | None = None) -> Path:
        folder = folder or tmp_path
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_text(textwrap.dedent(text))
        return path

    return write
