"""Jittered exponential backoff, sans-IO.

`Backoff` is the state machine the watch loop consults between failed attempts: it says how long
to wait, it does not wait. The defaults are client-go's reflector and kube-rs's
``DefaultBackoff``: 0.8 s, doubling, capped at 30 s, with jitter so that many clients failing
together do not come back in lockstep.

Each delay is drawn uniformly from ``[base * (1 - jitter), base]``, where ``base`` is
``initial * factor ** n`` (``n`` failures since the last reset) capped at ``maximum``. So a
delay is never longer than ``maximum`` and never shorter than ``initial * (1 - jitter)``, and
with the default jitter of one half the ranges of successive delays do not overlap: the waits
grow until the cap. The randomness comes from the caller (``random.random``, or a constant in
tests).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import attrs

__all__ = ["Backoff"]


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{attribute.name} must be a positive finite number, got {value!r}")


def _jitter(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value < 1.0:
        raise ValueError(f"jitter must be in [0, 1), got {value!r}")


@attrs.define
class Backoff:
    """How long to wait before the next attempt, growing with each failure.

    Args:
        initial: the base delay after the first failure (seconds).
        maximum: the longest delay (seconds).
        factor: how much the base grows with each failure (at least 1).
        jitter: the fraction of the base that is randomised away, in ``[0, 1)``: the delay is
            drawn from ``[base * (1 - jitter), base]``.

    Attributes:
        failures: the delays handed out since the last `reset`.
    """

    initial: float = attrs.field(default=0.8, validator=_positive)
    maximum: float = attrs.field(default=30.0, validator=_positive)
    factor: float = attrs.field(default=2.0, validator=_positive)
    jitter: float = attrs.field(default=0.5, validator=_jitter)
    failures: int = attrs.field(default=0, init=False)

    def __attrs_post_init__(self) -> None:
        if self.factor < 1:
            raise ValueError(f"factor must be at least 1, got {self.factor!r}")
        if self.maximum < self.initial:
            raise ValueError(f"maximum ({self.maximum}) is below initial ({self.initial})")

    def base(self) -> float:
        """The ceiling of the next delay (before jitter)."""
        # compare exponents, not powers: factor ** failures overflows for long outages
        if self.factor == 1 or self.failures < math.log(self.maximum / self.initial, self.factor):
            return min(self.maximum, self.initial * self.factor**self.failures)
        return self.maximum

    def next_delay(self, random: Callable[[], float]) -> float:
        """The delay before the next attempt; counts one more failure.

        Args:
            random: returns a number in ``[0, 1)`` (``random.random``); 0 gives the longest
                delay of the range, values towards 1 the shortest.
        """
        base = self.base()
        self.failures += 1
        u = min(max(random(), 0.0), 1.0)
        return base * (1.0 - self.jitter * u)

    def reset(self) -> None:
        """Start again from ``initial`` (after an attempt that made progress)."""
        self.failures = 0
