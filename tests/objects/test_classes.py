"""The class registry: `get_class` spellings, user subclasses winning, `new_class` and its
discovery of plural and scope, `guess_plural`; custom resources end to end in the fake."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from contextlib import aclosing
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from crds import crd

import kr8s_trio
from kr8s_trio import Api, NotFoundError
from kr8s_trio._objects._classes import guess_plural
from kr8s_trio.objects import (
    APIObject,
    CustomResourceDefinition,
    Deployment,
    Event,
    HorizontalPodAutoscaler,
    Ingress,
    NetworkPolicy,
    Pod,
    get_class,
    new_class,
    object_from_spec,
)
from kr8s_trio.testing import FakeCluster

JSON = dict[str, Any]


# -- get_class ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        "Deployment",
        "deployment",
        "deployments",
        "deploy",
        "DEPLOY",
        "DeployMents",
        "Deployment.apps",
        "deploy.apps",
        "deployments.apps",
        "deployment.v1.apps",
        "deployment.apps/v1",
        "Deployments.Apps/v1",
    ],
)
def test_get_class_accepts_every_kubectl_spelling(spelling: str) -> None:
    assert get_class(spelling) is Deployment


@pytest.mark.parametrize(
    ("kind", "version", "expected"),
    [
        ("deployment", "apps/v1", Deployment),
        ("Deployment", "apps/v1", Deployment),
        ("pod", "v1", Pod),
        ("po", None, Pod),
        ("pods/v1", None, Pod),
        ("pod.v1", None, Pod),
        ("hpa", "autoscaling/v2", HorizontalPodAutoscaler),
        ("ing", None, Ingress),
        ("networkpolicies.networking.k8s.io", None, NetworkPolicy),
        ("netpol.v1.networking.k8s.io", None, NetworkPolicy),
        ("event", "v1", Event),
        ("crds", None, CustomResourceDefinition),
    ],
)
def test_get_class_with_version_argument_and_core_spellings(
    kind: str, version: str | None, expected: type[APIObject]
) -> None:
    assert get_class(kind, version) is expected


@pytest.mark.parametrize(
    ("kind", "version"),
    [
        ("nope", None),
        ("deployment.batch", None),
        ("deployment.v2.apps", None),
        ("deployment", "apps/v2"),
        ("deployment", "batch/v1"),
        ("deployment", "v1"),  # "v1" is the core group
        ("pod", "apps/v1"),
        ("hpa", "autoscaling/v1"),  # only the v2 class is defined
    ],
)
def test_get_class_unknown_raises_key_error(kind: str, version: str | None) -> None:
    with pytest.raises(KeyError, match="no class"):
        get_class(kind, version)


def test_get_class_user_subclass_defined_later_wins() -> None:
    class MyPod(Pod):
        def greeting(self) -> str:
            return f"hello {self.name}"

    for spelling in ("pod", "Pod", "pods", "po", "pod.v1", "pods/v1"):
        assert get_class(spelling) is MyPod
    assert get_class("pod", "v1") is MyPod
    spec = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}}
    obj = object_from_spec(spec)
    assert type(obj) is MyPod
    assert obj.greeting() == "hello x"

    class Later(MyPod):
        pass

    assert get_class("po") is Later
    assert get_class("deploy") is Deployment  # other kinds are untouched


def test_get_class_registry_restored_after_user_subclass() -> None:
    # (the autouse fixture forgot the previous test's classes)
    assert get_class("pod") is Pod


async def test_get_and_watch_yield_user_subclass(cluster: FakeCluster, api: Api) -> None:
    class MyPod(Pod):
        pass

    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "a"},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        }
    )
    got = [p async for p in kr8s_trio.get("pods")]
    assert [type(p) for p in got] == [MyPod]
    got = [p async for p in kr8s_trio.get("po", "a")]
    assert [type(p) for p in got] == [MyPod]
    with trio.fail_after(5):
        async with aclosing(kr8s_trio.watch("pods")) as events:
            async for event, obj in events:
                assert event == "ADDED"
                assert type(obj) is MyPod
                assert obj.name == "a"
                break


# -- new_class and guess_plural -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "plural"),
    [
        ("Policy", "policies"),
        ("NetworkPolicy", "networkpolicies"),
        ("Ingress", "ingresses"),
        ("IngressClass", "ingressclasses"),
        ("Class", "classes"),
        ("Key", "keys"),
        ("Gateway", "gateways"),
        ("Box", "boxes"),
        ("Match", "matches"),
        ("Mesh", "meshes"),
        ("Widget", "widgets"),
    ],
)
def test_guess_plural_follows_kubernetes_code_generators(kind: str, plural: str) -> None:
    assert guess_plural(kind) == plural


def test_new_class_defaults_from_qualified_kind() -> None:
    widget = new_class("Widget.example.com/v1")
    assert issubclass(widget, APIObject)
    assert widget.__name__ == "Widget"
    assert widget.kind == "Widget"
    assert widget.version == "example.com/v1"
    assert widget.plural == widget.endpoint == "widgets"
    assert widget.singular == "widget"
    assert widget.namespaced is True  # until discovery says otherwise
    assert widget.scalable is False
    assert widget.scalable_spec == "replicas"
    assert widget.builtin is False
    assert widget.discover is True
    assert get_class("widget.example.com") is widget
    assert get_class("widgets", "example.com/v1") is widget
    obj = widget({"metadata": {"name": "w"}})
    assert obj.raw["apiVersion"] == "example.com/v1"
    assert obj.raw["kind"] == "Widget"
    with pytest.raises(NotImplementedError):
        _ = obj.replicas


def test_new_class_overrides() -> None:
    policy = new_class(
        "Policy",
        version="example.com/v2",
        namespaced=False,
        scalable=True,
        scalable_spec="size",
        plural="policyz",
    )
    assert policy.version == "example.com/v2"
    assert policy.plural == policy.endpoint == "policyz"
    assert policy.namespaced is False
    assert policy.scalable is True
    assert policy.scalable_spec == "size"
    assert policy.discover is False
    assert policy({"metadata": {"name": "p"}, "spec": {"size": 4}}).replicas == 4
    assert get_class("policyz") is policy
    assert new_class("Plain").version == "v1"
    assert new_class("Sized", scalable_spec="count").scalable is True
    assert new_class("Policy.example.com/v1").plural == "policies"  # not kr8s's "policys"


async def test_new_class_takes_plural_and_scope_from_discovery(
    cluster: FakeCluster, api: Api
) -> None:
    await CustomResourceDefinition(crd("example.com", "mice", "Mouse", scope="Cluster")).create()
    mouse = new_class("Mouse.example.com/v1")
    assert (mouse.plural, mouse.namespaced) == ("mouses", True)  # guesses until first use
    m1 = mouse({"metadata": {"name": "m1"}, "spec": {"color": "grey"}})
    await m1.create()
    assert (mouse.plural, mouse.endpoint, mouse.namespaced) == ("mice", "mice", False)
    assert mouse.discover is False
    assert get_class("mice") is mouse
    assert get_class("mouse.example.com/v1") is mouse
    assert m1.namespace is None
    served = cluster.get("mice.example.com", "m1", namespace=None)
    assert served["spec"] == {"color": "grey"}
    assert cluster.requests.filter(verb="create", resource="mice")[-1].namespace is None
    await mouse({"metadata": {"name": "m2"}}).create()
    listed = [m async for m in mouse.list()]
    assert sorted(m.name for m in listed) == ["m1", "m2"]
    assert {type(m) for m in listed} == {mouse}
    assert sorted(m.name for m in [m async for m in kr8s_trio.get("mice")]) == ["m1", "m2"]
    got = await mouse.get("m1")
    assert got.raw["spec"] == {"color": "grey"}
    assert got == m1
    await m1.delete()
    assert not await m1.exists()
    with pytest.raises(NotFoundError):
        await mouse.get("m1")
    assert [m.name async for m in mouse.list()] == ["m2"]


async def test_new_class_discovery_also_on_classmethods(cluster: FakeCluster, api: Api) -> None:
    # the first use may be a class method (get / list) rather than an object's verb
    await CustomResourceDefinition(crd("example.com", "geese", "Goose", scope="Cluster")).create()
    cluster.create({"apiVersion": "example.com/v1", "kind": "Goose", "metadata": {"name": "g"}})
    goose = new_class("Goose.example.com/v1")
    got = await goose.get("g")
    assert got.name == "g"
    assert type(got) is goose
    assert (goose.plural, goose.namespaced) == ("geese", False)


async def test_new_class_explicit_plural_and_scope_skip_discovery(
    cluster: FakeCluster, api: Api
) -> None:
    await CustomResourceDefinition(crd("example.com", "gadgets", "Gadget")).create()
    gadget = new_class("Gadget.example.com/v1", plural="gadgets", namespaced=True)
    assert gadget.discover is False
    cluster.requests.clear()
    await gadget({"metadata": {"name": "g"}}).create()
    assert cluster.get("gadgets.example.com", "g")["metadata"]["namespace"] == "default"
    assert not [r for r in cluster.requests if r.path in ("/api", "/apis")]


async def test_crd_kind_found_by_get_via_discovery(cluster: FakeCluster, api: Api) -> None:
    # no class defined: `get` makes one from discovery, with the CRD's names
    await CustomResourceDefinition(
        crd("example.com", "octopi", "Octopus", scope="Cluster", shortNames=["oct"])
    ).create()
    cluster.create({"apiVersion": "example.com/v1", "kind": "Octopus", "metadata": {"name": "o"}})
    (obj,) = [o async for o in kr8s_trio.get("oct")]
    cls = type(obj)
    assert (cls.kind, cls.version, cls.plural, cls.namespaced) == (
        "Octopus",
        "example.com/v1",
        "octopi",
        False,
    )
    assert get_class("octopus.example.com") is cls
    with pytest.raises(KeyError):
        [o async for o in kr8s_trio.get("squid")]


async def test_new_class_for_unserved_kind_keeps_guesses_and_gets_404(
    autojump_clock: trio.testing.MockClock, cluster: FakeCluster, api: Api
) -> None:
    sprocket = new_class("Sprocket.example.com/v1")
    obj = sprocket({"metadata": {"name": "s"}})
    with pytest.raises(NotFoundError):
        await obj.create()
    assert (sprocket.plural, sprocket.namespaced) == ("sprockets", True)
    record = cluster.requests.filter(method="POST")[-1]
    assert record.path == "/apis/example.com/v1/namespaces/default/sprockets"
    assert not await obj.exists()
    # once the CRD is installed, a use after the discovery refresh interval finds it
    await CustomResourceDefinition(
        crd("example.com", "sprocketry", "Sprocket", scope="Cluster")
    ).create()
    with pytest.raises(NotFoundError):
        await obj.create()  # (misses refresh discovery at most every 30 s)
    await trio.sleep(api.discovery.refresh_interval)
    await obj.create()
    assert (sprocket.plural, sprocket.namespaced) == ("sprocketry", False)
    assert cluster.get("sprocketry.example.com", "s", namespace=None)["metadata"]["uid"]
    assert get_class("sprocketry") is sprocket


def test_get_finds_builtin_kinds_without_importing_objects(tmp_path: Path) -> None:
    """``kr8s_trio.get("pods")`` must yield our `Pod` (with its helpers) even when the program
    never imported ``kr8s_trio.objects`` (a fresh interpreter: the classes register on
    definition). A class a user defined before the built-ins were loaded still wins."""
    code = textwrap.dedent(
        """
        import kr8s_trio
        from kr8s_trio._objects._base import APIObject
        from kr8s_trio._objects._classes import get_class

        class MyLease(APIObject):
            version = "coordination.k8s.io/v1"
            kind = "Lease"
            namespaced = True

        assert get_class("pods").__module__ == "kr8s_trio._objects._core_v1", get_class("pods")
        assert hasattr(get_class("po"), "ready")
        assert get_class("leases") is MyLease
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert result.returncode == 0, result.stderr
