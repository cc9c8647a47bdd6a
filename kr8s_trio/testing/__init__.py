"""An embedded fake Kubernetes API server: in memory, over real HTTPS on loopback.

It keeps kube-apiserver's semantics (discovery, CRUD with server-set metadata, selectors,
pagination, watch with bookmarks and 410s, the four patch types, finalizers and garbage
collection, subresources, authentication and authorization) so that clients nobody here wrote,
``kubectl`` and the official ``kubernetes`` client among them, work against it unchanged. It is
a living cluster: simulated kubelets run pods (`Kubelet`), the workload controllers run
Deployments, StatefulSets, DaemonSets and Jobs, and logs, exec and attach (commands are trio
handlers of an `ExecContext`) and port-forward (handlers of a `ForwardedStream`) work.

```python
async with open_fake_cluster() as cluster:
    cluster.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})
    subprocess.run(["kubectl", "--kubeconfig", cluster.kubeconfig_path, "get", "cm"])
```

From synchronous code, `run_fake_cluster_in_thread` serves it from a background thread. The
pytest plugin (registered on install) provides the ``fake_cluster`` and ``fake_cluster_thread``
fixtures.
"""

from kr8s_trio.testing._auth import Rule, UserInfo
from kr8s_trio.testing._cluster import FakeCluster, open_fake_cluster
from kr8s_trio.testing._commands import AttachContext, CommandNotFound, Commands, ExecContext
from kr8s_trio.testing._fakefs import FakeFS
from kr8s_trio.testing._faults import Fault, Faults, RequestLog, RequestMatcher, RequestRecord
from kr8s_trio.testing._kubelet import Kubelet
from kr8s_trio.testing._ports import ForwardedStream, PortRefused, PortRegistry
from kr8s_trio.testing._state import ClusterConfig, ClusterState
from kr8s_trio.testing._thread import FakeClusterThread, run_fake_cluster_in_thread
from kr8s_trio.testing._tls import ClientCert

__all__ = [
    "AttachContext",
    "ClientCert",
    "ClusterConfig",
    "ClusterState",
    "CommandNotFound",
    "Commands",
    "ExecContext",
    "FakeCluster",
    "FakeClusterThread",
    "FakeFS",
    "Fault",
    "Faults",
    "ForwardedStream",
    "Kubelet",
    "PortRefused",
    "PortRegistry",
    "RequestLog",
    "RequestMatcher",
    "RequestRecord",
    "Rule",
    "UserInfo",
    "open_fake_cluster",
    "run_fake_cluster_in_thread",
]
