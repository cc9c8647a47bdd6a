"""`Backoff`: the jittered exponential delays between failed watch attempts."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import given, strategies as st

from kr8s_trio._core._backoff import Backoff

unit = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)
backoffs = st.builds(
    Backoff,
    initial=st.floats(min_value=0.001, max_value=10.0),
    maximum=st.floats(min_value=10.0, max_value=1000.0),
    factor=st.floats(min_value=1.0, max_value=10.0),
    jitter=st.floats(min_value=0.0, max_value=0.99),
)


def const(u: float) -> Callable[[], float]:
    return lambda: u


def test_backoff_defaults_match_client_go() -> None:
    b = Backoff()
    assert (b.initial, b.maximum, b.factor) == (0.8, 30.0, 2.0)
    delays = [b.next_delay(lambda: 0.0) for _ in range(8)]
    assert delays == [0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30.0, 30.0]


@given(backoffs, st.lists(unit, min_size=1, max_size=60))
def test_backoff_delays_stay_within_bounds(b: Backoff, draws: list[float]) -> None:
    for n, u in enumerate(draws):
        base = min(b.maximum, b.initial * b.factor**n)
        delay = b.next_delay(const(u))
        assert delay <= b.maximum * (1 + 1e-12)
        assert delay >= b.initial * (1 - b.jitter) * (1 - 1e-12)
        assert delay == pytest.approx(base * (1 - b.jitter * u))


@given(backoffs, st.integers(min_value=0, max_value=10_000))
def test_backoff_long_outage_is_capped_without_overflow(b: Backoff, failures: int) -> None:
    b.failures = failures
    delay = b.next_delay(lambda: 0.0)
    assert math.isfinite(delay)
    assert delay <= b.maximum


@given(backoffs, st.lists(unit, min_size=2, max_size=30))
def test_backoff_ceiling_never_shrinks_until_reset(b: Backoff, draws: list[float]) -> None:
    ceilings = []
    for u in draws:
        ceilings.append(b.base())
        b.next_delay(const(u))
    assert ceilings == sorted(ceilings)
    b.reset()
    assert b.failures == 0
    assert b.base() == b.initial


def test_backoff_default_jitter_ranges_do_not_overlap() -> None:
    b = Backoff()
    longest_first = b.next_delay(lambda: 0.0)
    b.reset()
    b.next_delay(lambda: 0.0)
    shortest_second = b.next_delay(lambda: 0.999999)
    assert shortest_second >= longest_first


def test_backoff_reset_starts_again_from_initial() -> None:
    b = Backoff()
    for _ in range(5):
        b.next_delay(lambda: 0.0)
    assert b.next_delay(lambda: 0.0) == 25.6
    b.reset()
    assert b.next_delay(lambda: 0.0) == 0.8


def test_backoff_out_of_range_random_is_clamped() -> None:
    b = Backoff(jitter=0.5)
    assert b.next_delay(lambda: 7.0) == 0.4
    assert b.next_delay(lambda: -1.0) == 1.6


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial": 0},
        {"initial": -1},
        {"maximum": math.inf},
        {"factor": 0.5},
        {"jitter": 1.0},
        {"jitter": -0.1},
        {"initial": 10, "maximum": 5},
    ],
)
def test_backoff_rejects_bad_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"must|below"):
        Backoff(**kwargs)
