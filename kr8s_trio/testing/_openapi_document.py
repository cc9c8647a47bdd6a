"""The OpenAPI v3 document of one served group-version, as kube-apiserver writes it.

kubectl reads a kind's document to see whether its PATCH operation carries a ``fieldValidation``
parameter (then it leaves validation to the server), to find the ``x-kubernetes-patch-*``
extensions of its schema, and for ``explain``. `DocumentBuilder` adds, per resource type, the
paths and operations of its verbs and subresources, and the schemas they reference: the
hand-written ones of `kr8s_trio.testing._openapi_schemas` for the common built-in kinds, a
permissive schema for the others, and the CRD's ``openAPIV3Schema`` for custom resources.
`kr8s_trio.testing._openapi` serves the documents.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import attrs

from kr8s_trio.testing._openapi_schemas import (
    API_VERSION,
    KIND,
    META,
    METADATA,
    REF,
    catalog,
    kind_schema,
    schema_ref,
)
from kr8s_trio.testing._resources import ResourceType, SubresourceInfo

__all__ = ["DocumentBuilder", "SchemaSource", "gv_path", "schema_name"]

JSONObject = dict[str, Any]
SchemaSource = Callable[[ResourceType], JSONObject | None]

_PATCH_TYPES = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)


def gv_path(group: str, version: str) -> str:
    """The key of a group-version in the ``/openapi/v3`` index (``api/v1``, ``apis/apps/v1``)."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


def schema_name(group: str, version: str, kind: str, *, builtin: bool = True) -> str:
    """The ``components.schemas`` key of a kind, named the way kube-apiserver names it.

    Built-ins: ``io.k8s.api.core.v1.Pod``, ``io.k8s.api.networking.v1.Ingress``; custom
    resources: the reversed group, ``com.example.v1.Widget`` for ``example.com``.
    """
    if not builtin:
        return ".".join([*reversed(group.split(".")), version, kind])
    if group == "apiextensions.k8s.io":
        return f"io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.{version}.{kind}"
    if group == "apiregistration.k8s.io":
        return f"io.k8s.kube-aggregator.pkg.apis.apiregistration.{version}.{kind}"
    package = group.split(".")[0] if group else "core"
    return f"io.k8s.api.{package}.{version}.{kind}"


def _loose(description: str) -> JSONObject:
    """An object this fake does not model field by field."""
    return {
        "type": "object",
        "description": description,
        "x-kubernetes-preserve-unknown-fields": True,
    }


def _list(item: str, description: str) -> JSONObject:
    return {"type": "array", "description": description, "items": schema_ref(item)}


def _gvk(group: str, version: str, kind: str) -> JSONObject:
    return {"group": group, "kind": kind, "version": version}


# -- paths ------------------------------------------------------------------------------------


def _query(name: str, description: str, type_: str = "string") -> JSONObject:
    return {
        "name": name,
        "in": "query",
        "description": description,
        "schema": {"type": type_, "uniqueItems": True},
    }


_P_DRY_RUN = _query("dryRun", "All: process the request without persisting it.")
_P_MANAGER = _query("fieldManager", "The name of the actor making the change.")
_P_VALIDATION = _query(
    "fieldValidation", "Ignore, Warn or Strict: what to do about unknown or duplicate fields."
)
_P_FORCE = _query("force", "Take ownership of conflicting fields (apply only).", "boolean")
_LIST_PARAMS = [
    _query("allowWatchBookmarks", "Ask for BOOKMARK events.", "boolean"),
    _query("continue", "The token of the next page."),
    _query("fieldSelector", "Select by fields."),
    _query("labelSelector", "Select by labels."),
    _query("limit", "The page size.", "integer"),
    _query("resourceVersion", "Which version of the collection to serve."),
    _query("resourceVersionMatch", "How resourceVersion is applied."),
    _query("sendInitialEvents", "Start a watch with the current state.", "boolean"),
    _query("timeoutSeconds", "End the list or watch after this long.", "integer"),
    _query("watch", "Stream changes instead of listing.", "boolean"),
]
_DELETE_PARAMS = [
    _P_DRY_RUN,
    _query("gracePeriodSeconds", "Seconds before deletion.", "integer"),
    _query("propagationPolicy", "Orphan, Background or Foreground."),
]
_VERB_METHOD = {
    "get": "get",
    "create": "post",
    "update": "put",
    "patch": "patch",
    "delete": "delete",
}


@attrs.frozen
class _Target:
    """What an operation returns, and the GVK it is tagged with."""

    group: str
    version: str
    kind: str
    schema: str | None  # the schema name, when the document has one


