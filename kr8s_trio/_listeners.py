"""Local listeners for port-forward: which local port per remote port (kr8s's ``"match"`` /
``"auto"`` / a number), and binding every address on one port without a check-then-bind race
(``"auto"`` binds port 0 and takes the kernel's choice on the other addresses)."""

from __future__ import annotations

import errno
from collections.abc import Sequence
from typing import Literal

import trio

__all__ = [
    "LocalPortType",
    "bind_group",
    "check_port",
    "close_all",
    "resolve_addresses",
    "wanted_local_ports",
]

#: kr8s's local port spelling: ``"match"`` (the remote port), ``"auto"`` or None (a free port,
#: bound as port 0), or a number
LocalPortType = Literal["match", "auto"] | int | None

#: tries to bind a free port on every address before giving up ("auto" with several addresses)
_AUTO_BIND_ATTEMPTS = 16


def check_port(port: object, what: str, *, allow_zero: bool = False) -> int:
    if isinstance(port, bool) or not isinstance(port, int):
        raise TypeError(f"{what} must be an int, got {port!r}")
    if not (0 if allow_zero else 1) <= port <= 65535:
        raise ValueError(f"{what} {port} is out of range")
    return port


def wanted_local_ports(
    remote_ports: tuple[int, ...], local_port: LocalPortType | Sequence[int]
) -> tuple[int, ...]:
    """The local port to bind per remote port (0: any free port)."""
    if isinstance(local_port, str) and local_port not in ("match", "auto"):
        raise ValueError(f'local_port must be "match", "auto", None or a port, not {local_port!r}')
    if local_port == "match":
        return remote_ports
    if local_port is None or local_port == "auto":
        return tuple(0 for _ in remote_ports)
    if isinstance(local_port, int):
        if len(remote_ports) != 1:
            raise ValueError(
                'several remote ports need local_port "match", "auto" or a list of ports'
            )
        return (check_port(local_port, "local_port", allow_zero=True),)
    ports = tuple(check_port(p, "local_port", allow_zero=True) for p in local_port)
    if len(ports) != len(remote_ports):
        raise ValueError(f"{len(ports)} local ports given for {len(remote_ports)} remote ports")
    return ports


async def resolve_addresses(addresses: Sequence[str]) -> list[str]:
    """Numeric IP addresses to bind for ``addresses`` (host names resolved), without repeats.

    Cancellation:
        Safe; nothing is bound yet.
    """
    hosts: list[str] = []
    for address in addresses:
        infos = await trio.socket.getaddrinfo(
            address, None, type=trio.socket.SOCK_STREAM, flags=trio.socket.AI_PASSIVE
        )
        for *_, sockaddr in infos:
            host = str(sockaddr[0])
            if host not in hosts:
                hosts.append(host)
    if not hosts:
        raise OSError(f"no address to listen on in {list(addresses)!r}")
    return hosts


async def _listen(host: str, port: int) -> trio.SocketListener:
    listeners = await trio.open_tcp_listeners(port, host=host)
    for extra in listeners[1:]:  # a numeric host gives one; be safe
        extra.socket.close()
    return listeners[0]


def close_all(listeners: Sequence[trio.SocketListener]) -> None:
    for listener in listeners:
        listener.socket.close()


async def bind_group(hosts: Sequence[str], port: int) -> list[trio.SocketListener]:
    """One listener per host, all on ``port``; port 0: a free port the kernel picks on the first
    host, then taken on the others (picked again if one of them has it in use).

    Cancellation:
        Safe: the listeners bound so far are closed.
    """
    for _ in range(_AUTO_BIND_ATTEMPTS if port == 0 else 1):
        listeners: list[trio.SocketListener] = []
        try:
            listeners.append(await _listen(hosts[0], port))
            chosen = int(listeners[0].socket.getsockname()[1])
            for host in hosts[1:]:
                listeners.append(await _listen(host, chosen))
        except OSError as exc:
            close_all(listeners)
            if port != 0 or exc.errno != errno.EADDRINUSE:
                raise
            continue
        except BaseException:
            close_all(listeners)
            raise
        return listeners
    raise OSError(errno.EADDRINUSE, f"no free port common to {list(hosts)!r}")
