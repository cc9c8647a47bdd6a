"""port-forward over WebSocket (being built)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kr8s_trio.testing._status import status_error

if TYPE_CHECKING:
    from kr8s_trio.testing._http import Request
    from kr8s_trio.testing._requestinfo import RequestInfo
    from kr8s_trio.testing._state import ClusterState
    from kr8s_trio.testing._websocket import WebSocket

__all__ = ["serve_portforward"]


async def serve_portforward(
    state: ClusterState, ws: WebSocket, request: Request, info: RequestInfo
) -> None:
    """Serve ``pods/{name}/portforward`` on an upgraded WebSocket.

    Cancellation: the WebSocket is closed.
    """
    raise status_error(400, "BadRequest", "port-forward is not served yet")
