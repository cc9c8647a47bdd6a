"""What a client needs to reach one cluster, once the kubeconfig (or the in-cluster files) is read.

`ClientConfig` is the hand-off between the config layer (`kr8s_trio._config`, which finds and
reads files and builds the `ssl.SSLContext`) and the transport (`kr8s_trio._transport`, which
builds the httpx client, with the `httpx.Auth` flow made from `ClientConfig.auth` by
`kr8s_trio._auth`). The credential specs say *what* to authenticate with; reading token files,
running exec plugins and refreshing OIDC tokens is the auth flows' business.

Secrets (tokens, passwords, refresh tokens, client secrets) never appear in a ``repr``: the
fields holding them are excluded, so logging a config or an error that carries one is safe.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import TypeAlias

import attrs

from kr8s_trio._core._requests import url_repr

__all__ = [
    "AuthSpec",
    "BasicAuthSpec",
    "ClientConfig",
    "ExecSpec",
    "NoAuthSpec",
    "OIDCSpec",
    "TokenFileSpec",
    "TokenSpec",
]


@attrs.frozen
class NoAuthSpec:
    """No credentials (anonymous, or a client certificate already in the SSLContext)."""


@attrs.frozen
class TokenSpec:
    """A static bearer token (``users[].user.token``)."""

    token: str = attrs.field(repr=False)


@attrs.frozen
class TokenFileSpec:
    """A bearer token read from a file (``tokenFile``, the service-account token): re-read when
    it changes (checked at most once a minute) and after a 401."""

    path: str
    #: the file's content when the config was loaded (saves the first read), if known
    initial: str | None = attrs.field(default=None, repr=False)


@attrs.frozen
class BasicAuthSpec:
    """HTTP basic authentication (``username`` / ``password``)."""

    username: str
    password: str = attrs.field(repr=False)


@attrs.frozen
class ExecSpec:
    """A credential plugin (``users[].user.exec``, client.authentication.k8s.io v1 / v1beta1)."""

    command: str
    api_version: str
    #: may carry secrets (``--oidc-client-secret=...``): kept out of the repr
    args: tuple[str, ...] = attrs.field(default=(), repr=False)
    #: extra environment for the plugin (``env: [{name, value}]``), added to ours
    env: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    install_hint: str | None = None
    provide_cluster_info: bool = False
    #: the ``spec.cluster`` of KUBERNETES_EXEC_INFO when provide_cluster_info is set
    cluster_info: Mapping[str, object] | None = attrs.field(default=None, repr=False)
    #: Never, IfAvailable or Always
    interactive_mode: str = "IfAvailable"
    #: the directory relative commands are resolved against (the kubeconfig's)
    base_dir: str | None = None


@attrs.frozen
class OIDCSpec:
    """The ``oidc`` auth-provider: an id-token, refreshed with the refresh-token grant."""

    issuer_url: str
    client_id: str
    id_token: str | None = attrs.field(default=None, repr=False)
    refresh_token: str | None = attrs.field(default=None, repr=False)
    client_secret: str | None = attrs.field(default=None, repr=False)
    #: PEM of the CA that signs the issuer's certificate (None: the system's)
    idp_ca_pem: bytes | None = attrs.field(default=None, repr=False)
    extra_scopes: tuple[str, ...] = ()


AuthSpec: TypeAlias = NoAuthSpec | TokenSpec | TokenFileSpec | BasicAuthSpec | ExecSpec | OIDCSpec


@attrs.frozen
class ClientConfig:
    """Everything the transport needs to talk to one cluster as one user.

    Attributes:
        server: the API server's URL, ``https://host:port`` (no trailing slash; an IPv6 host is
            bracketed).
        namespace: the default namespace (the context's, the service account's, or ``default``).
        ssl_context: verification and client certificate, built in memory; None for ``http://``.
        auth: the credentials (see the specs above).
        tls_server_name: the name to verify the server's certificate against, and send as SNI.
        proxy_url: the context's ``proxy-url`` (else the environment's proxies apply).
        disable_compression: don't ask for gzip responses.
        impersonate: the ``Impersonate-*`` headers (user, groups, uid, extra) to send.
        certificate_user: the common name of the client certificate, if one is used (the user
            name kube-apiserver gives it).
        context: the kubeconfig context's name ("" for in-cluster or a bare URL).
        source: where the config came from (a file path, ``<dict>``, ``<in-cluster>``, a URL),
            for error messages.
    """

    server: str = attrs.field(repr=url_repr)
    namespace: str = "default"
    ssl_context: ssl.SSLContext | None = attrs.field(default=None, repr=False, eq=False)
    auth: AuthSpec = NoAuthSpec()
    tls_server_name: str | None = None
    proxy_url: str | None = attrs.field(default=None, repr=url_repr)
    disable_compression: bool = False
    impersonate: tuple[tuple[str, str], ...] = ()
    certificate_user: str | None = None
    context: str = ""
    source: str = ""
