"""Choosing a kubeconfig context, sans IO: what the client connects to, and as whom.

:func:`resolve_context` picks a context of a merged kubeconfig (`kr8s_trio._core._kubeconfig`):
the ``context=`` argument, else ``current-context``, else the first context, and describes the
connection as a `ResolvedConfig`: the server, the TLS material (PEM bytes, or paths still to
read), the `AuthSpec`, impersonation and namespace. :func:`in_cluster_config` does the same for
a pod's service account.

Differences from kubectl, on purpose: when both a path and inline data are given (for the CA or
the client certificate/key) the data wins instead of failing, and ``insecure-skip-tls-verify``
wins over a CA.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import TypeVar
from urllib.parse import quote, urlsplit

import attrs

from kr8s_trio._core._clientconfig import (
    AuthSpec,
    BasicAuthSpec,
    ExecSpec,
    NoAuthSpec,
    OIDCSpec,
    TokenFileSpec,
    TokenSpec,
)
from kr8s_trio._core._convert import structure
from kr8s_trio._core._exceptions import ConfigError
from kr8s_trio._core._kubeconfig import (
    EXEC_EXTENSION,
    AuthProvider,
    Located,
    MergedKubeconfig,
    OIDCConfig,
    User,
)
from kr8s_trio._core._requests import url_repr

__all__ = [
    "ResolvedConfig",
    "decode_pem_data",
    "exec_cluster_info",
    "in_cluster_config",
    "normalize_server",
    "resolve_context",
]

T = TypeVar("T")


@attrs.frozen
class ResolvedConfig:
    """The connection a context describes, before any file is read.

    Paths (``ca_path``, ``client_cert_path``, ``client_key_path``, ``oidc_ca_path``) are still to
    be read by the I/O layer; the matching ``*_pem`` fields hold inline data, already decoded.
    """

    server: str = attrs.field(repr=url_repr)
    context: str = ""
    #: the context's namespace (None: not set)
    namespace: str | None = None
    ca_pem: bytes | None = attrs.field(default=None, repr=False)
    ca_path: str | None = None
    insecure_skip_tls_verify: bool = False
    tls_server_name: str | None = None
    proxy_url: str | None = attrs.field(default=None, repr=url_repr)
    disable_compression: bool = False
    client_cert_pem: bytes | None = attrs.field(default=None, repr=False)
    client_cert_path: str | None = None
    client_key_pem: bytes | None = attrs.field(default=None, repr=False)
    client_key_path: str | None = None
    auth: AuthSpec = attrs.field(factory=NoAuthSpec)
    #: the OIDC issuer's CA file, to be read into ``auth.idp_ca_pem``
    oidc_ca_path: str | None = None
    impersonate: tuple[tuple[str, str], ...] = ()
    #: the cluster's ``client.authentication.k8s.io/exec`` extension, for exec plugins
    exec_extension: object = attrs.field(default=None, repr=False)
    #: the file holding the context (``<in-cluster>`` for a service account)
    source: str = ""


def resolve_context(merged: MergedKubeconfig, *, context: str | None = None) -> ResolvedConfig:
    """Describe the connection of a context: ``context``, else ``current-context``, else the
    first context.

    Raises:
        ConfigError: The context is unknown (the message lists the known ones), it names a
            cluster or user that is not defined, the cluster has no server, inline certificate
            data is neither base64 nor PEM, or the user combines authentication methods.
    """
    sources = ", ".join(merged.sources) or "no kubeconfig"
    name = context or merged.current_context
    if name is None:
        if not merged.contexts:
            raise ConfigError(f"{sources}: no context is defined")
        name = next(iter(merged.contexts))
    ctx = merged.contexts.get(name)
    if ctx is None:
        known = ", ".join(repr(n) for n in merged.contexts) or "none"
        raise ConfigError(f"{sources}: context {name!r} not found (known contexts: {known})")
    cluster = merged.clusters.get(ctx.value.cluster)
    if cluster is None:
        raise ConfigError(
            f"{ctx.source}: {ctx.path}.cluster: cluster {ctx.value.cluster!r} is not defined"
        )
    user = merged.users.get(ctx.value.user) if ctx.value.user else Located(User(), "", "")
    if user is None:
        raise ConfigError(f"{ctx.source}: {ctx.path}.user: user {ctx.value.user!r} is not defined")
    c, u = cluster.value, user.value
    if not c.server:
        raise ConfigError(f"{cluster.source}: {cluster.path}.server: required field missing")
    where = f"{cluster.source}: {cluster.path}"
    auth, oidc_ca_path = _auth_spec(user)
    return ResolvedConfig(
        server=normalize_server(c.server, where=f"{where}.server"),
        context=name,
        namespace=ctx.value.namespace or None,
        ca_pem=_data(c.certificate_authority_data, cluster, "certificate-authority-data"),
        ca_path=None if c.certificate_authority_data else c.certificate_authority,
        insecure_skip_tls_verify=c.insecure_skip_tls_verify,
        tls_server_name=c.tls_server_name or None,
        proxy_url=c.proxy_url or None,
        disable_compression=c.disable_compression,
        client_cert_pem=_data(u.client_certificate_data, user, "client-certificate-data"),
        client_cert_path=None if u.client_certificate_data else u.client_certificate,
        client_key_pem=_data(u.client_key_data, user, "client-key-data"),
        client_key_path=None if u.client_key_data else u.client_key,
        auth=auth,
        oidc_ca_path=oidc_ca_path,
        impersonate=_impersonation(u),
        exec_extension=next((e.extension for e in c.extensions if e.name == EXEC_EXTENSION), None),
        source=ctx.source,
    )


def normalize_server(url: str, *, where: str) -> str:
    """``host:port`` -> ``https://host:port``; no trailing slash; http or https only."""
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    # (the URL itself is not quoted: it may carry user:password@)
    if parts.scheme not in ("http", "https"):
        raise ConfigError(f"{where}: the scheme must be http or https, not {parts.scheme!r}")
    if not parts.hostname:
        raise ConfigError(f"{where}: the URL has no host")
    return url.rstrip("/")


