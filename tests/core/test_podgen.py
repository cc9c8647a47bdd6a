"""Pod manifests like kr8s's ``Pod.gen`` (`_core._podgen`)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, strategies as st

from kr8s_trio._core._podgen import pod_manifest


def _container(manifest: dict[str, object]) -> dict[str, Any]:
    spec = manifest["spec"]
    assert isinstance(spec, dict)
    (container,) = spec["containers"]
    assert isinstance(container, dict)
    return container


def test_pod_manifest_minimal() -> None:
    assert pod_manifest(name="web", image="nginx") == {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web"},
        "spec": {"containers": [{"name": "web", "image": "nginx"}], "restartPolicy": "Always"},
    }


def test_pod_manifest_all_fields() -> None:
    manifest = pod_manifest(
        name="web",
        image="nginx:1.27",
        namespace="prod",
        annotations={"a": "b"},
        labels={"app": "web"},
        command=["nginx", "-g", "daemon off;"],
        env={"MODE": "fast", "WORKERS": 4},
        resources={"limits": {"cpu": "1"}},
        image_pull_policy="IfNotPresent",
        ports=[80, {"containerPort": 443, "name": "https"}],
        restart="Never",
    )
    assert manifest["metadata"] == {
        "name": "web",
        "namespace": "prod",
        "labels": {"app": "web"},
        "annotations": {"a": "b"},
    }
    assert manifest["spec"]["restartPolicy"] == "Never"  # type: ignore[index]
    assert _container(manifest) == {
        "name": "web",
        "image": "nginx:1.27",
        "command": ["nginx", "-g", "daemon off;"],
        "env": [{"name": "MODE", "value": "fast"}, {"name": "WORKERS", "value": "4"}],
        "resources": {"limits": {"cpu": "1"}},
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"containerPort": 80}, {"containerPort": 443, "name": "https"}],
    }


def test_pod_manifest_generate_name_uses_generic_container_name() -> None:
    manifest = pod_manifest(generate_name="job-", image="busybox")
    assert manifest["metadata"] == {"generateName": "job-"}
    assert _container(manifest)["name"] == "container"


def test_pod_manifest_dotted_pod_name_gets_valid_container_name() -> None:
    manifest = pod_manifest(name="web.v2", image="nginx")
    assert manifest["metadata"] == {"name": "web.v2"}
    assert _container(manifest)["name"] == "container"


def test_pod_manifest_copies_inputs() -> None:
    resources = {"limits": {"cpu": "1"}}
    labels = {"app": "web"}
    manifest = pod_manifest(name="p", image="i", resources=resources, labels=labels)
    resources["limits"]["cpu"] = "2"
    labels["app"] = "other"
    assert _container(manifest)["resources"] == {"limits": {"cpu": "1"}}
    assert manifest["metadata"]["labels"] == {"app": "web"}  # type: ignore[index]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"image": "nginx"}, "exactly one of name and generate_name"),
        ({"name": "a", "generate_name": "a-", "image": "nginx"}, "exactly one of name"),
        ({"name": "a", "image": ""}, "image: a non-empty image"),
        ({"name": "A_B", "image": "nginx"}, "name: 'A_B' is invalid"),
        ({"generate_name": "", "image": "nginx"}, "generate_name: must not be empty"),
        ({"generate_name": "a.", "image": "nginx"}, "generate_name: 'a.' is invalid"),
        ({"name": "a", "image": "i", "namespace": "a.b"}, "namespace: 'a.b' is invalid"),
        ({"name": "a", "image": "i", "restart": "Sometimes"}, "restart: 'Sometimes'"),
        ({"name": "a", "image": "i", "image_pull_policy": "always"}, "image_pull_policy"),
        ({"name": "a", "image": "i", "ports": 0}, "ports: 0 is not a valid port"),
        ({"name": "a", "image": "i", "ports": [80, 70000]}, r"ports\[1\]: 70000"),
        ({"name": "a", "image": "i", "ports": [{"name": "x"}]}, r"ports\[0\].containerPort"),
        ({"name": "a", "image": "i", "env": {"": "v"}}, "variable name '' must be"),
    ],
)
def test_pod_manifest_value_errors_name_the_argument(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pod_manifest(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"command": "sleep 10"}, "command: expected a list of strings"),
        ({"command": ["sleep", 10]}, r"command\[1\]: expected a string"),
        ({"ports": "80"}, "ports: expected a port number or a list"),
        ({"ports": [True]}, r"ports\[0\]: expected a port number"),
        ({"env": "A=b"}, "env: expected a mapping or a list"),
        ({"env": [{"value": "x"}]}, r"env\[0\]: expected an EnvVar dict"),
        ({"labels": {"a": 1}}, "labels: key 'a'"),
    ],
)
def test_pod_manifest_type_errors_name_the_argument(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        pod_manifest(name="a", image="i", **kwargs)


def test_pod_manifest_env_type_error_hides_value() -> None:
    secret = object()
    with pytest.raises(TypeError) as info:
        pod_manifest(name="a", image="i", env={"TOKEN": secret})  # type: ignore[dict-item]
    assert "TOKEN" in str(info.value)
    assert repr(secret) not in str(info.value)


_port = st.integers(1, 65535)


@given(st.one_of(_port, st.lists(st.one_of(_port, _port.map(lambda p: {"containerPort": p})))))
def test_pod_manifest_ports_forms_normalise(ports: int | list[int | dict[str, int]]) -> None:
    container = _container(pod_manifest(name="p", image="i", ports=ports))
    as_list = [ports] if isinstance(ports, int) else ports
    numbers = [p if isinstance(p, int) else p["containerPort"] for p in as_list]
    assert [p["containerPort"] for p in container["ports"]] == numbers
    assert all(set(p) == {"containerPort"} for p in container["ports"])


_env_name = st.text(alphabet="ABCXYZ_019", min_size=1, max_size=8)


@given(st.dictionaries(_env_name, st.one_of(st.text(max_size=10), st.integers())))
def test_pod_manifest_env_dict_and_list_agree(env: dict[str, str | int]) -> None:
    from_dict = _container(pod_manifest(name="p", image="i", env=env))["env"]
    assert from_dict == [{"name": k, "value": str(v)} for k, v in env.items()]
    from_list = _container(pod_manifest(name="p", image="i", env=from_dict))["env"]
    assert from_list == from_dict
