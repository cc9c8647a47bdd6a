"""Sans-IO core of kr8s_trio: pure data and algorithms, no trio, no httpx, no sockets.

Everything here can be used (and is tested) without an event loop: the exception tree, label and
field selectors, patch application, merge markers of built-in kinds. The I/O layers (the client
and the fake API server in `kr8s_trio.testing`) are built on top.
"""
