"""Ages and durations the way kubectl prints them, against an injected ``now``.

Table cells show how long ago something happened (``5m``, ``3h10m``, ``2d3h``); the real server
computes them from its clock, the fake from a caller-supplied ``now`` so that output is
deterministic under test.
"""

from __future__ import annotations

from datetime import UTC, datetime

import attrs

__all__ = ["Clock", "human_duration", "parse_time"]


def human_duration(seconds: float) -> str:
    """A duration the way kubectl prints ages: ``45s``, ``3m2s``, ``17m``, ``5h10m``, ``2d3h``.

    Follows apimachinery's ``duration.HumanDuration``: about two significant units, ``0s`` for a
    slightly negative duration (clock skew) and ``<invalid>`` below -1 s.
    """
    if int(seconds) < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    whole = int(seconds)
    if whole < 120:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        rest = whole % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        years, days = hours // 24 // 365, (hours // 24) % 365
        return f"{years}y{days}d" if days else f"{years}y"
    return f"{hours // 24 // 365}y"


@attrs.frozen
class Clock:
    now: datetime

    def since(self, timestamp: object) -> str:
        """``translateTimestampSince``: the age of an RFC 3339 timestamp, ``<unknown>`` if unset."""
        when = parse_time(timestamp)
        if when is None:
            return "<unknown>"
        return human_duration((self.now - when).total_seconds())

    def between(self, start: object, end: object) -> str:
        a, b = parse_time(start), parse_time(end)
        if a is None or b is None:
            return ""
        return human_duration((b - a).total_seconds())


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
