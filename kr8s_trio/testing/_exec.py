"""exec and attach over WebSocket (being built: the simulated kubelet serves them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kr8s_trio.testing._status import status_error

if TYPE_CHECKING:
    from kr8s_trio.testing._http import Request
    from kr8s_trio.testing._requestinfo import RequestInfo
    from kr8s_trio.testing._state import ClusterState
    from kr8s_trio.testing._websocket import WebSocket

__all__ = ["serve_attach", "serve_exec"]


async def serve_exec(
    state: ClusterState, ws: WebSocket, request: Request, info: RequestInfo
) -> None:
    """Serve ``pods/{name}/exec`` on an upgraded WebSocket.

    Cancellation: the WebSocket is closed.
    """
    raise status_error(400, "BadRequest", "exec is not served yet")


async def serve_attach(
    state: ClusterState, ws: WebSocket, request: Request, info: RequestInfo
) -> None:
    """Serve ``pods/{name}/attach`` on an upgraded WebSocket.

    Cancellation: the WebSocket is closed.
    """
    raise status_error(400, "BadRequest", "attach is not served yet")
