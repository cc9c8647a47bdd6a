"""The fake API server's error answers, shaped exactly like kube-apiserver's `Status` objects.

Each builder mirrors a constructor of apimachinery's ``api/errors`` package and returns the
`APIError` (from the shared exception tree) that carries the Status; handlers ``raise`` it and the
ASGI layer serialises ``exc.status`` with ``exc.code``. Using the client's own tree means the fake
and the client agree, by construction, on what each status means.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import attrs

from kr8s_trio._core._exceptions import APIError

__all__ = [
    "MODIFIED",
    "FieldError",
    "GroupResource",
    "already_exists",
    "bad_request",
    "conflict",
    "forbidden",
    "internal_error",
    "invalid",
    "method_not_supported",
    "not_acceptable",
    "not_found",
    "options_invalid",
    "path_not_found",
    "resource_expired",
    "stale_conflict",
    "status_error",
    "success_status",
    "timeout",
    "unauthorized",
    "unsupported_media_type",
]


@attrs.frozen
class GroupResource:
    """A resource in an API group, printed as kube-apiserver prints it (``deployments.apps``)."""

    group: str
    resource: str

    def __str__(self) -> str:
        return f"{self.resource}.{self.group}" if self.group else self.resource

    def details(self, name: str | None = None) -> dict[str, object]:
        out: dict[str, object] = {}
        if name:
            out["name"] = name
        if self.group:
            out["group"] = self.group
        out["kind"] = self.resource
        return out


def status_error(
    code: int,
    reason: str,
    message: str,
    details: dict[str, object] | None = None,
    *,
    retry_after: float | None = None,
) -> APIError:
    """The exception for a failure Status with these fields."""
    status: dict[str, object] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    }
    if details is not None:
        status["details"] = details
    status["code"] = code
    return APIError.from_status(status, retry_after=retry_after)


def success_status(details: dict[str, object] | None = None) -> dict[str, object]:
    """A Success Status (answer to deletes of objects that are not returned, evictions...)."""
    status: dict[str, object] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
    }
    if details is not None:
        status["details"] = details
    return status


def bad_request(message: str) -> APIError:
    return status_error(400, "BadRequest", message)


def unauthorized(message: str = "Unauthorized") -> APIError:
    return status_error(401, "Unauthorized", message)


def forbidden(gr: GroupResource, name: str | None, reason: str) -> APIError:
    subject = f'{gr} "{name}"' if name else str(gr)
    return status_error(403, "Forbidden", f"{subject} is forbidden: {reason}", gr.details(name))


def not_found(gr: GroupResource, name: str) -> APIError:
    return status_error(404, "NotFound", f'{gr} "{name}" not found', gr.details(name))


def path_not_found() -> APIError:
    """404 for a path that names no resource at all."""
    return status_error(404, "NotFound", "the server could not find the requested resource", {})


def method_not_supported(gr: GroupResource, verb: str) -> APIError:
    return status_error(
        405,
        "MethodNotAllowed",
        f'{verb} is not supported on resources of kind "{gr}"',
        gr.details(),
    )


def not_acceptable(accepted: Sequence[str]) -> APIError:
    return status_error(
        406,
        "NotAcceptable",
        "only the following media types are accepted: " + ", ".join(accepted),
    )


def already_exists(gr: GroupResource, name: str) -> APIError:
    return status_error(409, "AlreadyExists", f'{gr} "{name}" already exists', gr.details(name))


def conflict(gr: GroupResource, name: str, reason: str) -> APIError:
    return status_error(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {gr} "{name}": {reason}',
        gr.details(name),
    )


#: kube-apiserver's reason when a write carries an outdated resourceVersion
MODIFIED = (
    "the object has been modified; please apply your changes to the latest version and try again"
)


def stale_conflict(gr: GroupResource, name: str) -> APIError:
    """409 for a write based on an outdated resourceVersion."""
    return conflict(gr, name, MODIFIED)


def resource_expired(message: str) -> APIError:
    return status_error(410, "Expired", message)


def unsupported_media_type(content_type: str, accepted: Sequence[str]) -> APIError:
    del content_type  # kube-apiserver does not echo it
    return status_error(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(accepted),
    )


@attrs.frozen
class FieldError:
    """One problem with one field, as apimachinery's ``field.Error`` renders it."""

    type: str  # Required | Invalid | Forbidden | NotSupported | Duplicate | TooLong | TooMany
    field: str
    detail: str = ""
    value: object = attrs.field(default=None)
    has_value: bool = False

    _REASONS = {
        "Required": ("FieldValueRequired", "Required value"),
        "Invalid": ("FieldValueInvalid", "Invalid value"),
        "Forbidden": ("FieldValueForbidden", "Forbidden"),
        "NotSupported": ("FieldValueNotSupported", "Unsupported value"),
        "Duplicate": ("FieldValueDuplicate", "Duplicate value"),
        "TooLong": ("FieldValueTooLong", "Too long"),
        "TooMany": ("FieldValueTooMany", "Too many"),
    }

    @classmethod
    def required(cls, field: str, detail: str = "") -> FieldError:
        return cls("Required", field, detail)

    @classmethod
    def invalid_value(cls, field: str, value: object, detail: str) -> FieldError:
        return cls("Invalid", field, detail, value, True)

    @classmethod
    def forbidden(cls, field: str, detail: str) -> FieldError:
        return cls("Forbidden", field, detail)

    @classmethod
    def not_supported(cls, field: str, value: object, supported: Iterable[str]) -> FieldError:
        detail = "supported values: " + ", ".join(json.dumps(s) for s in supported)
        return cls("NotSupported", field, detail, value, True)

    @property
    def reason(self) -> str:
        return self._REASONS[self.type][0]

    def body(self) -> str:
        """The text after ``field: `` (``Required value``, ``Invalid value: "x": detail``)."""
        parts = [self._REASONS[self.type][1]]
        if self.has_value:
            parts.append(_render_value(self.value))
        if self.detail:
            parts.append(self.detail)
        return ": ".join(parts)

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"


def _render_value(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def invalid(group: str, kind: str, name: str, errors: Sequence[FieldError]) -> APIError:
    """422 Invalid: ``Pod "x" is invalid: spec.containers: Required value``."""
    qualified = f"{kind}.{group}" if group else kind
    rendered = [str(e) for e in errors]
    body = rendered[0] if len(rendered) == 1 else "[" + ", ".join(rendered) + "]"
    details: dict[str, object] = {"name": name} if name else {}  # omitempty, as in Go
    if group:
        details["group"] = group
    details["kind"] = kind
    details["causes"] = [
        {"reason": e.reason, "message": e.body(), "field": e.field} for e in errors
    ]
    return status_error(422, "Invalid", f'{qualified} "{name}" is invalid: {body}', details)


def options_invalid(kind: str, error: FieldError) -> APIError:
    """422 for a bad query option: ``ListOptions.meta.k8s.io "" is invalid: ...``."""
    return invalid("meta.k8s.io", kind, "", [error])


def internal_error(message: str) -> APIError:
    return status_error(
        500,
        "InternalError",
        f"Internal error occurred: {message}",
        {"causes": [{"message": message}]},
    )


def timeout(message: str, retry_after_seconds: int = 1) -> APIError:
    return status_error(
        504, "Timeout", message, {"retryAfterSeconds": retry_after_seconds}, retry_after=1
    )
