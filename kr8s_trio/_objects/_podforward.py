"""Streams on objects: ``portforward`` on a pod (`PodPortForward`), and on a Service or
Deployment through one of its ready pods (`ReadyPodPortForward`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kr8s_trio._objects._base import APIObject

if TYPE_CHECKING:
    from kr8s_trio._portforward import LocalPortType, PortForward

__all__ = ["PodPortForward", "ReadyPodPortForward"]


def _portforward(
    resource: APIObject,
    remote_port: int | Sequence[int],
    local_port: LocalPortType | Sequence[int],
    address: str | Sequence[str],
    ready_timeout: float,
    eof_linger: float | None,
) -> PortForward:
    from kr8s_trio._portforward import PortForward

    return PortForward(
        resource,
        remote_port,
        local_port,
        address,
        ready_timeout=ready_timeout,
        eof_linger=eof_linger,
    )


class PodPortForward(APIObject):
    """Mixed into the kinds that have it; no kind of its own."""

    __slots__ = ()

    def portforward(
        self,
        remote_port: int | Sequence[int],
        local_port: LocalPortType | Sequence[int] = "match",
        address: str | Sequence[str] = "127.0.0.1",
        *,
        eof_linger: float | None = 1.0,
    ) -> PortForward:
        """A `PortForward` of ``remote_port`` (or a list of ports) of this pod, to use as
        ``async with pod.portforward(80, "auto") as pf:`` (``pf.local_port``) or in a nursery
        (``await nursery.start(pf.run)``). Nothing is done until then.

        Raises:
            ValueError: the ports do not fit (see `PortForward`).
        """
        return _portforward(self, remote_port, local_port, address, 60.0, eof_linger)


class ReadyPodPortForward(APIObject):
    """Mixed into the kinds that have it; no kind of its own."""

    __slots__ = ()

    def portforward(
        self,
        remote_port: int | Sequence[int],
        local_port: LocalPortType | Sequence[int] = "match",
        address: str | Sequence[str] = "127.0.0.1",
        *,
        ready_timeout: float = 60.0,
        eof_linger: float | None = 1.0,
    ) -> PortForward:
        """A `PortForward` of ``remote_port`` (or a list of ports) through a ready pod of this
        object: picked at random on the first connection, kept until a connection to it fails,
        waited for at most ``ready_timeout`` seconds (``remote_port`` is the pod's port, not
        the Service's).

        Raises:
            ValueError: the ports do not fit (see `PortForward`).
        """
        return _portforward(self, remote_port, local_port, address, ready_timeout, eof_linger)
