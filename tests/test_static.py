"""The static checks of the project standards, run with the suite so CI enforces them:
``mypy --strict`` on the package, ``ruff check`` and ``ruff format --check`` on everything."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ["kr8s_trio", "tests", "benchmarks"]


def _tool(name: str) -> list[str]:
    exe = Path(sys.executable).with_name(name)
    if exe.exists():
        return [str(exe)]
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed")
    return [found]


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)


def test_static_ruff_check_is_clean() -> None:
    result = _run([*_tool("ruff"), "check", *TARGETS])
    assert result.returncode == 0, result.stdout + result.stderr


def test_static_ruff_format_is_clean() -> None:
    result = _run([*_tool("ruff"), "format", "--check", *TARGETS])
    assert result.returncode == 0, result.stdout + result.stderr


def test_static_mypy_strict_is_clean() -> None:
    result = _run([*_tool("mypy"), "--strict", "kr8s_trio"])
    assert result.returncode == 0, result.stdout + result.stderr
