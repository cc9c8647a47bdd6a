"""Streams on objects: exec, open_exec, attach and open_attach on a pod; ReadyPodExec: the same on
a Service or Deployment, through a ready pod (filled in by the streams issue)."""

from __future__ import annotations

from kr8s_trio._objects._base import APIObject

__all__ = ["PodExec", "ReadyPodExec"]


class PodExec(APIObject):
    """Mixed into the kinds that have it; no kind of its own."""

    __slots__ = ()


class ReadyPodExec(APIObject):
    """Mixed into the kinds that have it; no kind of its own."""

    __slots__ = ()
