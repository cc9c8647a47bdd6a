"""Streams on objects: copy_to / copy_from (tar over exec, like kubectl cp) (filled in by the
streams issue)."""

from __future__ import annotations

from kr8s_trio._objects._base import APIObject

__all__ = ["PodCopy"]


class PodCopy(APIObject):
    """Mixed into the kinds that have it; no kind of its own."""

    __slots__ = ()
