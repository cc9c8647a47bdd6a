"""Exception groups, sans IO: a context manager that owns a nursery hands back its block's
exception as itself.

With trio's strict exception groups, whatever leaves a nursery is an ``ExceptionGroup``, even a
single exception raised by the block of an ``async with`` that only happens to own a nursery
(``open_registry``, ``open_fake_cluster``); ``pytest.raises(NotFoundError)`` around such a block
would not match. A group of one is unwrapped; a real group (the block and a background task
both failing) is left as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["unwrap_single_exception"]


@contextmanager
def unwrap_single_exception() -> Iterator[None]:
    """Re-raise the only exception of an exception group leaving the block as itself."""
    try:
        yield
    except BaseExceptionGroup as group:
        if len(group.exceptions) == 1:
            raise group.exceptions[0] from None
        raise
