"""The blocking facade (`kr8s_trio.sync`) used as a user would: ``import kr8s_trio.sync as kr8s``
against a living fake cluster served from a background thread. No sleeps: every wait is on a
result, a server-side condition (``wait``) or a thread's completion."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import kr8s_trio
import kr8s_trio.objects
import kr8s_trio.sync as kr8s
import kr8s_trio.sync.objects as sync_objects
from kr8s_trio._objects import _classes
from kr8s_trio.sync.objects import Pod
from kr8s_trio.testing import FakeClusterThread

JSON = dict[str, Any]


@pytest.fixture
def class_registry() -> Iterator[None]:
    """Forget the classes a test defines or makes (the class registry is process-wide)."""
    saved = list(_classes._REGISTRY)
    try:
        yield
    finally:
        _classes._REGISTRY[:] = saved


def pod_manifest(name: str, namespace: str = "default", **labels: str) -> JSON:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]},
    }


def namespace_manifest(name: str) -> JSON:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def widget_crd() -> JSON:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }


def widget(name: str, size: int) -> JSON:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"size": size},
    }


# -- the seed examples ----------------------------------------------------------------------


def test_facade_version(sync_cluster: FakeClusterThread) -> None:
    info = kr8s.version()
    assert info["gitVersion"].startswith("v")
    assert kr8s.api().version() == info


def test_facade_get_all_namespaces_prints_names(
    sync_cluster: FakeClusterThread, capsys: pytest.CaptureFixture[str]
) -> None:
    sync_cluster.create(namespace_manifest("team-a"))
    sync_cluster.create(pod_manifest("alpha", "default"))
    sync_cluster.create(pod_manifest("beta", "team-a"), namespace="team-a")
    for pod in kr8s.get("pods", namespace=kr8s.ALL):
        print(pod.name)
    assert sorted(capsys.readouterr().out.split()) == ["alpha", "beta"]


def test_facade_api_cache_by_arguments(
    sync_cluster: FakeClusterThread, other_cluster: FakeClusterThread
) -> None:
    first = kr8s.api(kubeconfig=str(sync_cluster.kubeconfig_path))
    assert isinstance(first, kr8s.Api)
    assert kr8s_trio.Api not in type(first).__mro__
    assert kr8s.api(kubeconfig=str(sync_cluster.kubeconfig_path)) is first
    second = kr8s.api(kubeconfig=str(other_cluster.kubeconfig_path))
    assert second is not first
    assert kr8s.api() is first
    # each client talks to its own cluster
    other_cluster.create(pod_manifest("only-on-other"))
    assert [p.name for p in kr8s.get("pods", api=second)] == ["only-on-other"]
    assert [p.name for p in kr8s.get("pods", api=first)] == []


def test_facade_pod_get_returns_sync_pod_on_cached_client(sync_cluster: FakeClusterThread) -> None:
    sync_cluster.create(pod_manifest("some-pod"))
    pod = Pod.get("some-pod")
    assert isinstance(pod, sync_objects.Pod)
    assert kr8s_trio.objects.Pod not in type(pod).__mro__
    assert pod.name == "some-pod"
    assert pod.api is kr8s.api()


def test_facade_uncached_clients(sync_cluster: FakeClusterThread) -> None:
    sync_cluster.create(pod_manifest("some-pod"))
    api = kr8s.Api(bypass_factory=True)
    api2 = kr8s.Api(bypass_factory=True)
    try:
        assert api is not api2
        assert api is not kr8s.api()
        assert api2 is not kr8s.api()
        assert api.version()["gitVersion"] == api2.version()["gitVersion"]
        pod = Pod.get("some-pod", api=api2)
        assert pod.api is api2
    finally:
        api.close()
        api2.close()
    assert api.closed
    assert api2.closed


def test_facade_api_without_bypass_factory_raises_like_async() -> None:
    with pytest.raises(ValueError, match="bypass_factory") as async_error:
        kr8s_trio.Api()
    with pytest.raises(type(async_error.value), match="bypass_factory"):
        kr8s.Api()


def test_facade_object_without_api_uses_cached_client(sync_cluster: FakeClusterThread) -> None:
    pod = Pod(pod_manifest("lazy"))
    unbound = pod.api
    assert unbound is None
    pod.create()
    assert pod.api is kr8s.api()
    assert sync_cluster.get("pods", "lazy")["metadata"]["uid"] == pod.metadata.uid


# -- objects --------------------------------------------------------------------------------


def test_facade_object_verbs(sync_cluster: FakeClusterThread) -> None:
    pod = Pod.gen(name="verbs", image="nginx")
    assert isinstance(pod, sync_objects.Pod)
    pod.create()
    assert pod.metadata.uid
    pod.wait("condition=Ready", timeout=30)
    assert pod.ready()
    sync_cluster.patch("pods", "verbs", {"metadata": {"annotations": {"by": "server"}}})
    before = pod.metadata.resourceVersion
    pod.refresh()
    server = sync_cluster.get("pods", "verbs")
    assert pod.metadata.resourceVersion == server["metadata"]["resourceVersion"] != before
    assert pod.raw["metadata"]["annotations"]["by"] == "server"
    pod.patch({"metadata": {"labels": {"tier": "web"}}})
    assert pod.labels["tier"] == "web"
    pod.label(app="demo")
    assert pod.labels["app"] == "demo"
    assert sync_cluster.get("pods", "verbs")["metadata"]["labels"] == {
        "tier": "web",
        "app": "demo",
    }
    assert [p.name for p in kr8s.get("pods", label_selector={"app": "demo"})] == ["verbs"]
    pod.delete()
    pod.wait("delete", timeout=30)
    assert not pod.exists()
    with pytest.raises(kr8s.NotFoundError):
        pod.refresh()


def test_facade_get_class_is_sync() -> None:
    assert sync_objects.get_class("pods") is sync_objects.Pod
    assert sync_objects.get_class("deploy") is sync_objects.Deployment


def test_facade_new_class_is_sync(sync_cluster: FakeClusterThread, class_registry: None) -> None:
    sync_objects.CustomResourceDefinition(widget_crd()).create()
    Widget = sync_objects.new_class("Widget.example.com/v1", namespaced=True)
    assert issubclass(Widget, sync_objects.APIObject)
    assert kr8s_trio.objects.APIObject not in Widget.__mro__
    w = Widget(widget("w1", 3))
    w.create()
    assert sync_cluster.get("widgets.example.com", "w1")["spec"]["size"] == 3
    got = list(kr8s.get("widgets.example.com"))
    assert [type(g) for g in got] == [Widget]
    assert got[0].spec.size == 3


def test_facade_user_subclass_comes_back_from_get(
    sync_cluster: FakeClusterThread, class_registry: None
) -> None:
    sync_objects.CustomResourceDefinition(widget_crd()).create()

    class MyWidget(sync_objects.APIObject):
        version = "example.com/v1"
        kind = "Widget"
        plural = "widgets"
        singular = "widget"
        namespaced = True

        def size(self) -> int:
            return int(self.raw["spec"]["size"])

    sync_cluster.create(widget("w2", 7), namespace="default")
    got = list(kr8s.get("widgets"))
    assert [type(g) for g in got] == [MyWidget]
    assert got[0].size() == 7
    fetched = MyWidget.get("w2")
    assert type(fetched) is MyWidget
    fetched.patch({"spec": {"size": 8}})
    assert fetched.size() == 8
    assert type(sync_objects.object_from_spec(widget("x", 1))) is MyWidget


def test_facade_object_from_spec(sync_cluster: FakeClusterThread) -> None:
    spec = pod_manifest("from-spec")
    obj = sync_objects.object_from_spec(spec)
    assert type(obj) is sync_objects.Pod
    assert obj.raw is spec
    obj.create()
    assert sync_cluster.get("pods", "from-spec")["metadata"]["uid"] == obj.metadata.uid


def test_facade_objects_from_files(sync_cluster: FakeClusterThread, tmp_path: Path) -> None:
    manifest = tmp_path / "app.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  k: v\n"
        "---\n"
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: from-file\n"
        "spec:\n  containers:\n  - name: c\n    image: nginx\n"
    )
    objs = sync_objects.objects_from_files(manifest)
    assert [type(o) for o in objs] == [sync_objects.ConfigMap, sync_objects.Pod]
    assert objs[0].raw["data"] == {"k": "v"}
    for obj in objs:
        obj.create()
        assert obj.metadata.uid
    assert sync_cluster.get("configmaps", "settings")["data"] == {"k": "v"}
    assert [p.name for p in kr8s.get("pods")] == ["from-file"]


def test_facade_create_and_apply_update_the_given_objects(sync_cluster: FakeClusterThread) -> None:
    made = sync_objects.ConfigMap(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}
    )
    created = kr8s.create([made])
    assert created[0].metadata.uid == sync_cluster.get("configmaps", "a")["metadata"]["uid"]
    applied = sync_objects.ConfigMap(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}}
    )
    kr8s.apply([applied])
    assert made.raw["metadata"].get("uid") == created[0].metadata.uid
    assert made.api is kr8s.api()
    assert (
        applied.raw["metadata"].get("uid") == sync_cluster.get("configmaps", "b")["metadata"]["uid"]
    )
    assert created[0] is made


def test_facade_adopt_updates_the_child(sync_cluster: FakeClusterThread) -> None:
    owner = sync_objects.ConfigMap(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "o"}}
    )
    child = sync_objects.ConfigMap(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    )
    owner.create()
    child.create()
    owner.adopt(child)
    server = sync_cluster.get("configmaps", "c")["metadata"]["ownerReferences"]
    assert [ref["uid"] for ref in server] == [owner.metadata.uid]
    assert child.raw["metadata"].get("ownerReferences") == server


def test_facade_object_watch_yields_the_object_updated(sync_cluster: FakeClusterThread) -> None:
    pod = Pod(pod_manifest("watched-self"))
    pod.create()
    with pod.watch() as events:
        sync_cluster.patch("pods", "watched-self", {"metadata": {"labels": {"seen": "yes"}}})
        for event, obj in events:
            if obj.labels.get("seen") == "yes":
                assert event == "MODIFIED"
                break
    assert pod.labels.get("seen") == "yes"
    assert obj is pod


def test_facade_returns_twins_of_discovery_and_exec(sync_cluster: FakeClusterThread) -> None:
    code = textwrap.dedent(
        """
        import kr8s_trio.sync as kr8s
        from kr8s_trio.sync.objects import Pod
        discovery = kr8s.api().discovery
        print(type(discovery).__module__)
        pod = Pod.gen(name="exec-twin", image="nginx")
        pod.create()
        pod.wait("condition=Ready", timeout=30)
        with pod.open_exec(["echo", "hi"]) as proc:
            print(type(proc).__module__)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["kr8s_trio.sync._twins", "kr8s_trio.sync._twins"]


