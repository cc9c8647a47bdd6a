"""``python -m kr8s_trio fake-cluster``: serve a fake cluster for kubectl and friends."""

from __future__ import annotations

import argparse
import signal
import sys

import trio

from kr8s_trio.testing._cluster import open_fake_cluster
from kr8s_trio.testing._state import ClusterConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kubeconfig", required=True, help="where to write the kubeconfig (0600)")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=0, help="port to listen on (default: any free port)"
    )
    parser.add_argument(
        "--version",
        dest="k8s_version",
        default=ClusterConfig().version,
        help="gitVersion to report",
    )
    parser.add_argument(
        "--no-watch-list",
        action="store_true",
        help="reject sendInitialEvents with 422, like a server without the WatchList feature",
    )
    parser.add_argument("--anonymous", action="store_true", help="allow anonymous requests")
    parser.add_argument(
        "--no-kubelet",
        action="store_true",
        help="do not simulate kubelets (pods are stored, never scheduled or run)",
    )
    parser.add_argument(
        "--no-controllers",
        action="store_true",
        help="do not simulate workload controllers (Deployments make no ReplicaSets...)",
    )
    parser.add_argument("--nodes", type=int, default=ClusterConfig().nodes, help="simulated nodes")


async def serve(
    args: argparse.Namespace, *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED
) -> None:
    """Serve until cancelled (Ctrl-C / SIGTERM).

    Cancellation: the server stops and closes every connection; the kubeconfig file stays.
    """
    config = ClusterConfig(
        version=args.k8s_version,
        watch_list=not args.no_watch_list,
        allow_anonymous=args.anonymous,
        kubelet=not args.no_kubelet,
        controllers=not args.no_controllers,
        nodes=args.nodes,
    )
    async with open_fake_cluster(
        config, host=args.host, port=args.port, kubeconfig_path=args.kubeconfig
    ) as cluster:
        print(f"fake cluster serving at {cluster.url}", flush=True)
        print(f"kubeconfig written to {args.kubeconfig} (contexts: fake, fake-cert)", flush=True)
        task_status.started(cluster.url)
        with trio.open_signal_receiver(signal.SIGTERM) as signals:
            async for _ in signals:
                return


def main(args: argparse.Namespace) -> int:
    try:
        trio.run(serve, args)
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    return 0
