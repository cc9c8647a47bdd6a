"""Port-forward, trio-native: `PortForward` (kr8s's ``kr8s.asyncio.portforward.PortForward``).

```python
from kr8s_trio.objects import Pod, Service

pod = await Pod.get("web-0")
async with pod.portforward(8080, local_port="auto") as pf:   # listens on 127.0.0.1
    print(pf.local_port)
svc = await Service.get("web")
async with trio.open_nursery() as nursery:                   # or run it in a nursery
    pf = await nursery.start(svc.portforward([80, 443], "auto", ["127.0.0.1", "::1"]).run)
```

Each accepted connection gets its own WebSocket to ``pods/<name>/portforward`` (the kubelet's
channel protocol); a Service or Deployment goes through a ready pod, picked at random and kept
until a connection to it fails. Differences from kr8s: ``async with`` yields the forward (the
port is ``pf.local_port``), ``"auto"`` binds port 0 (no race), several remote ports and several
addresses are served by one forward, failures are logged (``kr8s_trio.portforward``) and kept in
``pf.errors`` instead of surfacing in a background task. kr8s's sync ``start()`` / ``stop()``
belong to the sync facade.
"""

from kr8s_trio._portforward import (
    LocalPortType as LocalPortType,
    PortForward as PortForward,
    PortForwardError as PortForwardError,
)

__all__ = ["LocalPortType", "PortForward", "PortForwardError"]
