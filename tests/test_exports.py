"""The public surface and the layering rules of DESIGN.md, enforced."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import kr8s_trio
import kr8s_trio.testing

PACKAGE = Path(kr8s_trio.__file__).parent


def _module_names() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.walk_packages([str(PACKAGE)], prefix="kr8s_trio.")
        if not info.name.endswith("__main__")
    )


def _imports_of(path: Path) -> set[str]:
    """Absolute module names imported anywhere in a file (including inside functions)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("module", [kr8s_trio, kr8s_trio.testing])
def test_exports_all_is_sorted_and_complete(module: object) -> None:
    names = module.__all__  # type: ignore[attr-defined]
    assert list(names) == sorted(names)
    for name in names:
        assert hasattr(module, name), name
    # (pytest rewrites plugin packages and leaves "@py_builtins" and friends behind)
    public = {n for n in vars(module) if n[0] not in "_@"} - {"annotations"}
    submodules = {"objects", "portforward", "sync", "testing"}
    assert public - submodules <= set(names)


def test_exports_exceptions_reexported_once() -> None:
    from kr8s_trio._core import _exceptions

    assert sorted(_exceptions.__all__) == sorted(
        n
        for n in kr8s_trio.__all__
        if isinstance(getattr(kr8s_trio, n), type) and issubclass(getattr(kr8s_trio, n), Exception)
    )
    for name in _exceptions.__all__:
        assert getattr(kr8s_trio, name) is getattr(_exceptions, name)


def test_exports_core_does_not_load_trio_or_httpx() -> None:
    code = (
        "import sys, pkgutil, importlib, kr8s_trio._core as core\n"
        "for m in pkgutil.iter_modules(core.__path__):\n"
        "    importlib.import_module('kr8s_trio._core.' + m.name)\n"
        "bad = sorted(m for m in ('trio', 'httpx', 'hypercorn') if m in sys.modules)\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


@pytest.mark.parametrize("name", _module_names())
def test_exports_layering(name: str) -> None:
    module = importlib.import_module(name)
    path = Path(module.__file__ or "")
    imports = _imports_of(path)
    local = {i for i in imports if i.startswith("kr8s_trio")}
    if name.startswith("kr8s_trio._core"):
        assert not {i.split(".")[0] for i in imports} & {"trio", "httpx", "hypercorn", "trustme"}
        assert all(i.startswith("kr8s_trio._core") for i in local), local
    elif not name.startswith("kr8s_trio.testing") and name != "kr8s_trio._demo":
        # library code never imports the fake server
        assert not any(i.startswith("kr8s_trio.testing") for i in local), local


def test_exports_testing_package_has_no_public_submodules() -> None:
    for info in pkgutil.iter_modules(kr8s_trio.testing.__path__):
        assert info.name.startswith("_"), info.name
