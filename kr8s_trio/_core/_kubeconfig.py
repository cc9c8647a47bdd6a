"""The kubeconfig, sans IO: the model, kubectl's merge rules, and choosing a context.

The I/O layer (`kr8s_trio._config`) reads the files and hands their decoded YAML here:

1. :func:`parse_kubeconfig` checks one document against the model (a `ConfigError` names the
   file and the path, e.g. ``users[0].user.exec.command``) and resolves the relative paths in it
   (``certificate-authority``, ``client-certificate``, ``client-key``, ``tokenFile``, an exec
   ``command`` containing a slash, ``idp-certificate-authority``) against that file's directory;
2. :func:`merge_kubeconfigs` merges files the way kubectl merges ``$KUBECONFIG``: the first file
   to define a cluster, user or context name wins, and ``current-context`` comes from the first
   file that sets it;
3. `kr8s_trio._core._kubecontext.resolve_context` picks a context and describes the
   connection.

Differences from kubectl, on purpose: when both a path and inline data are given (for the CA or
the client certificate/key) the data wins instead of failing, ``insecure-skip-tls-verify`` wins
over a CA, and a v1 exec plugin without ``interactiveMode`` gets ``IfAvailable``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Generic, Literal, TypeVar

import attrs

from kr8s_trio._core._convert import KEY, kebab_keys, structure
from kr8s_trio._core._exceptions import ConfigError
from kr8s_trio._core._requests import url_repr

__all__ = [
    "AuthProvider",
    "Cluster",
    "Context",
    "ExecConfig",
    "ExecEnvVar",
    "Kubeconfig",
    "KubeconfigFile",
    "Located",
    "MergedKubeconfig",
    "NamedCluster",
    "NamedContext",
    "NamedExtension",
    "NamedUser",
    "OIDCConfig",
    "User",
    "merge_kubeconfigs",
    "parse_kubeconfig",
]


T = TypeVar("T")

ExecAPIVersion = Literal["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"]
InteractiveMode = Literal["Never", "IfAvailable", "Always"]

#: The cluster extension whose ``extension`` an exec plugin receives as ``spec.cluster.config``.
EXEC_EXTENSION = "client.authentication.k8s.io/exec"


# -- the model --------------------------------------------------------------------------------


@attrs.frozen
class NamedExtension:
    name: str
    extension: object = None


@kebab_keys
@attrs.frozen
class Cluster:
    server: str | None = attrs.field(default=None, repr=url_repr)
    certificate_authority: str | None = None
    certificate_authority_data: str | None = attrs.field(default=None, repr=False)
    insecure_skip_tls_verify: bool = False
    tls_server_name: str | None = None
    proxy_url: str | None = attrs.field(default=None, repr=url_repr)
    disable_compression: bool = False
    extensions: tuple[NamedExtension, ...] = ()


@attrs.frozen
class ExecEnvVar:
    name: str
    value: str = attrs.field(default="", repr=False)


@attrs.frozen
class ExecConfig:
    """``users[].user.exec`` (camelCase keys, like the ExecCredential API)."""

    command: str
    api_version: ExecAPIVersion
    #: may carry secrets (``--oidc-client-secret=...``): kept out of the repr
    args: tuple[str, ...] = attrs.field(default=(), repr=False)
    env: tuple[ExecEnvVar, ...] = ()
    install_hint: str | None = None
    provide_cluster_info: bool = False
    interactive_mode: InteractiveMode = "IfAvailable"


@attrs.frozen
class AuthProvider:
    name: str
    config: dict[str, str] = attrs.field(factory=dict, repr=False)


@kebab_keys
@attrs.frozen
class OIDCConfig:
    """The ``config`` of the ``oidc`` auth-provider."""

    idp_issuer_url: str
    client_id: str
    client_secret: str | None = attrs.field(default=None, repr=False)
    id_token: str | None = attrs.field(default=None, repr=False)
    refresh_token: str | None = attrs.field(default=None, repr=False)
    idp_certificate_authority: str | None = None
    idp_certificate_authority_data: str | None = attrs.field(default=None, repr=False)
    #: comma-separated
    extra_scopes: str | None = None


@kebab_keys
@attrs.frozen
class User:
    client_certificate: str | None = None
    client_certificate_data: str | None = attrs.field(default=None, repr=False)
    client_key: str | None = None
    client_key_data: str | None = attrs.field(default=None, repr=False)
    token: str | None = attrs.field(default=None, repr=False)
    token_file: str | None = attrs.field(default=None, metadata={KEY: "tokenFile"})
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    as_: str | None = None
    as_groups: tuple[str, ...] = ()
    as_uid: str | None = None
    as_user_extra: dict[str, tuple[str, ...]] = attrs.field(factory=dict)
    exec: ExecConfig | None = None
    auth_provider: AuthProvider | None = None


@attrs.frozen
class Context:
    cluster: str = ""
    user: str = ""
    namespace: str | None = None


@attrs.frozen
class NamedCluster:
    name: str
    cluster: Cluster


@attrs.frozen
class NamedUser:
    name: str
    user: User


@attrs.frozen
class NamedContext:
    name: str
    context: Context


@kebab_keys
@attrs.frozen
class Kubeconfig:
    """One kubeconfig document (``kind: Config``)."""

    clusters: tuple[NamedCluster, ...] = ()
    users: tuple[NamedUser, ...] = ()
    contexts: tuple[NamedContext, ...] = ()
    current_context: str | None = None
    preferences: object = None


@attrs.frozen
class KubeconfigFile:
    """A parsed document and where it came from."""

    #: the file's path, or ``<dict>``
    source: str
    config: Kubeconfig
    #: the directory relative paths were resolved against (None: left as they were)
    base_dir: str | None = None


# -- parsing ----------------------------------------------------------------------------------


def parse_kubeconfig(data: object, *, source: str, base_dir: str | None = None) -> KubeconfigFile:
    """Check one kubeconfig document and resolve the relative paths it holds.

    Args:
        data: The decoded YAML (``None`` for an empty file, which is an empty config).
        source: The file's path (``<dict>`` for a dict), used in messages.
        base_dir: The file's directory; relative paths are joined to it (None: left alone).

    Raises:
        ConfigError: The document does not fit the model, or a name is defined twice in it; the
            message names the source and the path (``users[0].user.exec.command``).
    """
    config = Kubeconfig() if data is None else structure(data, Kubeconfig, source=source)
    for section in ("clusters", "users", "contexts"):
        seen: dict[str, int] = {}
        for index, entry in enumerate(getattr(config, section)):
            if entry.name in seen:
                raise ConfigError(
                    f"{source}: {section}[{index}].name: {entry.name!r} is already defined "
                    f"by {section}[{seen[entry.name]}]"
                )
            seen[entry.name] = index
    if base_dir is not None:
        config = attrs.evolve(
            config,
            clusters=tuple(
                attrs.evolve(c, cluster=_rebase_cluster(c.cluster, base_dir))
                for c in config.clusters
            ),
            users=tuple(attrs.evolve(u, user=_rebase_user(u.user, base_dir)) for u in config.users),
        )
    return KubeconfigFile(source=source, config=config, base_dir=base_dir)


def _rebase(path: str | None, base_dir: str) -> str | None:
    return _rebase_str(path, base_dir) if path else path


def _rebase_str(path: str, base_dir: str) -> str:
    return path if os.path.isabs(path) else os.path.join(base_dir, path)


def _rebase_cluster(cluster: Cluster, base_dir: str) -> Cluster:
    return attrs.evolve(
        cluster, certificate_authority=_rebase(cluster.certificate_authority, base_dir)
    )


def _rebase_user(user: User, base_dir: str) -> User:
    user = attrs.evolve(
        user,
        client_certificate=_rebase(user.client_certificate, base_dir),
        client_key=_rebase(user.client_key, base_dir),
        token_file=_rebase(user.token_file, base_dir),
    )
    if user.exec is not None and ("/" in user.exec.command or os.sep in user.exec.command):
        # a bare name is looked up on PATH; a path with a slash is relative to the file
        user = attrs.evolve(
            user, exec=attrs.evolve(user.exec, command=_rebase_str(user.exec.command, base_dir))
        )
    provider = user.auth_provider
    ca = provider.config.get("idp-certificate-authority") if provider else None
    if provider is not None and ca:
        config = dict(provider.config, **{"idp-certificate-authority": _rebase_str(ca, base_dir)})
        user = attrs.evolve(user, auth_provider=attrs.evolve(provider, config=config))
    return user


# -- merging ----------------------------------------------------------------------------------


@attrs.frozen
class Located(Generic[T]):
    """A cluster, user or context with where it was defined, for messages and relative paths."""

    value: T
    source: str
    #: where in its document, e.g. ``users[2].user``
    path: str
    base_dir: str | None = None


@attrs.frozen
class MergedKubeconfig:
    clusters: Mapping[str, Located[Cluster]]
    users: Mapping[str, Located[User]]
    contexts: Mapping[str, Located[Context]]
    current_context: str | None
    #: the merged files, in order
    sources: tuple[str, ...]


def merge_kubeconfigs(files: Iterable[KubeconfigFile]) -> MergedKubeconfig:
    """Merge documents by kubectl's rules: the first definition of a name wins, and
    ``current-context`` comes from the first file that sets it."""
    clusters: dict[str, Located[Cluster]] = {}
    users: dict[str, Located[User]] = {}
    contexts: dict[str, Located[Context]] = {}
    current: str | None = None
    sources: list[str] = []
    for file in files:
        sources.append(file.source)
        cfg, src, base = file.config, file.source, file.base_dir
        for i, c in enumerate(cfg.clusters):
            clusters.setdefault(c.name, Located(c.cluster, src, f"clusters[{i}].cluster", base))
        for i, u in enumerate(cfg.users):
            users.setdefault(u.name, Located(u.user, src, f"users[{i}].user", base))
        for i, x in enumerate(cfg.contexts):
            contexts.setdefault(x.name, Located(x.context, src, f"contexts[{i}].context", base))
        if current is None and cfg.current_context:
            current = cfg.current_context
    return MergedKubeconfig(clusters, users, contexts, current, tuple(sources))


# -- resolving --------------------------------------------------------------------------------