def decode_pem_data(text: str, *, where: str) -> bytes:
    """Inline certificate or key data: base64 of PEM (kubectl's form) or PEM itself.

    Raises:
        ConfigError: Neither; the message names ``where`` but never quotes the data.
    """
    stripped = text.strip()
    if stripped.startswith("-----BEGIN "):
        return stripped.encode("ascii", "replace") + b"\n"
    try:
        decoded = base64.b64decode("".join(stripped.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{where}: neither base64 nor PEM") from None
    if b"-----BEGIN " not in decoded:
        raise ConfigError(f"{where}: does not decode to PEM")
    return decoded


def _data(text: str | None, at: Located[T], key: str) -> bytes | None:
    if not text:
        return None
    return decode_pem_data(text, where=f"{at.source}: {at.path}.{key}")


def _auth_spec(user: Located[User]) -> tuple[AuthSpec, str | None]:
    u = user.value
    methods = [
        name
        for name, present in (
            ("token", bool(u.token or u.token_file)),
            ("username/password", bool(u.username or u.password)),
            ("exec", u.exec is not None),
            ("auth-provider", u.auth_provider is not None),
        )
        if present
    ]
    if len(methods) > 1:
        raise ConfigError(
            f"{user.source}: {user.path}: more than one authentication method "
            f"({', '.join(methods)}); only one is allowed"
        )
    if u.token_file:
        return TokenFileSpec(path=u.token_file, initial=u.token or None), None
    if u.token:
        return TokenSpec(u.token), None
    if u.username or u.password:
        return BasicAuthSpec(u.username or "", u.password or ""), None
    if u.exec is not None:
        e = u.exec
        spec = ExecSpec(
            command=e.command,
            api_version=e.api_version,
            args=e.args,
            env={var.name: var.value for var in e.env},
            install_hint=e.install_hint,
            provide_cluster_info=e.provide_cluster_info,
            interactive_mode=e.interactive_mode,
            base_dir=user.base_dir,
        )
        return spec, None
    if u.auth_provider is not None:
        return _oidc_spec(u.auth_provider, user)
    return NoAuthSpec(), None


def _oidc_spec(provider: AuthProvider, user: Located[User]) -> tuple[AuthSpec, str | None]:
    at = f"{user.path}.auth-provider"
    if provider.name != "oidc":
        raise ConfigError(
            f"{user.source}: {at}.name: auth-provider {provider.name!r} is not supported "
            "(kubectl dropped the in-tree providers; use its exec credential plugin)"
        )
    cfg = structure(provider.config, OIDCConfig, source=user.source, path=f"{at}.config")
    ca_data = cfg.idp_certificate_authority_data
    located = Located(cfg, user.source, f"{at}.config")
    spec = OIDCSpec(
        issuer_url=cfg.idp_issuer_url,
        client_id=cfg.client_id,
        id_token=cfg.id_token or None,
        refresh_token=cfg.refresh_token or None,
        client_secret=cfg.client_secret or None,
        idp_ca_pem=_data(ca_data, located, "idp-certificate-authority-data"),
        extra_scopes=tuple(s.strip() for s in (cfg.extra_scopes or "").split(",") if s.strip()),
    )
    return spec, None if ca_data else (cfg.idp_certificate_authority or None)


# header names allow these besides letters and digits (RFC 9110 tchar); the rest is %-encoded
_TCHAR = "!#$&'*+-.^_`|~"


def _impersonation(u: User) -> tuple[tuple[str, str], ...]:
    headers: list[tuple[str, str]] = []
    if u.as_:
        headers.append(("Impersonate-User", u.as_))
    headers += [("Impersonate-Group", group) for group in u.as_groups]
    if u.as_uid:
        headers.append(("Impersonate-Uid", u.as_uid))
    for key, values in u.as_user_extra.items():
        headers += [(f"Impersonate-Extra-{quote(key, safe=_TCHAR)}", v) for v in values]
    return tuple(headers)


def exec_cluster_info(resolved: ResolvedConfig, ca_pem: bytes | None) -> dict[str, object]:
    """The ``spec.cluster`` an exec plugin with ``provideClusterInfo`` receives.

    Args:
        resolved: The resolved context.
        ca_pem: The cluster CA, read from ``ca_path`` if that is where it was.
    """
    info: dict[str, object] = {"server": resolved.server}
    if resolved.tls_server_name:
        info["tls-server-name"] = resolved.tls_server_name
    if resolved.insecure_skip_tls_verify:
        info["insecure-skip-tls-verify"] = True
    if ca_pem:
        info["certificate-authority-data"] = base64.b64encode(ca_pem).decode("ascii")
    if resolved.proxy_url:
        info["proxy-url"] = resolved.proxy_url
    if resolved.disable_compression:
        info["disable-compression"] = True
    if resolved.exec_extension is not None:
        info["config"] = resolved.exec_extension
    return info


# -- in-cluster -------------------------------------------------------------------------------

IN_CLUSTER = "<in-cluster>"


def in_cluster_config(
    env: Mapping[str, str],
    *,
    token: str,
    token_path: str,
    ca_path: str | None,
    namespace: str | None,
) -> ResolvedConfig:
    """Describe the connection of a pod's service account.

    Args:
        env: The environment: ``KUBERNETES_SERVICE_HOST`` / ``KUBERNETES_SERVICE_PORT`` (default
            ``kubernetes.default.svc`` and 443; an IPv6 address is bracketed).
        token: The ``token`` file's content (re-read by the auth flow as it is rotated).
        token_path: Where that file is.
        ca_path: The ``ca.crt`` file (None: not there, the system's CAs apply).
        namespace: The ``namespace`` file's content, if there is one.
    """
    host = env.get("KUBERNETES_SERVICE_HOST") or "kubernetes.default.svc"
    port = env.get("KUBERNETES_SERVICE_PORT") or "443"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return ResolvedConfig(
        server=normalize_server(f"https://{host}:{port}", where="KUBERNETES_SERVICE_HOST/PORT"),
        namespace=(namespace.strip() or None) if namespace else None,
        ca_path=ca_path,
        auth=TokenFileSpec(path=token_path, initial=token.strip()),
        source=IN_CLUSTER,
    )
