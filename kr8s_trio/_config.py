"""Find and read the client configuration; build the ``ssl.SSLContext`` in memory.

Where the configuration comes from, first match wins:

1. ``kubeconfig=`` (a path or an already-decoded dict); ``url=`` then replaces its server;
2. ``serviceaccount=`` (a service-account directory); ``url=`` then replaces its server;
3. ``url=`` alone: that server, no credentials, the system's CAs;
4. ``$KUBECONFIG`` (paths separated by ``os.pathsep``; missing ones are skipped, as kubectl
   does), else ``~/.kube/config``;
5. the pod's service account, ``/var/run/secrets/kubernetes.io/serviceaccount``.

Two differences from kr8s, on purpose: an explicit ``serviceaccount=`` is not overridden by a
kubeconfig found in the environment, and a bare ``url=`` never borrows credentials from a
kubeconfig it was not given (they belong to another server).

The namespace is the ``namespace=`` argument, else the context's (or the service account's),
else ``default``.

TLS: the CA (``certificate-authority(-data)``, ``ca.crt``) is loaded from memory; with none
the system's CAs are trusted. A client certificate and key are loaded through
`kr8s_trio._core._pem.load_cert_chain_in_memory`: an anonymous memory file on Linux, else 0600
files in a private ``tempfile.mkdtemp()`` directory removed right after loading, also when
loading fails or is cancelled. ``tls-server-name`` does not change the context: the transport
sends it as SNI with httpx's ``sni_hostname`` request extension, and the certificate's
hostname is then checked against that name.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping

import attrs
import trio
import yaml

from kr8s_trio._core._clientconfig import ClientConfig, ExecSpec, OIDCSpec
from kr8s_trio._core._exceptions import ConfigError
from kr8s_trio._core._kubeconfig import (
    KubeconfigFile,
    MergedKubeconfig,
    merge_kubeconfigs,
    parse_kubeconfig,
)
from kr8s_trio._core._kubecontext import (
    ResolvedConfig,
    exec_cluster_info,
    in_cluster_config,
    normalize_server,
    resolve_context,
)
from kr8s_trio._core._pem import load_ca_in_memory, load_cert_chain_in_memory
from kr8s_trio._core._x509 import certificate_subject

__all__ = ["DEFAULT_SERVICEACCOUNT", "build_ssl_context", "load_client_config"]

#: Where Kubernetes mounts a pod's service-account token, CA and namespace.
DEFAULT_SERVICEACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"

KubeconfigSource = str | os.PathLike[str] | Mapping[str, object]


async def load_client_config(
    *,
    url: str | None = None,
    kubeconfig: KubeconfigSource | None = None,
    serviceaccount: str | os.PathLike[str] | None = None,
    namespace: str | None = None,
    context: str | None = None,
) -> ClientConfig:
    """Find the configuration (see the module docstring for the order) and make it usable.

    Args:
        url: The API server's URL; with ``kubeconfig`` or ``serviceaccount`` it replaces their
            server, alone it means "this server, no credentials".
        kubeconfig: A kubeconfig path, or a kubeconfig document as a dict.
        serviceaccount: A service-account directory (``token``, ``ca.crt``, ``namespace``).
        namespace: The default namespace, over the context's.
        context: The kubeconfig context to use instead of ``current-context``.

    Returns:
        The `ClientConfig`, with its ``ssl_context`` built (None for an ``http://`` server).

    Raises:
        ConfigError: Nothing was found, a file is missing or unreadable, YAML is malformed, a
            field has the wrong type, the context is unknown, or the TLS material does not
            load. The message names the file, the path in it and the problem, never a secret.

    Cancellation:
        Safe at any point: files are read with trio (each read is a checkpoint); building the
        SSLContext runs in a worker thread that is waited for, so any temporary key file is
        removed before the cancellation propagates. Nothing is cached.
    """
    if kubeconfig is not None:
        resolved = resolve_context(await _read_kubeconfigs([kubeconfig]), context=context)
    elif serviceaccount is not None:
        resolved = await _read_serviceaccount(os.fspath(serviceaccount))
    elif url is not None:
        resolved = ResolvedConfig(server=normalize_server(url, where="url"), source=url)
    else:
        resolved = await _discover(context)
    if url is not None:
        resolved = attrs.evolve(resolved, server=normalize_server(url, where="url"))
    return await _finish(resolved, namespace)


async def _discover(context: str | None) -> ResolvedConfig:
    env = os.environ.get("KUBECONFIG")
    if env is not None:
        candidates = [p for p in env.split(os.pathsep) if p]
        tried = f"KUBECONFIG={env!r}"
    else:
        candidates = [_home_kubeconfig()]
        tried = candidates[0]
    found: list[KubeconfigSource] = [p for p in candidates if await trio.Path(p).exists()]
    if found:
        return resolve_context(await _read_kubeconfigs(found), context=context)
    if not await trio.Path(DEFAULT_SERVICEACCOUNT, "token").is_file():
        raise ConfigError(
            f"no configuration found (tried {tried} and the service account in "
            f"{DEFAULT_SERVICEACCOUNT}); pass url=, kubeconfig= or serviceaccount="
        )
    if context is not None:
        raise ConfigError(f"context={context!r} given, but no kubeconfig was found ({tried})")
    return await _read_serviceaccount(DEFAULT_SERVICEACCOUNT)


def _home_kubeconfig() -> str:
    return os.path.join(os.path.expanduser("~"), ".kube", "config")


def absolute_path(path: str | os.PathLike[str]) -> str:
    """``path`` as it is read: ``~`` expanded, absolute, normalised (string work only)."""
    return os.path.abspath(os.path.expanduser(os.fspath(path)))


async def _read_kubeconfigs(sources: list[KubeconfigSource]) -> MergedKubeconfig:
    files: list[KubeconfigFile] = []
    for source in sources:
        if isinstance(source, Mapping):
            files.append(parse_kubeconfig(dict(source), source="<dict>"))
            continue
        path = absolute_path(source)
        data = _load_yaml(await _read_file(path, what="kubeconfig"), path)
        files.append(parse_kubeconfig(data, source=path, base_dir=os.path.dirname(path)))
    return merge_kubeconfigs(files)


def _load_yaml(raw: bytes, path: str) -> object:
    try:
        return yaml.safe_load(raw)
    except yaml.MarkedYAMLError as exc:
        # the problem and its position only: the snippet yaml would quote may hold a secret
        mark = exc.problem_mark
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ConfigError(f"{path}: malformed YAML{at}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: malformed YAML ({type(exc).__name__})") from None


async def _read_file(path: str, *, what: str) -> bytes:
    try:
        return await trio.Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: {what} is a directory, not a file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what} file ({exc.strerror})") from None


def _text(raw: bytes, path: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None


async def _read_serviceaccount(directory: str) -> ResolvedConfig:
    token_path = os.path.join(directory, "token")
    token = _text(await _read_file(token_path, what="service-account token"), token_path)
    ca_path = os.path.join(directory, "ca.crt")
    ns_path = os.path.join(directory, "namespace")
    namespace = None
    if await trio.Path(ns_path).is_file():
        namespace = _text(await _read_file(ns_path, what="service-account namespace"), ns_path)
    return in_cluster_config(
        os.environ,
        token=token,
        token_path=token_path,
        ca_path=ca_path if await trio.Path(ca_path).is_file() else None,
        namespace=namespace,
    )


async def _finish(resolved: ResolvedConfig, namespace: str | None) -> ClientConfig:
    async def read(inline: bytes | None, path: str | None, what: str) -> bytes | None:
        return inline if inline is not None or path is None else await _read_file(path, what=what)

    ca_pem = await read(resolved.ca_pem, resolved.ca_path, "certificate-authority")
    cert_pem = await read(resolved.client_cert_pem, resolved.client_cert_path, "client-certificate")
    key_pem = await read(resolved.client_key_pem, resolved.client_key_path, "client-key")
    auth = resolved.auth
    if isinstance(auth, OIDCSpec) and resolved.oidc_ca_path is not None:
        oidc_ca = await _read_file(resolved.oidc_ca_path, what="idp-certificate-authority")
        auth = attrs.evolve(auth, idp_ca_pem=oidc_ca)
    if isinstance(auth, ExecSpec) and auth.provide_cluster_info:
        auth = attrs.evolve(auth, cluster_info=exec_cluster_info(resolved, ca_pem))
    ssl_context = None
    if resolved.server.startswith("https://"):
        ssl_context = await trio.to_thread.run_sync(
            build_ssl_context, resolved, ca_pem, cert_pem, key_pem
        )
        # the thread is not abandoned (its cleanup must finish); honour a cancel that came meanwhile
        await trio.lowlevel.checkpoint_if_cancelled()
    return ClientConfig(
        server=resolved.server,
        namespace=namespace or resolved.namespace or "default",
        ssl_context=ssl_context,
        auth=auth,
        tls_server_name=resolved.tls_server_name,
        proxy_url=resolved.proxy_url,
        disable_compression=resolved.disable_compression,
        impersonate=resolved.impersonate,
        certificate_user=_certificate_user(cert_pem) if ssl_context is not None else None,
        context=resolved.context,
        source=resolved.source,
    )


def _certificate_user(cert_pem: bytes | None) -> str | None:
    """The client certificate's common name (None without one, or if it does not parse: the
    TLS layer has accepted it, only ``whoami`` would use the name)."""
    if cert_pem is None:
        return None
    try:
        return certificate_subject(cert_pem)[0]
    except ValueError:
        return None


def build_ssl_context(
    resolved: ResolvedConfig,
    ca_pem: bytes | None,
    cert_pem: bytes | None,
    key_pem: bytes | None,
) -> ssl.SSLContext:
    """Build the client context for a resolved config, from PEM bytes already read.

    Blocking (the system's CAs are read from disk when ``ca_pem`` is None): call it in a
    worker thread.

    Raises:
        ConfigError: The CA, certificate or key is not valid PEM, the key does not match the
            certificate, or only one of certificate and key is given.
    """
    where = resolved.source or resolved.server
    if ca_pem is not None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        try:
            load_ca_in_memory(ctx, ca_pem)
        except (ssl.SSLError, ValueError):
            raise ConfigError(f"{where}: the certificate authority is not valid PEM") from None
    else:
        ctx = ssl.create_default_context()
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if resolved.insecure_skip_tls_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if (cert_pem is None) != (key_pem is None):
        missing = "client-key" if key_pem is None else "client-certificate"
        raise ConfigError(f"{where}: context {resolved.context!r}: {missing} is missing")
    if cert_pem is not None and key_pem is not None:
        try:
            load_cert_chain_in_memory(ctx, cert_pem, key_pem)
        except ssl.SSLError as exc:
            # OpenSSL's reason ("KEY_VALUES_MISMATCH", "PEM lib") never holds key material
            reason = exc.reason or exc.strerror or type(exc).__name__
            raise ConfigError(
                f"{where}: context {resolved.context!r}: the client certificate and key do "
                f"not load ({reason})"
            ) from None
    return ctx
