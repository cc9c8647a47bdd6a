"""kr8s_trio: a Kubernetes API client for trio, in the spirit of kr8s.

```python
import kr8s_trio

api = await kr8s_trio.api()  # cached per registry; reads $KUBECONFIG or ~/.kube/config
print(await api.version())
async with api.call_api("GET", url="pods", namespace=kr8s_trio.ALL) as r:
    pods = await r.json()
```

Clients (`Api`) come from `api`, cached in the current registry (`open_registry`, else one per
``trio.run``), or uncached from ``async with Api(bypass_factory=True) as api``. `Api.call_api`
is the low-level request; `get`, `watch`, `create` and `apply` are kubectl's verbs over the
resource objects of `kr8s_trio.objects`; `version`, `whoami`, `api_resources` and
`api_versions` ask the default client. Every error is a `Kr8sError`. The embedded fake API
server is in `kr8s_trio.testing`.

The client names are imported on first use (PEP 562), so that ``import kr8s_trio._core`` (the
sans-IO layer) loads neither trio nor httpx.
"""

import typing as _typing

from kr8s_trio._core._exceptions import (
    AlreadyExistsError as AlreadyExistsError,
    APIError as APIError,
    APITimeoutError as APITimeoutError,
    AuthError as AuthError,
    BadRequestError as BadRequestError,
    ConfigError as ConfigError,
    ConflictError as ConflictError,
    ConnectionClosedError as ConnectionClosedError,
    ExecError as ExecError,
    ForbiddenError as ForbiddenError,
    GoneError as GoneError,
    InvalidError as InvalidError,
    Kr8sError as Kr8sError,
    LocalProtocolError as LocalProtocolError,
    MethodNotAllowedError as MethodNotAllowedError,
    NotAcceptableError as NotAcceptableError,
    NotFoundError as NotFoundError,
    PatchError as PatchError,
    ProtocolError as ProtocolError,
    RemoteProtocolError as RemoteProtocolError,
    SelectorError as SelectorError,
    ServerError as ServerError,
    TooManyRequestsError as TooManyRequestsError,
    TransportError as TransportError,
    UnauthorizedError as UnauthorizedError,
    UnsupportedMediaTypeError as UnsupportedMediaTypeError,
)

if _typing.TYPE_CHECKING:
    from kr8s_trio._api import ALL as ALL, Api as Api
    from kr8s_trio._registry import (
        Registry as Registry,
        api as api,
        api_resources as api_resources,
        api_versions as api_versions,
        current_registry as current_registry,
        open_registry as open_registry,
        version as version,
        whoami as whoami,
    )
    from kr8s_trio._response import Response as Response
    from kr8s_trio._transport import RetryPolicy as RetryPolicy
    from kr8s_trio._verbs import (
        apply as apply,
        create as create,
        get as get,
        watch as watch,
    )

#: the client names, imported from their module on first access
_LAZY = {
    name: module
    for module, names in (
        ("kr8s_trio._api", "ALL Api"),
        ("kr8s_trio._registry", "Registry api api_resources api_versions current_registry"),
        ("kr8s_trio._registry", "open_registry version whoami"),
        ("kr8s_trio._response", "Response"),
        ("kr8s_trio._transport", "RetryPolicy"),
        ("kr8s_trio._verbs", "apply create get watch"),
    )
    for name in names.split()
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kr8s_trio' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "ALL",
    "APIError",
    "APITimeoutError",
    "AlreadyExistsError",
    "Api",
    "AuthError",
    "BadRequestError",
    "ConfigError",
    "ConflictError",
    "ConnectionClosedError",
    "ExecError",
    "ForbiddenError",
    "GoneError",
    "InvalidError",
    "Kr8sError",
    "LocalProtocolError",
    "MethodNotAllowedError",
    "NotAcceptableError",
    "NotFoundError",
    "PatchError",
    "ProtocolError",
    "Registry",
    "RemoteProtocolError",
    "Response",
    "RetryPolicy",
    "SelectorError",
    "ServerError",
    "TooManyRequestsError",
    "TransportError",
    "UnauthorizedError",
    "UnsupportedMediaTypeError",
    "api",
    "api_resources",
    "api_versions",
    "apply",
    "create",
    "current_registry",
    "get",
    "open_registry",
    "version",
    "watch",
    "whoami",
]
