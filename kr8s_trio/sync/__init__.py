"""The blocking facade of kr8s_trio (``import kr8s_trio.sync as kr8s``): being built.

Nothing is exported yet. The groundwork is `kr8s_trio.sync._portal`: a trio loop in a daemon
thread hosting a client registry, and the bridges (``call``, ``iterate``, ``enter``) the
generated sync wrappers will use. See issue 7 and DESIGN.md section 2, "Sync facade".
"""
