"""Finding and reading the client configuration, and the SSLContext it builds: file discovery
order, dicts, service accounts, errors, and real TLS handshakes with the fake cluster."""

from __future__ import annotations

import base64
import os
import ssl
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
import yaml

from kr8s_trio import _config
from kr8s_trio._config import build_ssl_context, load_client_config
from kr8s_trio._core import _pem
from kr8s_trio._core._clientconfig import (
    ClientConfig,
    ExecSpec,
    NoAuthSpec,
    OIDCSpec,
    TokenFileSpec,
    TokenSpec,
)
from kr8s_trio._core._exceptions import ConfigError
from kr8s_trio._core._kubecontext import (
    ResolvedConfig,
)
from kr8s_trio.testing import FakeCluster, open_fake_cluster

SECRET = "t0p-s3cret-token"


@pytest.fixture
async def cluster() -> AsyncIterator[FakeCluster]:
    async with open_fake_cluster(kubelet=False, controllers=False) as c:
        yield c


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No real kubeconfig or service account leaks in: HOME is an empty directory."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_PORT", raising=False)
    monkeypatch.setattr(_config, "DEFAULT_SERVICEACCOUNT", str(tmp_path / "no-sa"))
    return home


def kubeconfig(name: str, server: str = "https://k:6443", **user: Any) -> dict[str, Any]:
    return {
        "clusters": [{"name": name, "cluster": {"server": server}}],
        "users": [{"name": name, "user": user}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": name}}],
        "current-context": name,
    }


def write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    return path


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


async def whoami(config: ClientConfig, url: str, *, token: str | None = None) -> str:
    """One TLS handshake, GET /version, and the user the fake sees."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(verify=config.ssl_context, headers=headers) as client:
        version = await client.get(f"{url}/version")
        assert version.status_code == 200
        assert version.json()["major"] == "1"
        review = await client.post(
            f"{url}/apis/authentication.k8s.io/v1/selfsubjectreviews",
            json={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
        )
        assert review.status_code == 201, review.text
        return str(review.json()["status"]["userInfo"]["username"])


# --- real handshakes with the fake cluster ---------------------------------------------------


async def test_config_verifies_the_fake_cluster_with_its_ca(cluster: FakeCluster) -> None:
    config = await load_client_config(kubeconfig=cluster.kubeconfig_path)
    assert config.server == cluster.url
    assert config.auth == TokenSpec(cluster.token)
    assert config.context == "fake"
    assert config.source == str(cluster.kubeconfig_path)
    assert config.ssl_context is not None
    assert config.ssl_context.verify_mode == ssl.CERT_REQUIRED
    assert config.ssl_context.check_hostname
    assert await whoami(config, cluster.url, token=cluster.token) != "system:anonymous"


async def test_config_client_certificate_from_data(cluster: FakeCluster) -> None:
    cert = cluster.issue_client_cert("alice", ["devs"])
    data = cluster.kubeconfig
    data["users"][0]["user"] = {
        "client-certificate-data": b64(cert.cert_pem),
        "client-key-data": cert.key_pem.decode(),  # raw PEM works as well as base64
    }
    config = await load_client_config(kubeconfig=data)
    assert config.auth == NoAuthSpec()
    assert config.source == "<dict>"
    assert await whoami(config, cluster.url) == "alice"


async def test_config_relative_certificate_paths(cluster: FakeCluster, tmp_path: Path) -> None:
    cert = cluster.issue_client_cert("bob")
    pki = tmp_path / "kube" / "pki"
    pki.mkdir(parents=True)
    (pki / "ca.crt").write_bytes(cluster.ca_pem)
    (pki / "bob.crt").write_bytes(cert.cert_pem)
    (pki / "bob.key").write_bytes(cert.key_pem)
    data = kubeconfig("f", server=cluster.url, **{"client-certificate": "pki/bob.crt"})
    data["clusters"][0]["cluster"]["certificate-authority"] = "pki/ca.crt"
    data["users"][0]["user"]["client-key"] = "pki/bob.key"
    path = write(tmp_path / "kube" / "config", data)
    config = await load_client_config(kubeconfig=path)
    assert await whoami(config, cluster.url) == "bob"


async def test_config_tls_server_name_is_checked_as_sni(cluster: FakeCluster) -> None:
    # The fake's certificate names 127.0.0.1, ::1 and localhost. The transport sends
    # tls-server-name with httpx's sni_hostname extension, and the name is checked against it.
    data = cluster.kubeconfig
    data["clusters"][0]["cluster"]["tls-server-name"] = "localhost"
    config = await load_client_config(kubeconfig=data)
    assert config.tls_server_name == "localhost"
    headers = {"Authorization": f"Bearer {cluster.token}"}
    async with httpx.AsyncClient(verify=config.ssl_context, headers=headers) as client:
        ok = await client.get(f"{cluster.url}/version", extensions={"sni_hostname": "localhost"})
        assert ok.status_code == 200
    # (a new client: the first one would reuse its verified connection)
    async with httpx.AsyncClient(verify=config.ssl_context, headers=headers) as client:
        with pytest.raises(httpx.ConnectError) as info:
            await client.get(f"{cluster.url}/version", extensions={"sni_hostname": "wrong.name"})
    assert "Hostname mismatch" in str(verification_error(info.value))


async def test_config_insecure_skip_tls_verify(cluster: FakeCluster) -> None:
    data = cluster.kubeconfig
    data["clusters"][0]["cluster"] = {"server": cluster.url, "insecure-skip-tls-verify": True}
    config = await load_client_config(kubeconfig=data)
    assert config.ssl_context is not None
    assert config.ssl_context.verify_mode == ssl.CERT_NONE
    assert await whoami(config, cluster.url, token=cluster.token)


async def test_config_without_ca_uses_the_system_store(cluster: FakeCluster) -> None:
    data = cluster.kubeconfig
    del data["clusters"][0]["cluster"]["certificate-authority-data"]
    config = await load_client_config(kubeconfig=data)
    async with httpx.AsyncClient(verify=config.ssl_context) as client:
        with pytest.raises(httpx.ConnectError) as info:
            await client.get(f"{cluster.url}/version")
    assert "self-signed certificate" in str(verification_error(info.value))


def verification_error(exc: BaseException) -> ssl.SSLCertVerificationError:
    """The certificate verification failure behind an httpx error."""
    seen: BaseException | None = exc
    while seen is not None and not isinstance(seen, ssl.SSLCertVerificationError):
        seen = seen.__cause__ or seen.__context__
    assert seen is not None, exc
    return seen


async def test_config_service_account_dir(cluster: FakeCluster, tmp_path: Path) -> None:
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text(cluster.token + "\n")
    (sa / "ca.crt").write_bytes(cluster.ca_pem)
    (sa / "namespace").write_text("team-a")
    config = await load_client_config(serviceaccount=sa, url=cluster.url)
    assert config.server == cluster.url
    assert config.namespace == "team-a"
    assert config.auth == TokenFileSpec(str(sa / "token"), initial=cluster.token)
    assert config.source == "<in-cluster>"
    assert await whoami(config, cluster.url, token=cluster.token) != "system:anonymous"


async def test_config_service_account_env_and_missing_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "fd00::1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "6443")
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text("tok")
    config = await load_client_config(serviceaccount=str(sa))
    assert config.server == "https://[fd00::1]:6443"
    assert config.namespace == "default"
    (sa / "token").unlink()
    with pytest.raises(ConfigError, match=r"/sa/token: service-account token file not found$"):
        await load_client_config(serviceaccount=str(sa))


# --- discovery order -------------------------------------------------------------------------


async def test_config_home_kubeconfig(isolated: Path) -> None:
    write(isolated / ".kube" / "config", kubeconfig("home"))
    config = await load_client_config()
    assert (config.context, config.namespace) == ("home", "home")
    assert config.source == str(isolated / ".kube" / "config")


async def test_config_kubeconfig_env_merges_in_order(
    monkeypatch: pytest.MonkeyPatch, isolated: Path, tmp_path: Path
) -> None:
    write(isolated / ".kube" / "config", kubeconfig("home"))
    first = write(tmp_path / "a.yaml", {**kubeconfig("a", token="a"), "current-context": None})
    second = write(tmp_path / "b.yaml", kubeconfig("b", token="b"))
    second_again = kubeconfig("a", server="https://other", token="other")
    third = write(tmp_path / "c.yaml", second_again)
    missing = tmp_path / "missing.yaml"
    paths = [str(missing), str(first), "", str(second), str(third)]
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join(paths))
    # current-context from the first file that sets it; the home file is not read
    config = await load_client_config()
    assert (config.context, config.auth) == ("b", TokenSpec("b"))
    # the first definition of a name wins
    config = await load_client_config(context="a")
    assert (config.server, config.auth, config.source) == (
        "https://k:6443",
        TokenSpec("a"),
        str(first),
    )
    with pytest.raises(ConfigError, match=r"context 'home' not found \(known contexts: 'a', 'b'\)"):
        await load_client_config(context="home")


async def test_config_explicit_kubeconfig_beats_the_environment(
    monkeypatch: pytest.MonkeyPatch, isolated: Path, tmp_path: Path
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(write(tmp_path / "env", kubeconfig("env"))))
    config = await load_client_config(kubeconfig=str(write(tmp_path / "arg", kubeconfig("arg"))))
    assert config.context == "arg"
    write(isolated / "tilde.yaml", kubeconfig("tilde"))
    config = await load_client_config(kubeconfig="~/tilde.yaml")
    assert config.source == str(isolated / "tilde.yaml")
    config = await load_client_config(kubeconfig=kubeconfig("dict"), namespace="mine")
    assert (config.context, config.namespace) == ("dict", "mine")


async def test_config_falls_back_to_the_service_account(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "nothing-here"))
    sa = tmp_path / "default-sa"
    sa.mkdir()
    (sa / "token").write_text("sa-token")
    monkeypatch.setattr(_config, "DEFAULT_SERVICEACCOUNT", str(sa))
    config = await load_client_config()
    assert config.server == "https://kubernetes.default.svc:443"
    assert config.auth == TokenFileSpec(str(sa / "token"), initial="sa-token")
    with pytest.raises(ConfigError, match=r"context='x' given, but no kubeconfig was found"):
        await load_client_config(context="x")


async def test_config_nothing_found() -> None:
    with pytest.raises(ConfigError, match=r"^no configuration found \(tried .*\.kube/config and"):
        await load_client_config()


async def test_config_url_alone_and_with_a_kubeconfig() -> None:
    config = await load_client_config(url="http://127.0.0.1:8001/")
    assert config == ClientConfig(server="http://127.0.0.1:8001", source="http://127.0.0.1:8001/")
    assert config.ssl_context is None
    config = await load_client_config(
        url="https://other:443", kubeconfig=kubeconfig("k", token="t")
    )
    assert (config.server, config.auth, config.namespace) == (
        "https://other:443",
        TokenSpec("t"),
        "k",
    )
    with pytest.raises(ConfigError, match=r"^url: the scheme must be http or https, not 'ftp'$"):
        await load_client_config(url="ftp://x")


# --- errors ----------------------------------------------------------------------------------


async def test_config_errors_name_file_and_problem(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(ConfigError, match=f"^{missing}: kubeconfig file not found$"):
        await load_client_config(kubeconfig=missing)
    with pytest.raises(ConfigError, match=r"kubeconfig is a directory, not a file$"):
        await load_client_config(kubeconfig=tmp_path)
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text(f"users:\n- name: u\n  user: {{token: {SECRET}\n")
    with pytest.raises(ConfigError) as info:
        await load_client_config(kubeconfig=bad_yaml)
    assert str(info.value).startswith(f"{bad_yaml}: malformed YAML at line ")
    assert SECRET not in str(info.value)
    typed = write(tmp_path / "typed.yaml", {"users": [{"name": "u", "user": {"token": 5}}]})
    with pytest.raises(ConfigError) as info:
        await load_client_config(kubeconfig=typed)
    assert str(info.value) == f"{typed}: users[0].user.token: expected a string, got an integer"
    with pytest.raises(ConfigError, match=r"context 'nope' not found \(known contexts: 'k'\)"):
        await load_client_config(kubeconfig=kubeconfig("k"), context="nope")


async def test_config_missing_referenced_file(tmp_path: Path) -> None:
    data = kubeconfig("k")
    data["clusters"][0]["cluster"]["certificate-authority"] = "ca.crt"
    path = write(tmp_path / "cfg", data)
    with pytest.raises(ConfigError, match=f"^{tmp_path}/ca.crt: certificate-authority file not"):
        await load_client_config(kubeconfig=path)


async def test_config_bad_tls_material(cluster: FakeCluster) -> None:
    data = kubeconfig("k", **{"client-certificate-data": b64(cluster.client_cert.cert_pem)})
    with pytest.raises(ConfigError, match=r"context 'k': client-key is missing$"):
        await load_client_config(kubeconfig=data)
    data["clusters"][0]["cluster"]["certificate-authority-data"] = b64(b"-----BEGIN junk")
    with pytest.raises(ConfigError, match=r"the certificate authority is not valid PEM$"):
        await load_client_config(kubeconfig=data)


async def test_config_secrets_stay_out_of_reprs(cluster: FakeCluster) -> None:
    config = await load_client_config(kubeconfig=cluster.kubeconfig_path)
    assert cluster.token not in repr(config)
    assert "BEGIN" not in repr(config)


# --- credentials that need a file read -------------------------------------------------------


async def test_config_exec_cluster_info_and_oidc_ca(tmp_path: Path) -> None:
    ca = b"-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n"
    (tmp_path / "idp.crt").write_bytes(ca)
    exec_user = {
        "exec": {
            "command": "./plugin",
            "apiVersion": "client.authentication.k8s.io/v1",
            "provideClusterInfo": True,
        }
    }
    data = kubeconfig("k", server="http://127.0.0.1:1", **exec_user)
    config = await load_client_config(kubeconfig=write(tmp_path / "cfg", data))
    assert isinstance(config.auth, ExecSpec)
    assert config.auth.command == f"{tmp_path}/./plugin"
    assert config.auth.cluster_info == {"server": "http://127.0.0.1:1"}
    provider = {
        "name": "oidc",
        "config": {
            "idp-issuer-url": "https://idp",
            "client-id": "kube",
            "refresh-token": SECRET,
            "idp-certificate-authority": "idp.crt",
        },
    }
    data = kubeconfig("k", server="http://127.0.0.1:1", **{"auth-provider": provider})
    config = await load_client_config(kubeconfig=write(tmp_path / "cfg", data))
    assert isinstance(config.auth, OIDCSpec)
    assert config.auth.idp_ca_pem == ca
    assert SECRET not in repr(config)


# --- the private key never stays on disk -----------------------------------------------------


@pytest.fixture
def private_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """tempfile points at an empty directory, memfd is unavailable (the portable path is
    taken), and the directories made by mkdtemp are recorded."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    monkeypatch.setattr(_pem, "_memfd_usable", lambda: False)
    made: list[str] = []
    real_mkdtemp = tempfile.mkdtemp

    def spy(*args: Any, **kwargs: Any) -> str:
        path = real_mkdtemp(*args, **kwargs)
        assert os.stat(path).st_mode & 0o777 == 0o700
        made.append(path)
        return path

    monkeypatch.setattr(tempfile, "mkdtemp", spy)
    return made


async def test_config_key_data_leaves_no_file(
    cluster: FakeCluster, private_tmp: list[str], tmp_path: Path
) -> None:
    data = cluster.kubeconfig
    data["current-context"] = "fake-cert"
    config = await load_client_config(kubeconfig=data)
    assert private_tmp
    assert all(Path(p).parent == tmp_path / "tmp" for p in private_tmp)
    assert list((tmp_path / "tmp").iterdir()) == []
    assert await whoami(config, cluster.url) == "fake-cert-admin"


async def test_config_key_data_leaves_no_file_when_loading_fails(
    cluster: FakeCluster, private_tmp: list[str], tmp_path: Path
) -> None:
    other = cluster.issue_client_cert("other")
    data = cluster.kubeconfig
    data["current-context"] = "fake-cert"
    data["users"][1]["user"]["client-key-data"] = b64(other.key_pem)  # not the cert's key
    with pytest.raises(ConfigError, match=r"the client certificate and key do not load") as info:
        await load_client_config(kubeconfig=data)
    assert b64(other.key_pem) not in str(info.value)
    assert private_tmp
    assert list((tmp_path / "tmp").iterdir()) == []


async def test_config_key_data_leaves_no_file_when_cancelled(
    cluster: FakeCluster, private_tmp: list[str], tmp_path: Path
) -> None:
    data = cluster.kubeconfig
    data["current-context"] = "fake-cert"
    started = trio.Event()
    real = _pem.load_cert_chain_in_memory

    def slow_load(ctx: ssl.SSLContext, cert: bytes, key: bytes) -> None:
        # runs in the worker thread: let the test cancel while the key is on disk
        trio.from_thread.run_sync(started.set)
        real(ctx, cert, key)

    with trio.CancelScope() as scope:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_cancel_when, started, scope)
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(_config, "load_cert_chain_in_memory", slow_load)
                try:
                    await load_client_config(kubeconfig=data)
                finally:
                    nursery.cancel_scope.cancel()  # never wait for an event that cannot come
    assert scope.cancelled_caught
    assert started.is_set()
    assert private_tmp
    assert list((tmp_path / "tmp").iterdir()) == []


async def _cancel_when(event: trio.Event, scope: trio.CancelScope) -> None:
    await event.wait()
    scope.cancel()


def test_config_build_ssl_context_needs_no_event_loop(private_tmp: list[str]) -> None:
    resolved = ResolvedConfig(server="https://k", insecure_skip_tls_verify=True)
    ctx = build_ssl_context(resolved, None, None, None)
    assert (ctx.verify_mode, ctx.check_hostname) == (ssl.CERT_NONE, False)
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    assert private_tmp == []