# -- call_api -------------------------------------------------------------------------------


def test_facade_call_api_context_manager(sync_cluster: FakeClusterThread) -> None:
    for name in ("one", "two", "three"):
        sync_cluster.create(pod_manifest(name))
    api = kr8s.api()
    with api.call_api("GET", url="pods", namespace="") as r:
        assert r.status_code == 200
        assert sorted(p["metadata"]["name"] for p in r.json()["items"]) == ["one", "three", "two"]
    with api.call_api("GET", url="pods", namespace="") as r:
        body = b"".join(r.iter_bytes())
    assert b'"three"' in body
    with api.call_api("GET", url="pods/two", namespace="default") as r:
        lines = list(r.iter_lines())
    assert '"two"' in "".join(lines)
    missing = api.call_api("GET", url="pods/missing", namespace="default")
    with pytest.raises(kr8s.NotFoundError), missing:
        pass


def test_facade_call_api_streams_a_watch(sync_cluster: FakeClusterThread) -> None:
    sync_cluster.create(pod_manifest("watched"))
    api = kr8s.api()
    with api.call_api("GET", url="pods", namespace="default", params={"watch": "true"}) as r:
        lines = r.iter_lines()
        first = next(line for line in lines if line)
        lines.close()
    assert '"ADDED"' in first
    assert '"watched"' in first


