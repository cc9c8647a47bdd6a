"""pytest plugin of kr8s_trio.testing (registered through the ``pytest11`` entry point)."""
