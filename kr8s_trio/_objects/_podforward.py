"""Streams on objects: portforward on a pod; ReadyPodPortForward: on a Service or Deployment,
through a ready pod (filled in by the streams issue)."""

from __future__ import annotations

from kr8s_trio._objects._base import APIObject

__all__ = ["PodPortForward", "ReadyPodPortForward"]


class PodPortForward(APIObject):
    """Mixed into the kinds that have it; no kind of its own."""

    __slots__ = ()


class ReadyPodPortForward(APIObject):
    """Mixed into the kinds that have it; no kind of its own."""

    __slots__ = ()