# -- registries -----------------------------------------------------------------------------


def test_facade_open_registry(sync_cluster: FakeClusterThread) -> None:
    outer = kr8s.api()
    outer_registry = kr8s.current_registry()
    with kr8s.open_registry() as registry:
        assert isinstance(registry, kr8s.Registry)
        inner = kr8s.api()
        assert inner is not outer
        assert kr8s.current_registry() is registry
        assert registry.clients == [inner]
        assert inner.version()["gitVersion"]
        assert not inner.closed
    assert inner.closed
    assert not outer.closed
    assert kr8s.api() is outer
    assert kr8s.current_registry() is outer_registry


def test_facade_api_without_arguments_answers_without_a_hop(
    sync_cluster: FakeClusterThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kr8s_trio.sync._portal import portal

    first = kr8s.api()

    def no_hop(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a hop to the portal")

    with monkeypatch.context() as patched:
        patched.setattr(portal(), "run", no_hop)
        assert kr8s.api() is first  # the registry's first client, read in this thread
        with pytest.raises(AssertionError, match="a hop"):
            kr8s.api(kubeconfig=sync_cluster.kubeconfig_path, namespace="other")  # not cached
    with kr8s.open_registry():  # in a registry of its own: asked in the portal
        assert kr8s.api() is not first