class DocumentBuilder:
    """Builds the OpenAPI document of one group-version."""

    def __init__(self, group: str, version: str, schemas: SchemaSource | None) -> None:
        self.group, self.version = group, version
        self._source = schemas
        self._catalog = catalog()
        self.paths: dict[str, JSONObject] = {}
        self.schemas: dict[str, JSONObject] = {}

    def add(self, rt: ResourceType) -> None:
        main = self._kind_schema(rt)
        list_schema = self._list_schema(rt, main)
        prefix = f"/apis/{rt.group}/{rt.version}" if rt.group else f"/api/{rt.version}"
        ns = "/namespaces/{namespace}" if rt.namespaced else ""
        collection = f"{prefix}{ns}/{rt.plural}"
        target = _Target(rt.group, rt.version, rt.kind, main)
        lst = _Target(rt.group, rt.version, rt.list_kind, list_schema)
        verbs = set(rt.verbs)
        ops: JSONObject = {}
        if "list" in verbs:
            ops["get"] = self._op(rt, "list", lst, _LIST_PARAMS)
        if "create" in verbs:
            ops["post"] = self._op(rt, "post", target, [_P_DRY_RUN, _P_MANAGER, _P_VALIDATION])
        if "deletecollection" in verbs:
            ops["delete"] = self._op(rt, "deletecollection", None, _LIST_PARAMS + _DELETE_PARAMS)
        self._path(collection, ops, rt.namespaced, named=False)
        if rt.namespaced and "list" in verbs:
            self._path(
                f"{prefix}/{rt.plural}",
                {"get": self._op(rt, "list", lst, _LIST_PARAMS, all_namespaces=True)},
                namespaced=False,
                named=False,
            )
        item_ops: JSONObject = {}
        for verb in ("get", "update", "patch", "delete"):
            if verb in verbs:
                item_ops[_VERB_METHOD[verb]] = self._item_op(rt, verb, target, "")
        self._path(f"{collection}/{{name}}", item_ops, rt.namespaced, named=True)
        for sub in rt.subresources:
            self._subresource(rt, sub, f"{collection}/{{name}}/{sub.name}")

    def _subresource(self, rt: ResourceType, sub: SubresourceInfo, path: str) -> None:
        group = rt.group if sub.group is None else sub.group
        version = sub.version or rt.version
        schema: str | None = None
        if (group, version, sub.kind) == (rt.group, rt.version, rt.kind):
            schema = self._kind_schema(rt)  # status, ephemeralcontainers, finalize...
        elif (name := schema_name(group, version, sub.kind)) in self._catalog:
            schema = self._add_catalog(name, _gvk(group, version, sub.kind))  # Scale, Eviction
        target = _Target(group, version, sub.kind, schema)
        ops: JSONObject = {}
        for verb in sub.verbs:
            method = _VERB_METHOD.get(verb)
            if method is not None:
                ops[method] = self._item_op(rt, verb, target, sub.name)
        self._path(path, ops, rt.namespaced, named=True)

    # -- schemas --

    def _kind_schema(self, rt: ResourceType) -> str:
        name = schema_name(rt.group, rt.version, rt.kind, builtin=rt.builtin)
        if name in self.schemas:
            return name
        gvk = _gvk(rt.group, rt.version, rt.kind)
        custom = self._source(rt) if self._source is not None and not rt.builtin else None
        if custom is not None:
            schema = _from_crd(custom)
        elif name in self._catalog:
            schema = copy.deepcopy(self._catalog[name])
        else:
            schema = kind_schema(f"{rt.kind} ({rt.api_version}).")
            schema["properties"]["spec"] = _loose("The desired state.")
            schema["properties"]["status"] = _loose("The observed state.")
            schema["x-kubernetes-preserve-unknown-fields"] = True
        schema["x-kubernetes-group-version-kind"] = [gvk]
        self.schemas[name] = schema
        self._add_refs(schema)
        return name

    def _list_schema(self, rt: ResourceType, item: str) -> str:
        name = schema_name(rt.group, rt.version, rt.list_kind, builtin=rt.builtin)
        self.schemas[name] = {
            "description": f"A list of {rt.kind} objects.",
            "type": "object",
            "required": ["items"],
            "properties": {
                "apiVersion": API_VERSION,
                "kind": KIND,
                "items": _list(item, "The objects."),
                "metadata": {
                    "description": "Standard list metadata.",
                    **schema_ref(META + "ListMeta"),
                },
            },
            "x-kubernetes-group-version-kind": [_gvk(rt.group, rt.version, rt.list_kind)],
        }
        self._add_refs(self.schemas[name])
        return name

    def _add_catalog(self, name: str, gvk: JSONObject | None = None) -> str:
        if name not in self.schemas:
            schema = copy.deepcopy(self._catalog[name])
            if gvk is not None:
                schema["x-kubernetes-group-version-kind"] = [gvk]
            self.schemas[name] = schema
            self._add_refs(schema)
        return name

    def _add_refs(self, node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(REF):
                name = ref.removeprefix(REF)
                if name in self._catalog:
                    self._add_catalog(name)
            for value in node.values():
                self._add_refs(value)
        elif isinstance(node, list):
            for value in node:
                self._add_refs(value)

    # -- operations --

    def _path(self, path: str, ops: JSONObject, namespaced: bool, *, named: bool) -> None:
        if not ops:
            return
        params = []
        if named:
            params.append(_path_param("name", "The name of the object."))
        if namespaced:
            params.append(_path_param("namespace", "The namespace of the object."))
        params.append(_query("pretty", "Pretty-print the output."))
        self.paths[path] = {**ops, "parameters": params}

    def _item_op(self, rt: ResourceType, verb: str, target: _Target, sub: str) -> JSONObject:
        if verb == "get":
            return self._op(rt, "get", target, [], sub=sub)
        if verb == "update":
            return self._op(rt, "put", target, [_P_DRY_RUN, _P_MANAGER, _P_VALIDATION], sub=sub)
        if verb == "patch":
            params = [_P_DRY_RUN, _P_MANAGER, _P_VALIDATION, _P_FORCE]
            return self._op(rt, "patch", target, params, sub=sub)
        if verb == "create":
            return self._op(rt, "post", target, [_P_DRY_RUN, _P_MANAGER, _P_VALIDATION], sub=sub)
        return self._op(rt, "delete", target, _DELETE_PARAMS, sub=sub)

    def _op(
        self,
        rt: ResourceType,
        action: str,
        target: _Target | None,
        params: list[JSONObject],
        *,
        sub: str = "",
        all_namespaces: bool = False,
    ) -> JSONObject:
        words = {"list": "list", "get": "read", "post": "create", "put": "replace"}
        words.update(patch="patch", delete="delete", deletecollection="deletecollection")
        scope = "Namespaced" if rt.namespaced and not all_namespaces else ""
        suffix = "ForAllNamespaces" if all_namespaces else ""
        op_id = f"{words[action]}{_camel_gv(rt)}{scope}{rt.kind}{sub.title()}{suffix}"
        returned = target or _Target("", "v1", "Status", self._add_catalog(META + "Status"))
        media = ["application/json", "application/yaml"]
        if rt.builtin:
            media.append("application/vnd.kubernetes.protobuf")
        if action == "list":
            media.append("application/json;stream=watch")
        schema = {"$ref": REF + returned.schema} if returned.schema else {"type": "object"}
        body = {"schema": schema}
        ok: JSONObject = {"description": "OK", "content": dict.fromkeys(media, body)}
        responses: JSONObject = {"200": ok}
        if action in ("post", "put", "patch"):
            responses["201"] = {"description": "Created", "content": dict.fromkeys(media, body)}
        responses["401"] = {"description": "Unauthorized"}
        op: JSONObject = {
            "tags": [gv_path(rt.group, rt.version)],
            "description": f"{words[action]} {sub + ' of ' if sub else ''}{rt.kind}",
            "operationId": op_id,
        }
        if params:
            op["parameters"] = params
        if action in ("post", "put") and target is not None and target.schema:
            op["requestBody"] = {
                "content": {"*/*": {"schema": {"$ref": REF + target.schema}}},
                "required": True,
            }
        elif action == "patch":
            patch = {"schema": {"$ref": REF + self._add_catalog(META + "Patch")}}
            types = [t for t in _PATCH_TYPES if rt.builtin or "strategic" not in t]
            op["requestBody"] = {"content": dict.fromkeys(types, patch), "required": True}
        elif action in ("delete", "deletecollection"):
            options = self._add_catalog(META + "DeleteOptions")
            op["requestBody"] = {"content": {"*/*": {"schema": {"$ref": REF + options}}}}
        op["responses"] = responses
        op["x-kubernetes-action"] = action
        tagged = target or _Target(rt.group, rt.version, rt.kind, None)
        op["x-kubernetes-group-version-kind"] = _gvk(tagged.group, tagged.version, tagged.kind)
        return op


def _path_param(name: str, description: str) -> JSONObject:
    return {
        "name": name,
        "in": "path",
        "description": description,
        "required": True,
        "schema": {"type": "string", "uniqueItems": True},
    }


def _camel_gv(rt: ResourceType) -> str:
    if not rt.group:
        parts = ["core"]
    elif rt.builtin:
        parts = rt.group.removesuffix(".k8s.io").split(".")
    else:
        parts = list(reversed(rt.group.split(".")))
    return "".join(p.replace("-", "").title() for p in parts) + rt.version.title()


def _from_crd(schema: JSONObject) -> JSONObject:
    """A CRD version's openAPIV3Schema as kube-apiserver publishes it."""
    out = copy.deepcopy(schema)
    out.setdefault("type", "object")
    props = out.setdefault("properties", {})
    props.setdefault("apiVersion", API_VERSION)
    props.setdefault("kind", KIND)
    props["metadata"] = METADATA
    return out
