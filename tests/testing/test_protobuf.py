"""Protobuf request bodies: the wire-format decoder, the ``k8s\\x00`` envelope, the HTTP answers.

Messages are built with a tiny encoder written here (the test does not use the decoder to make
what it decodes). Like client-go's generated marshallers, the messages carry the zero values of
non-pointer fields (an empty ``generateName``, ``generation`` 0, a zero ``creationTimestamp``),
which JSON would omit; the decoder must drop them the same way. Field numbers are those of the
``generated.proto`` files of k8s.io/api.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from support import CORE, failure, seed_pod

from kr8s_trio._core._exceptions import APIError
from kr8s_trio.testing import FakeCluster
from kr8s_trio.testing._auth import Rule
from kr8s_trio.testing._protobuf import (
    ProtobufError,
    decode_message,
    decode_protobuf_body,
    read_envelope,
)
from kr8s_trio.testing._protoschemas import MESSAGES

JSON = dict[str, Any]
PROTOBUF = "application/vnd.kubernetes.protobuf"

# -- a tiny encoder -----------------------------------------------------------------------------


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative numbers: two's complement on 64 bits, as Go encodes int32/64
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def num(field: int, n: int) -> bytes:
    """A varint field (int32, int64, bool)."""
    return varint(field << 3) + varint(n)


def blob(field: int, payload: bytes) -> bytes:
    """A length-delimited field (string, bytes, message)."""
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def text(field: int, value: str) -> bytes:
    return blob(field, value.encode())


def entry(field: int, key: str, value: bytes) -> bytes:
    """One map entry: ``value`` is the encoded value field (number 2)."""
    return blob(field, text(1, key) + value)


def string_map(field: int, **items: str) -> bytes:
    return b"".join(entry(field, k, text(2, v)) for k, v in items.items())


def intstr(field: int, value: int | str) -> bytes:
    if isinstance(value, int):
        return blob(field, num(1, 0) + num(2, value) + text(3, ""))
    return blob(field, num(1, 1) + num(2, 0) + text(3, value))


def quantity(value: str) -> bytes:
    return text(1, value)


def meta(name: str = "", namespace: str = "", *extra: bytes) -> bytes:
    """ObjectMeta as gogo writes it: every non-pointer field, zero or not, and a zero Time."""
    return (
        text(1, name)
        + text(2, "")
        + text(3, namespace)
        + text(4, "")  # selfLink (deprecated, still on the wire)
        + text(5, "")
        + text(6, "")
        + num(7, 0)
        + blob(8, b"")  # creationTimestamp: the zero time is an empty message
        + b"".join(extra)
    )


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = text(1, api_version) + text(2, kind)
    return b"k8s\x00" + blob(1, type_meta) + blob(2, raw) + text(3, "") + text(4, "")


def decode(message: str, data: bytes) -> JSON:
    return decode_message(data, MESSAGES[message])


# -- decoding kinds -----------------------------------------------------------------------------


def test_namespace_as_kubectl_create_sends_it() -> None:
    body = envelope("v1", "Namespace", blob(1, meta("foo")) + blob(2, b"") + blob(3, text(1, "")))
    assert decode_protobuf_body(body) == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "foo", "creationTimestamp": None},
        "spec": {},
        "status": {},
    }


def test_configmap_maps_bytes_and_metadata() -> None:
    raw = (
        blob(
            1,
            meta(
                "c",
                "foo",
                string_map(11, app="web", tier="front"),
                string_map(12, note="a=b"),
                text(14, "example.com/keep"),
                text(14, "example.com/other"),
            ),
        )
        + string_map(2, a="b", empty="")
        + entry(3, "bin", blob(2, b"\x00\xff"))
        + num(4, 1)
    )
    assert decode("ConfigMap", raw) == {
        "metadata": {
            "name": "c",
            "namespace": "foo",
            "creationTimestamp": None,
            "labels": {"app": "web", "tier": "front"},
            "annotations": {"note": "a=b"},
            "finalizers": ["example.com/keep", "example.com/other"],
        },
        "data": {"a": "b", "empty": ""},
        "binaryData": {"bin": "AP8="},
        "immutable": True,
    }


def test_secret_data_is_base64_and_pointer_false_is_kept() -> None:
    raw = blob(1, meta("s")) + entry(2, "p", blob(2, b"q")) + text(3, "Opaque") + num(5, 0)
    assert decode("Secret", raw) == {
        "metadata": {"name": "s", "creationTimestamp": None},
        "data": {"p": base64.b64encode(b"q").decode()},
        "type": "Opaque",
        "immutable": False,  # *bool: present on the wire means set, even to false
    }


def container() -> bytes:
    env_from_secret = (
        text(1, "PASSWORD")
        + text(2, "")
        + blob(3, blob(4, blob(1, text(1, "creds")) + text(2, "pw") + num(3, 1)))
    )
    resources = entry(1, "cpu", blob(2, quantity("500m"))) + entry(
        2, "memory", blob(2, quantity("64Mi"))
    )
    return (
        text(1, "nginx")
        + text(2, "nginx:1.27")
        + text(3, "nginx")
        + text(4, "-g")
        + text(4, "daemon off;")
        + text(5, "")
        + blob(6, text(1, "") + num(2, 0) + num(3, 80) + text(4, "TCP") + text(5, ""))
        + blob(7, text(1, "MODE") + text(2, "prod"))
        + blob(7, env_from_secret)
        + blob(8, resources)
        + blob(11, blob(1, blob(2, text(1, "/healthz") + intstr(2, "http"))) + num(4, 5))
        + text(13, "")
        + text(14, "IfNotPresent")
        + num(16, 0)
        + num(17, 0)
        + num(18, 0)
    )


def test_deployment_with_a_pod_template() -> None:
    selector = string_map(1, app="d")
    template = blob(1, meta("", "", string_map(11, app="d"))) + blob(
        2, blob(2, container()) + text(3, "Always") + num(4, 30) + text(6, "")
    )
    strategy = text(1, "RollingUpdate") + blob(2, intstr(1, 1) + intstr(2, "25%"))
    spec = (
        num(1, 0)  # replicas: 0 is a value, not "unset"
        + blob(2, selector)
        + blob(3, template)
        + blob(4, strategy)
        + num(5, 0)
        + num(7, 0)
    )
    raw = blob(1, meta("d", "default")) + blob(2, spec) + blob(3, num(1, 0) + num(2, 0))
    obj = decode_protobuf_body(envelope("apps/v1", "Deployment", raw))
    assert obj["apiVersion"] == "apps/v1"
    assert obj["kind"] == "Deployment"
    assert obj["status"] == {}
    assert obj["spec"] == {
        "replicas": 0,
        "selector": {"matchLabels": {"app": "d"}},
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"},
        },
        "template": {
            "metadata": {"creationTimestamp": None, "labels": {"app": "d"}},
            "spec": {
                "containers": [
                    {
                        "name": "nginx",
                        "image": "nginx:1.27",
                        "command": ["nginx"],
                        "args": ["-g", "daemon off;"],
                        "ports": [{"containerPort": 80, "protocol": "TCP"}],
                        "env": [
                            {"name": "MODE", "value": "prod"},
                            {
                                "name": "PASSWORD",
                                "valueFrom": {
                                    "secretKeyRef": {"name": "creds", "key": "pw", "optional": True}
                                },
                            },
                        ],
                        "resources": {"limits": {"cpu": "500m"}, "requests": {"memory": "64Mi"}},
                        "readinessProbe": {
                            "httpGet": {"path": "/healthz", "port": "http"},
                            "periodSeconds": 5,
                        },
                        "imagePullPolicy": "IfNotPresent",
                    }
                ],
                "restartPolicy": "Always",
                "terminationGracePeriodSeconds": 30,
            },
        },
    }


def test_volumes_inline_their_source_and_packed_repeated_numbers_decode() -> None:
    volume = text(1, "config") + blob(2, blob(19, blob(1, text(1, "cm")) + num(3, 420)))
    packed = blob(4, varint(1000) + varint(2000))
    spec = blob(1, volume) + blob(14, packed + num(4, 3000) + num(2, 0))
    assert decode("PodSpec", spec) == {
        "volumes": [{"name": "config", "configMap": {"name": "cm", "defaultMode": 420}}],
        "securityContext": {"supplementalGroups": [1000, 2000, 3000], "runAsUser": 0},
    }


def test_service_ports_with_int_or_string_target_ports() -> None:
    port = text(1, "http") + text(2, "TCP") + num(3, 80) + intstr(4, 8080) + num(5, 0)
    named = text(1, "") + text(2, "") + num(3, 443) + intstr(4, "https") + num(5, 0)
    spec = blob(1, port) + blob(1, named) + string_map(2, app="web") + text(4, "ClusterIP")
    raw = blob(1, meta("web")) + blob(2, spec) + blob(3, b"")
    assert decode("Service", raw)["spec"] == {
        "ports": [
            {"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080},
            {"port": 443, "targetPort": "https"},
        ],
        "selector": {"app": "web"},
        "type": "ClusterIP",
    }


def test_times_negative_numbers_and_managed_fields() -> None:
    fields_v1 = b'{"f:metadata":{"f:labels":{"f:app":{}}}}'
    managed = (
        text(1, "kubectl-create")
        + text(2, "Update")
        + text(3, "v1")
        + blob(4, num(1, 1735689600))
        + text(6, "FieldsV1")
        + blob(7, blob(1, fields_v1))
    )
    raw = meta(
        "x",
        "",
        blob(9, num(1, 1735689601) + num(2, 999)),  # nanos are dropped, as metav1.Time does
        num(10, 30),
        blob(17, managed),
    )
    assert decode("ObjectMeta", raw) == {
        "name": "x",
        "creationTimestamp": None,
        "deletionTimestamp": "2025-01-01T00:00:01Z",
        "deletionGracePeriodSeconds": 30,
        "managedFields": [
            {
                "manager": "kubectl-create",
                "operation": "Update",
                "apiVersion": "v1",
                "time": "2025-01-01T00:00:00Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:labels": {"f:app": {}}}},
            }
        ],
    }
    assert decode("Toleration", num(5, -1)) == {"tolerationSeconds": -1}
    assert decode("ContainerPort", num(3, -5)) == {"containerPort": -5}


def test_unknown_fields_of_every_wire_type_are_skipped() -> None:
    fixed64 = varint(90 << 3 | 1) + b"\x01" * 8
    fixed32 = varint(91 << 3 | 5) + b"\x02" * 4
    unknown = num(92, 7) + blob(93, blob(1, b"nested")) + fixed64 + fixed32
    raw = unknown + text(1, "sa") + num(4, 1)
    assert decode("ObjectMeta", raw) == {"name": "sa"}
    assert decode("ServiceAccount", blob(1, raw) + num(4, 0) + unknown) == {
        "metadata": {"name": "sa"},
        "automountServiceAccountToken": False,
    }


def test_map_entries_without_a_value_hold_the_zero_value() -> None:
    assert decode("ResourceRequirements", blob(1, text(1, "cpu"))) == {"limits": {"cpu": "0"}}
    assert decode("ConfigMap", blob(2, text(1, "k")) + blob(3, text(1, "b"))) == {
        "data": {"k": ""},
        "binaryData": {"b": ""},
    }


def test_the_last_value_on_the_wire_wins() -> None:
    assert decode("ObjectMeta", text(1, "a") + text(1, "b")) == {"name": "b"}
    assert decode("ObjectMeta", text(1, "a") + text(1, "")) == {}


def test_review_and_eviction_bodies() -> None:
    attributes = (
        text(1, "dev")
        + text(2, "list")
        + text(3, "")
        + text(4, "")
        + text(5, "pods")
        + text(6, "")
        + text(7, "")
    )
    ssar = blob(1, meta()) + blob(2, blob(1, attributes)) + blob(3, num(1, 0))
    assert decode_protobuf_body(
        envelope("authorization.k8s.io/v1", "SelfSubjectAccessReview", ssar)
    ) == {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "metadata": {"creationTimestamp": None},
        "spec": {"resourceAttributes": {"namespace": "dev", "verb": "list", "resource": "pods"}},
    }
    sar_spec = (
        text(3, "alice")
        + text(4, "devs")
        + entry(5, "scopes", blob(2, text(1, "a") + text(1, "b")))
    )
    assert decode("SubjectAccessReviewSpec", sar_spec) == {
        "user": "alice",
        "groups": ["devs"],
        "extra": {"scopes": ["a", "b"]},
    }
    token = blob(1, meta("sa", "default")) + blob(2, text(1, "api") + num(4, 600))
    assert decode("TokenRequest", token)["spec"] == {"audiences": ["api"], "expirationSeconds": 600}
    options = num(1, 0) + blob(2, text(1, "uid-1")) + text(4, "Background")
    eviction = blob(1, meta("p", "default")) + blob(2, options)
    assert decode("Eviction", eviction) == {
        "metadata": {"name": "p", "namespace": "default", "creationTimestamp": None},
        "deleteOptions": {
            "gracePeriodSeconds": 0,
            "preconditions": {"uid": "uid-1"},
            "propagationPolicy": "Background",
        },
    }


def test_rbac_and_ingress_bodies() -> None:
    binding = (
        blob(1, meta("rb"))
        + blob(
            2, text(1, "User") + text(2, "rbac.authorization.k8s.io") + text(3, "bob") + text(4, "")
        )
        + blob(3, text(1, "rbac.authorization.k8s.io") + text(2, "Role") + text(3, "r"))
    )
    assert decode("RoleBinding", binding) == {
        "metadata": {"name": "rb", "creationTimestamp": None},
        "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "bob"}],
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
    }
    backend = blob(4, text(1, "svc1") + blob(2, text(1, "") + num(2, 8080)))
    path = text(1, "/bar") + blob(2, backend) + text(3, "Exact")
    rule = text(1, "foo.com") + blob(2, blob(1, blob(1, path)))
    assert decode("IngressSpec", blob(3, rule)) == {
        "rules": [
            {
                "host": "foo.com",
                "http": {
                    "paths": [
                        {
                            "path": "/bar",
                            "pathType": "Exact",
                            "backend": {"service": {"name": "svc1", "port": {"number": 8080}}},
                        }
                    ]
                },
            }
        ]
    }


# -- malformed input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (text(1, "abc")[:-1], "unexpected EOF"),  # the string is cut short
        (b"\x0a", "unexpected EOF"),  # a tag and no length
        (b"\x38\x80", "unexpected EOF"),  # a varint cut short
        (b"\x38" + b"\xff" * 10 + b"\x01", "proto: integer overflow"),
        (b"\x00\x01", "proto: ObjectMeta: illegal tag 0 (wire type 0)"),
        (b"\x0b", "proto: illegal wireType 3"),
        (b"\x0f", "proto: illegal wireType 7"),
        (num(1, 5), "proto: wrong wireType = 0 for field Name"),
        (text(7, "x"), "proto: wrong wireType = 2 for field Generation"),
        (
            b"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
            "proto: negative length found during unmarshaling",
        ),
    ],
)
def test_malformed_messages_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(ProtobufError) as err:
        decode("ObjectMeta", data)
    assert str(err.value) == message


NOT_PROTOBUF = (
    "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]"
)


def test_envelope_checks() -> None:
    assert read_envelope(envelope("v1", "Pod", b"\x0a\x00")) == ("v1", "Pod", b"\x0a\x00")
    for body, message in [
        (b"", "empty data"),
        (b"k8s\x00", "empty body"),
        (
            b'{"kind":"Pod"}',
            NOT_PROTOBUF,
        ),
        (
            b"k8s",
            NOT_PROTOBUF,
        ),
        (b"k8s\x00\x0a\x05\x0a", "unexpected EOF"),
        (b"k8s\x00" + text(3, "gzip"), "unsupported content encoding 'gzip'"),
    ]:
        with pytest.raises(ProtobufError) as err:
            read_envelope(body)
        assert str(err.value) == message, body


def api_error(body: bytes) -> APIError:
    with pytest.raises(APIError) as err:
        decode_protobuf_body(body)
    return err.value


def test_request_errors_are_worded_like_kube_apiserver() -> None:
    bad = api_error(b'{"kind":"Namespace","apiVersion":"v1","metadata":{}}')
    assert bad.code == 400
    assert bad.message == (
        "the object provided is unrecognized (must be of type Object): provided data does not "
        'appear to be a protobuf message, expected prefix [107 56 115 0] ({"kind":"Namespace",'
        '"apiVersio ...)'
    )
    truncated = api_error(envelope("v1", "Namespace", blob(1, text(1, "foo"))[:-2]))
    assert truncated.code == 400
    assert truncated.message == (
        'Namespace in version "v1" cannot be handled as a Namespace: unexpected EOF'
    )
    short = api_error(b"k8s\x00\x0a")
    assert short.message == (
        "the object provided is unrecognized (must be of type Object): unexpected EOF (6b3873000a)"
    )
    untyped = api_error(b"k8s\x00" + blob(2, b""))
    assert untyped.code == 400
    assert "Object 'Kind' is missing" in untyped.message


def test_kinds_without_a_schema_are_415() -> None:
    err = api_error(envelope("example.com/v1", "Widget", b""))
    assert err.code == 415
    assert err.status["reason"] == "UnsupportedMediaType"
    assert err.message == (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json, application/yaml"
    )


# -- over HTTP ----------------------------------------------------------------------------------


def proto_headers(accept: str = f"{PROTOBUF}, */*") -> dict[str, str]:
    return {"Content-Type": PROTOBUF, "Accept": accept}


async def test_create_namespace_and_configmap_in_protobuf(
    client: httpx.AsyncClient, api_cluster: FakeCluster
) -> None:
    ns = envelope("v1", "Namespace", blob(1, meta("foo")) + blob(2, b"") + blob(3, b""))
    r = await client.post(
        "/api/v1/namespaces",
        content=ns,
        headers=proto_headers(),
        params={"fieldManager": "kubectl-create", "fieldValidation": "Strict"},
    )
    assert r.status_code == 201, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.json()["status"] == {"phase": "Active"}
    raw = blob(1, meta("c", "foo")) + string_map(2, a="b")
    r = await client.post(
        "/api/v1/namespaces/foo/configmaps",
        content=envelope("v1", "ConfigMap", raw),
        headers=proto_headers(),
        params={"fieldManager": "kubectl-create"},
    )
    assert r.status_code == 201, r.text
    stored = api_cluster.get("configmaps", "c", "foo")
    assert stored["data"] == {"a": "b"}
    assert stored["metadata"]["managedFields"][0]["manager"] == "kubectl-create"


async def test_replace_in_protobuf(client: httpx.AsyncClient, api_cluster: FakeCluster) -> None:
    api_cluster.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})
    raw = blob(1, meta("c", "default")) + string_map(2, k="v")
    r = await client.put(
        f"{CORE}/configmaps/c", content=envelope("v1", "ConfigMap", raw), headers=proto_headers()
    )
    assert r.status_code == 200, r.text
    assert api_cluster.get("configmaps", "c")["data"] == {"k": "v"}


async def test_envelope_without_type_takes_the_endpoints_kind(client: httpx.AsyncClient) -> None:
    body = b"k8s\x00" + blob(2, blob(1, meta("untyped")))
    r = await client.post("/api/v1/namespaces", content=body, headers=proto_headers())
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "Namespace"


async def test_malformed_protobuf_is_400(client: httpx.AsyncClient) -> None:
    r = await client.post(
        f"{CORE}/configmaps", content=b"not protobuf at all", headers=proto_headers()
    )
    assert r.status_code == 400
    assert r.json() == failure(
        400,
        "BadRequest",
        "the object provided is unrecognized (must be of type ConfigMap): provided data does "
        "not appear to be a protobuf message, expected prefix [107 56 115 0] "
        "(6e6f742070726f746f62756620617420616c6c)",
    )
    truncated = envelope("v1", "ConfigMap", blob(1, text(1, "c"))[:-1])
    r = await client.post(f"{CORE}/configmaps", content=truncated, headers=proto_headers())
    assert r.status_code == 400
    assert r.json()["message"] == (
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: unexpected EOF'
    )


async def test_kind_mismatch_is_refused_like_json(client: httpx.AsyncClient) -> None:
    body = envelope("v1", "ConfigMap", blob(1, meta("c")))
    r = await client.post("/api/v1/namespaces", content=body, headers=proto_headers())
    assert r.status_code == 400
    assert "does not match the expected kind (Namespace)" in r.json()["message"]


async def test_custom_resources_refuse_protobuf(client: httpx.AsyncClient) -> None:
    crd = {
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
    r = await client.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=crd)
    assert r.status_code == 201, r.text
    path = "/apis/example.com/v1/namespaces/default/widgets"
    # even an envelope naming a kind the fake knows: custom resources have no protobuf at all
    r = await client.post(
        path, content=envelope("v1", "ConfigMap", blob(1, meta("w"))), headers=proto_headers()
    )
    assert r.status_code == 415
    assert r.json() == failure(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json, application/yaml",
    )
    r = await client.post(path, content=b"a: b", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    assert r.json()["message"].endswith(
        "accepted media types include: application/json, application/yaml"
    )


@pytest.mark.parametrize("content_type", ["application/cbor", "text/plain", "application/xml"])
async def test_other_body_types_are_415(client: httpx.AsyncClient, content_type: str) -> None:
    r = await client.post(
        f"{CORE}/configmaps",
        content=b"\xa1\x61\x61\x61\x62",
        headers={"Content-Type": content_type},
    )
    assert r.status_code == 415
    assert r.json() == failure(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json, application/yaml, application/vnd.kubernetes.protobuf",
    )


NOT_ACCEPTABLE = (
    "only the following media types are accepted: application/json, application/yaml, "
    "application/vnd.kubernetes.protobuf"
)


@pytest.mark.parametrize(
    "accept",
    [
        PROTOBUF,
        "text/plain",
        "application/cbor",
        f"{PROTOBUF};as=Table;v=v1;g=meta.k8s.io",
    ],
)
async def test_accepting_only_what_the_fake_cannot_write_is_406(
    client: httpx.AsyncClient, accept: str
) -> None:
    for method, path, body in [
        ("GET", f"{CORE}/configmaps", None),
        ("POST", f"{CORE}/configmaps", b'{"metadata":{"name":"x"}}'),
    ]:
        r = await client.request(
            method,
            path,
            content=body,
            headers={"Accept": accept, "Content-Type": "application/json"},
        )
        assert r.status_code == 406, (method, r.text)
        assert r.json() == failure(406, "NotAcceptable", NOT_ACCEPTABLE)


@pytest.mark.parametrize(
    "accept",
    [f"{PROTOBUF}, */*", f"{PROTOBUF},application/json", "application/yaml", "*/*"],
)
async def test_json_answers_whenever_json_is_acceptable(
    client: httpx.AsyncClient, accept: str
) -> None:
    r = await client.get(f"{CORE}/configmaps", headers={"Accept": accept})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json()["kind"] == "ConfigMapList"


async def test_reviews_token_and_eviction_in_protobuf(
    client: httpx.AsyncClient, api_cluster: FakeCluster
) -> None:
    api_cluster.create({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa"}})
    token_request = blob(1, meta()) + blob(2, num(4, 600))
    r = await client.post(
        f"{CORE}/serviceaccounts/sa/token",
        content=envelope("authentication.k8s.io/v1", "TokenRequest", token_request),
        headers=proto_headers(),
    )
    assert r.status_code == 201, r.text
    assert r.json()["spec"]["expirationSeconds"] == 600
    token = r.json()["status"]["token"]

    review = blob(1, meta()) + blob(2, blob(1, text(2, "delete") + text(5, "pods")))
    ssar = envelope("authorization.k8s.io/v1", "SelfSubjectAccessReview", review)
    api_cluster.set_rules([Rule(users=("system:serviceaccount:default:sa",), verbs=("get",))])
    async with api_cluster.http_client(token=token) as sa_client:
        r = await sa_client.post(
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            content=ssar,
            headers=proto_headers(),
        )
        assert r.status_code == 201, r.text
        assert r.json()["spec"]["resourceAttributes"] == {"verb": "delete", "resource": "pods"}
        assert r.json()["status"]["allowed"] is False
        whoami = await sa_client.post(
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            content=envelope("authentication.k8s.io/v1", "SelfSubjectReview", blob(1, meta())),
            headers=proto_headers(),
        )
        assert whoami.status_code == 201, whoami.text
        assert whoami.json()["status"]["userInfo"]["username"] == "system:serviceaccount:default:sa"
    api_cluster.set_rules(None)

    pod = seed_pod(api_cluster, "p", node="node-1")
    options = num(1, 0) + blob(2, text(1, pod["metadata"]["uid"]))
    eviction = envelope("policy/v1", "Eviction", blob(1, meta("p", "default")) + blob(2, options))
    r = await client.post(f"{CORE}/pods/p/eviction", content=eviction, headers=proto_headers())
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "Success"
    r = await client.get(f"{CORE}/pods/p")
    assert r.status_code == 404  # grace period 0 made it immediate


async def test_delete_options_in_protobuf(
    client: httpx.AsyncClient, api_cluster: FakeCluster
) -> None:
    api_cluster.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})
    options = envelope("v1", "DeleteOptions", blob(2, text(1, "not-the-uid")))
    r = await client.request(
        "DELETE", f"{CORE}/configmaps/c", content=options, headers=proto_headers()
    )
    assert r.status_code == 409
    assert "Precondition failed: UID in precondition: not-the-uid" in r.json()["message"]
