"""``python -m kr8s_trio``: the demo, and the fake cluster server for kubectl."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kr8s_trio")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="a guided tour (against the embedded fake cluster)")
    demo.add_argument("--kubeconfig", help="run against this cluster instead of the fake one")
    fake = commands.add_parser("fake-cluster", help="serve a fake Kubernetes API server")
    try:
        from kr8s_trio.testing import _cli
    except ImportError as exc:  # the fake extra is not installed
        print(
            f"the fake cluster needs the 'fake' extra (pip install 'kr8s_trio[fake]'): {exc}",
            file=sys.stderr,
        )
        return 2
    _cli.add_arguments(fake)
    args = parser.parse_args(argv)
    if args.command == "fake-cluster":
        return _cli.main(args)
    from kr8s_trio import _demo

    return _demo.main(args)


if __name__ == "__main__":
    sys.exit(main())
