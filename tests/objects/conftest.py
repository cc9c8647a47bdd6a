"""The object suites' own fixture (the clusters and clients are in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kr8s_trio._objects import _classes


@pytest.fixture(autouse=True)
def registry() -> Iterator[None]:
    """Classes a test defines or makes (user subclasses, `new_class`, unknown kinds) are
    forgotten after it: the class registry is process-wide."""
    saved = list(_classes._REGISTRY)
    try:
        yield
    finally:
        _classes._REGISTRY[:] = saved
