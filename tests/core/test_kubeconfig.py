"""The sans-IO kubeconfig: the model and its keys, relative paths, kubectl's merge rules,
choosing a context, inline certificate data, credentials, and errors that name the path."""

from __future__ import annotations

import base64
from typing import Any

import attrs
import pytest
from hypothesis import given, strategies as st

from kr8s_trio._core._clientconfig import (
    BasicAuthSpec,
    ExecSpec,
    NoAuthSpec,
    OIDCSpec,
    TokenFileSpec,
    TokenSpec,
)
from kr8s_trio._core._convert import converter, describe, structure
from kr8s_trio._core._exceptions import ConfigError
from kr8s_trio._core._kubeconfig import (
    AuthProvider,
    Cluster,
    ExecConfig,
    ExecEnvVar,
    Kubeconfig,
    KubeconfigFile,
    NamedExtension,
    User,
    merge_kubeconfigs,
    parse_kubeconfig,
)
from kr8s_trio._core._kubecontext import (
    ResolvedConfig,
    decode_pem_data,
    exec_cluster_info,
    in_cluster_config,
    normalize_server,
    resolve_context,
)

CA_PEM = b"-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n"
CERT_PEM = b"-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----\n"
KEY_PEM = b"-----BEGIN PRIVATE KEY-----\nS0VZ\n-----END PRIVATE KEY-----\n"
SECRET = "s3cr3t-t0ken-value"
V1 = "client.authentication.k8s.io/v1"
V1BETA1 = "client.authentication.k8s.io/v1beta1"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def doc(
    *,
    cluster: dict[str, Any] | None = None,
    user: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    **top: Any,
) -> dict[str, Any]:
    """A one-context kubeconfig; the arguments replace the cluster, user and context bodies."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": cluster or {"server": "https://k8s:6443"}}],
        "users": [{"name": "u", "user": user if user is not None else {"token": SECRET}}],
        "contexts": [
            {"name": "ctx", "context": context or {"cluster": "c", "user": "u", "namespace": "ns"}}
        ],
        "current-context": "ctx",
        **top,
    }


def resolve(
    data: object, *, context: str | None = None, base_dir: str | None = None
) -> ResolvedConfig:
    file = parse_kubeconfig(data, source="/k/config", base_dir=base_dir)
    return resolve_context(merge_kubeconfigs([file]), context=context)


def config_error(data: object, **kwargs: Any) -> str:
    with pytest.raises(ConfigError) as info:
        resolve(data, **kwargs)
    return str(info.value)


# --- the model and its keys ------------------------------------------------------------------

FULL = {
    "apiVersion": "v1",
    "kind": "Config",
    "preferences": {"colors": True},
    "clusters": [
        {
            "name": "prod",
            "cluster": {
                "server": "https://prod.example:6443",
                "certificate-authority": "/etc/ca.crt",
                "certificate-authority-data": b64(CA_PEM),
                "insecure-skip-tls-verify": True,
                "tls-server-name": "api.prod",
                "proxy-url": "socks5://proxy:1080",
                "disable-compression": True,
                "extensions": [
                    {"name": "client.authentication.k8s.io/exec", "extension": {"audience": "a"}}
                ],
            },
        }
    ],
    "users": [
        {
            "name": "admin",
            "user": {
                "client-certificate": "/etc/client.crt",
                "client-certificate-data": b64(CERT_PEM),
                "client-key": "/etc/client.key",
                "client-key-data": b64(KEY_PEM),
                "token": SECRET,
                "tokenFile": "/etc/token",
                "username": "bob",
                "password": SECRET,
                "as": "alice",
                "as-groups": ["devs", "ops"],
                "as-uid": "1234",
                "as-user-extra": {"scopes": ["view", "edit"]},
                "exec": {
                    "command": "/bin/plugin",
                    "args": ["get-token", "--x"],
                    "env": [{"name": "A", "value": "1"}],
                    "apiVersion": V1,
                    "installHint": "install it",
                    "provideClusterInfo": True,
                    "interactiveMode": "Never",
                },
                "auth-provider": {
                    "name": "oidc",
                    "config": {"idp-issuer-url": "https://idp", "client-id": "kube"},
                },
            },
        }
    ],
    "contexts": [
        {"name": "prod", "context": {"cluster": "prod", "user": "admin", "namespace": "x"}}
    ],
    "current-context": "prod",
}


def test_kubeconfig_model_reads_every_field() -> None:
    config = parse_kubeconfig(FULL, source="<dict>").config
    assert config.current_context == "prod"
    assert config.preferences == {"colors": True}
    assert config.clusters[0].cluster == Cluster(
        server="https://prod.example:6443",
        certificate_authority="/etc/ca.crt",
        certificate_authority_data=b64(CA_PEM),
        insecure_skip_tls_verify=True,
        tls_server_name="api.prod",
        proxy_url="socks5://proxy:1080",
        disable_compression=True,
        extensions=(NamedExtension("client.authentication.k8s.io/exec", {"audience": "a"}),),
    )
    assert config.users[0].user == User(
        client_certificate="/etc/client.crt",
        client_certificate_data=b64(CERT_PEM),
        client_key="/etc/client.key",
        client_key_data=b64(KEY_PEM),
        token=SECRET,
        token_file="/etc/token",
        username="bob",
        password=SECRET,
        as_="alice",
        as_groups=("devs", "ops"),
        as_uid="1234",
        as_user_extra={"scopes": ("view", "edit")},
        exec=ExecConfig(
            command="/bin/plugin",
            api_version=V1,
            args=("get-token", "--x"),
            env=(ExecEnvVar("A", "1"),),
            install_hint="install it",
            provide_cluster_info=True,
            interactive_mode="Never",
        ),
        auth_provider=AuthProvider("oidc", {"idp-issuer-url": "https://idp", "client-id": "kube"}),
    )
    ctx = config.contexts[0]
    assert (ctx.name, ctx.context.cluster, ctx.context.user, ctx.context.namespace) == (
        "prod",
        "prod",
        "admin",
        "x",
    )


def test_kubeconfig_keys_round_trip() -> None:
    # kebab-case for the kubeconfig, camelCase for exec, tokenFile and "as" by name
    config = parse_kubeconfig(FULL, source="<dict>").config
    out = converter.unstructure(config)
    expected = {k: v for k, v in FULL.items() if k not in ("apiVersion", "kind")}
    assert out == expected
    assert converter.structure(out, Kubeconfig) == config


TEXT = st.text(max_size=8)


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "server": TEXT,
            "certificate-authority": TEXT,
            "certificate-authority-data": TEXT,
            "insecure-skip-tls-verify": st.booleans(),
            "tls-server-name": TEXT,
            "proxy-url": TEXT,
            "disable-compression": st.booleans(),
        },
    ),
    st.fixed_dictionaries(
        {"command": TEXT, "apiVersion": st.sampled_from([V1, V1BETA1])},
        optional={
            "args": st.lists(TEXT, max_size=3),
            "env": st.lists(
                st.fixed_dictionaries({"name": TEXT, "value": st.text(min_size=1)}), max_size=2
            ),
            "installHint": TEXT,
            "provideClusterInfo": st.booleans(),
            "interactiveMode": st.sampled_from(["Never", "Always"]),
        },
    ),
)
def test_kubeconfig_keys_round_trip_property(
    cluster: dict[str, Any], exec_: dict[str, Any]
) -> None:
    # whatever subset of keys is given comes back under the same keys (defaults are left out)
    for body, cls in ((cluster, Cluster), (exec_, ExecConfig)):
        out = converter.unstructure(structure(body, cls, source="s"))
        assert out == {k: v for k, v in body.items() if v is not False and v != []}


def test_kubeconfig_null_means_absent_and_unknown_keys_are_ignored() -> None:
    data = doc(user={"token": None, "username": "u", "password": None, "future-field": 1})
    data["clusters"] = None
    config = parse_kubeconfig({**data, "extensions": [{"name": "x"}]}, source="<dict>").config
    assert config.clusters == ()
    assert config.users[0].user == User(username="u")


def test_kubeconfig_empty_document_is_an_empty_config() -> None:
    assert parse_kubeconfig(None, source="f").config == Kubeconfig()


def test_kubeconfig_secrets_stay_out_of_reprs() -> None:
    file = parse_kubeconfig(FULL, source="<dict>")
    user = {
        "token": SECRET,
        "client-certificate-data": b64(CERT_PEM),
        "client-key-data": b64(KEY_PEM),
    }
    resolved = resolve(doc(user=user))
    for text in (repr(file), repr(resolved), repr(file.config.users[0].user)):
        assert SECRET not in text
        assert b64(KEY_PEM) not in text


# --- relative paths --------------------------------------------------------------------------


def test_kubeconfig_relative_paths_resolve_against_the_file_directory() -> None:
    data = doc(
        cluster={"server": "https://k", "certificate-authority": "pki/ca.crt"},
        user={
            "client-certificate": "pki/client.crt",
            "client-key": "../keys/client.key",
            "exec": {"command": "./bin/plugin", "apiVersion": V1},
            "auth-provider": None,
        },
    )
    config = parse_kubeconfig(data, source="/home/me/.kube/config", base_dir="/home/me/.kube")
    cluster, user = config.config.clusters[0].cluster, config.config.users[0].user
    assert cluster.certificate_authority == "/home/me/.kube/pki/ca.crt"
    assert user.client_certificate == "/home/me/.kube/pki/client.crt"
    assert user.client_key == "/home/me/.kube/../keys/client.key"
    assert user.exec is not None
    assert user.exec.command == "/home/me/.kube/./bin/plugin"


def test_kubeconfig_relative_token_file_and_idp_ca() -> None:
    provider = {
        "name": "oidc",
        "config": {
            "idp-issuer-url": "https://idp",
            "client-id": "kube",
            "idp-certificate-authority": "idp-ca.crt",
        },
    }
    user = (
        parse_kubeconfig(
            doc(user={"tokenFile": "tok", "auth-provider": provider}), source="/d/c", base_dir="/d"
        )
        .config.users[0]
        .user
    )
    assert user.token_file == "/d/tok"
    assert user.auth_provider is not None
    assert user.auth_provider.config["idp-certificate-authority"] == "/d/idp-ca.crt"


def test_kubeconfig_bare_exec_command_and_absolute_paths_are_left_alone() -> None:
    data = doc(
        cluster={"server": "https://k", "certificate-authority": "/abs/ca.crt"},
        user={"exec": {"command": "aws", "apiVersion": V1}},
    )
    config = parse_kubeconfig(data, source="/d/c", base_dir="/d").config
    assert config.clusters[0].cluster.certificate_authority == "/abs/ca.crt"
    assert config.users[0].user.exec == ExecConfig(command="aws", api_version=V1)
    resolved = resolve(data, base_dir="/d")
    assert isinstance(resolved.auth, ExecSpec)
    assert resolved.auth.base_dir == "/d"


def test_kubeconfig_dict_paths_stay_relative() -> None:
    data = doc(cluster={"server": "https://k", "certificate-authority": "ca.crt"})
    assert resolve(data).ca_path == "ca.crt"


# --- merging ---------------------------------------------------------------------------------


def named_file(source: str, names: list[str], current: str | None) -> KubeconfigFile:
    data = {
        "clusters": [{"name": n, "cluster": {"server": f"https://{source}"}} for n in names],
        "users": [{"name": n, "user": {"username": source}} for n in names],
        "contexts": [{"name": n, "context": {"cluster": n, "namespace": source}} for n in names],
        "current-context": current,
    }
    return parse_kubeconfig(data, source=source)


def test_kubeconfig_merge_first_file_wins() -> None:
    merged = merge_kubeconfigs(
        [
            named_file("a", ["x"], None),
            named_file("b", ["x", "y"], "y"),
            named_file("c", ["z"], "z"),
        ]
    )
    assert merged.sources == ("a", "b", "c")
    assert merged.current_context == "y"
    assert merged.clusters["x"].value.server == "https://a"
    assert merged.users["x"].value.username == "a"
    assert merged.contexts["y"].source == "b"
    assert merged.contexts["y"].path == "contexts[1].context"
    assert list(merged.contexts) == ["x", "y", "z"]


@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from("pqrs"), unique=True, max_size=4),
            st.none() | st.sampled_from("pqrs"),
        ),
        max_size=5,
    )
)
def test_kubeconfig_merge_property(files: list[tuple[list[str], str | None]]) -> None:
    parsed = [named_file(f"f{i}", names, current) for i, (names, current) in enumerate(files)]
    merged = merge_kubeconfigs(parsed)
    for name in "pqrs":
        owners = [f"f{i}" for i, (names, _) in enumerate(files) if name in names]
        if owners:
            assert merged.clusters[name].value.server == f"https://{owners[0]}"
            assert merged.users[name].source == owners[0]
            assert merged.contexts[name].value.namespace == owners[0]
        else:
            assert name not in merged.contexts
    currents = [current for _, current in files if current]
    assert merged.current_context == (currents[0] if currents else None)


def test_kubeconfig_duplicate_name_in_one_file_is_an_error() -> None:
    data = doc()
    data["users"].append({"name": "u", "user": {}})
    with pytest.raises(ConfigError, match=r"^f: users\[1\]\.name: 'u' is already defined by"):
        parse_kubeconfig(data, source="f")


# --- choosing a context ----------------------------------------------------------------------


def test_kubeconfig_context_argument_then_current_then_first() -> None:
    data = doc()
    data["contexts"].append({"name": "other", "context": {"cluster": "c", "namespace": "o"}})
    assert resolve(data).context == "ctx"
    assert resolve(data, context="other").namespace == "o"
    assert resolve(data, context="other").auth == NoAuthSpec()
    del data["current-context"]
    assert resolve(data).context == "ctx"


def test_kubeconfig_resolved_connection() -> None:
    resolved = resolve(doc())
    assert resolved == ResolvedConfig(
        server="https://k8s:6443",
        context="ctx",
        namespace="ns",
        auth=TokenSpec(SECRET),
        source="/k/config",
    )


def test_kubeconfig_unknown_context_names_it_and_the_known_ones() -> None:
    message = config_error(doc(), context="nope")
    assert message == "/k/config: context 'nope' not found (known contexts: 'ctx')"


def test_kubeconfig_no_context_at_all() -> None:
    assert config_error({"clusters": []}) == "/k/config: no context is defined"


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (
            {"cluster": "missing", "user": "u"},
            "/k/config: contexts[0].context.cluster: cluster 'missing' is not defined",
        ),
        (
            {"cluster": "c", "user": "ghost"},
            "/k/config: contexts[0].context.user: user 'ghost' is not defined",
        ),
    ],
)
def test_kubeconfig_missing_references(context: dict[str, str], expected: str) -> None:
    assert config_error(doc(context=context)) == expected


def test_kubeconfig_cluster_without_server() -> None:
    message = config_error(doc(cluster={"certificate-authority": "/ca"}))
    assert message == "/k/config: clusters[0].cluster.server: required field missing"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://k:6443/", "https://k:6443"),
        ("k.example:6443", "https://k.example:6443"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("https://[::1]:6443", "https://[::1]:6443"),
        ("https://k/prefix/", "https://k/prefix"),
    ],
)
def test_kubeconfig_server_is_normalized(url: str, expected: str) -> None:
    assert normalize_server(url, where="x") == expected


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://k", "the scheme must be http or https, not 'ftp'"),
        ("unix:///sock", "the scheme must be http or https, not 'unix'"),
        ("https://", "the URL has no host"),
        ("https://user:" + SECRET + "@", "the URL has no host"),
    ],
)
def test_kubeconfig_server_must_be_http(url: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        normalize_server(url, where="x")
    assert str(info.value) == f"x: {problem}"


# --- certificate data ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        b64(CA_PEM),
        CA_PEM.decode(),
        "  " + b64(CA_PEM)[:10] + "\n" + b64(CA_PEM)[10:] + "\n",  # wrapped base64
    ],
)
def test_kubeconfig_certificate_data_base64_or_pem(text: str) -> None:
    assert decode_pem_data(text, where="w").strip() == CA_PEM.strip()


def test_kubeconfig_tls_material_inline_and_by_path() -> None:
    inline = resolve(
        doc(
            cluster={"server": "https://k", "certificate-authority-data": CA_PEM.decode()},
            user={"client-certificate-data": b64(CERT_PEM), "client-key-data": b64(KEY_PEM)},
        )
    )
    assert (inline.ca_pem, inline.client_cert_pem, inline.client_key_pem) == (
        CA_PEM,
        CERT_PEM,
        KEY_PEM,
    )
    assert (inline.ca_path, inline.client_cert_path, inline.client_key_path) == (None,) * 3
    by_path = resolve(
        doc(
            cluster={"server": "https://k", "certificate-authority": "/ca"},
            user={"client-certificate": "/crt", "client-key": "/key"},
        )
    )
    assert (by_path.ca_path, by_path.client_cert_path, by_path.client_key_path) == (
        "/ca",
        "/crt",
        "/key",
    )
    assert by_path.ca_pem is None


def test_kubeconfig_data_wins_over_path() -> None:
    resolved = resolve(
        doc(
            cluster={
                "server": "https://k",
                "certificate-authority": "/ca",
                "certificate-authority-data": b64(CA_PEM),
            }
        )
    )
    assert (resolved.ca_pem, resolved.ca_path) == (CA_PEM, None)


@pytest.mark.parametrize(
    ("user", "where", "problem"),
    [
        ({"client-key-data": "not base64 " + SECRET}, "client-key-data", "neither base64 nor PEM"),
        ({"client-certificate-data": b64(SECRET.encode())}, "client-certificate-data", "PEM"),
    ],
)
def test_kubeconfig_bad_certificate_data(user: dict[str, str], where: str, problem: str) -> None:
    message = config_error(doc(user=user))
    assert message.startswith(f"/k/config: users[0].user.{where}: ")
    assert problem in message
    assert SECRET not in message
    assert b64(SECRET.encode()) not in message


# --- credentials -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ({}, NoAuthSpec()),
        ({"token": SECRET}, TokenSpec(SECRET)),
        ({"tokenFile": "/t"}, TokenFileSpec("/t")),
        ({"tokenFile": "/t", "token": SECRET}, TokenFileSpec("/t", initial=SECRET)),
        ({"username": "bob", "password": SECRET}, BasicAuthSpec("bob", SECRET)),
        ({"username": "bob"}, BasicAuthSpec("bob", "")),
        (
            {"client-certificate-data": b64(CERT_PEM), "client-key-data": b64(KEY_PEM)},
            NoAuthSpec(),
        ),
    ],
)
def test_kubeconfig_auth_spec(user: dict[str, str], expected: object) -> None:
    assert resolve(doc(user=user)).auth == expected


def test_kubeconfig_exec_spec() -> None:
    exec_ = {
        "command": "gke-gcloud-auth-plugin",
        "args": ["--a"],
        "env": [{"name": "K", "value": "v"}, {"name": "E"}],
        "apiVersion": V1BETA1,
        "installHint": "gcloud components install gke-gcloud-auth-plugin",
        "provideClusterInfo": True,
    }
    assert resolve(doc(user={"exec": exec_}), base_dir="/k").auth == ExecSpec(
        command="gke-gcloud-auth-plugin",
        api_version=V1BETA1,
        args=("--a",),
        env={"K": "v", "E": ""},
        install_hint="gcloud components install gke-gcloud-auth-plugin",
        provide_cluster_info=True,
        interactive_mode="IfAvailable",
        base_dir="/k",
    )


def test_kubeconfig_oidc_spec() -> None:
    provider = {
        "name": "oidc",
        "config": {
            "idp-issuer-url": "https://idp",
            "client-id": "kube",
            "client-secret": "cs",
            "id-token": "idt",
            "refresh-token": "rt",
            "idp-certificate-authority-data": b64(CA_PEM),
            "extra-scopes": "groups, email,",
        },
    }
    resolved = resolve(doc(user={"auth-provider": provider}))
    assert resolved.auth == OIDCSpec(
        issuer_url="https://idp",
        client_id="kube",
        id_token="idt",
        refresh_token="rt",
        client_secret="cs",
        idp_ca_pem=CA_PEM,
        extra_scopes=("groups", "email"),
    )
    assert resolved.oidc_ca_path is None
    provider["config"] = {
        "idp-issuer-url": "https://idp",
        "client-id": "kube",
        "idp-certificate-authority": "/idp.crt",
    }
    resolved = resolve(doc(user={"auth-provider": provider}))
    assert resolved.oidc_ca_path == "/idp.crt"
    assert isinstance(resolved.auth, OIDCSpec)
    assert resolved.auth.idp_ca_pem is None


def test_kubeconfig_oidc_config_errors_name_the_path() -> None:
    provider = {"name": "oidc", "config": {"client-id": "kube", "id-token": SECRET}}
    message = config_error(doc(user={"auth-provider": provider}))
    assert message == (
        "/k/config: users[0].user.auth-provider.config.idp-issuer-url: required field missing"
    )


def test_kubeconfig_unsupported_auth_provider() -> None:
    message = config_error(doc(user={"auth-provider": {"name": "gcp", "config": {}}}))
    assert message.startswith(
        "/k/config: users[0].user.auth-provider.name: auth-provider 'gcp' is not supported"
    )


def test_kubeconfig_one_authentication_method_only() -> None:
    message = config_error(doc(user={"token": SECRET, "exec": {"command": "x", "apiVersion": V1}}))
    assert message == (
        "/k/config: users[0].user: more than one authentication method (token, exec); "
        "only one is allowed"
    )


def test_kubeconfig_impersonation_headers() -> None:
    user = {
        "as": "alice",
        "as-groups": ["devs", "ops"],
        "as-uid": "42",
        "as-user-extra": {"scopes": ["a", "b"], "example.com/team x": ["t"]},
    }
    assert resolve(doc(user=user)).impersonate == (
        ("Impersonate-User", "alice"),
        ("Impersonate-Group", "devs"),
        ("Impersonate-Group", "ops"),
        ("Impersonate-Uid", "42"),
        ("Impersonate-Extra-scopes", "a"),
        ("Impersonate-Extra-scopes", "b"),
        ("Impersonate-Extra-example.com%2Fteam%20x", "t"),
    )


def test_kubeconfig_cluster_options_pass_through() -> None:
    resolved = resolve(
        doc(
            cluster={
                "server": "https://k",
                "insecure-skip-tls-verify": True,
                "tls-server-name": "api.internal",
                "proxy-url": "http://proxy:3128",
                "disable-compression": True,
            }
        )
    )
    assert resolved.insecure_skip_tls_verify
    assert resolved.tls_server_name == "api.internal"
    assert resolved.proxy_url == "http://proxy:3128"
    assert resolved.disable_compression


def test_kubeconfig_exec_cluster_info() -> None:
    cluster = {
        "server": "https://k",
        "tls-server-name": "api",
        "proxy-url": "http://p",
        "extensions": [
            {"name": "other", "extension": 1},
            {"name": "client.authentication.k8s.io/exec", "extension": {"audience": "kube"}},
        ],
    }
    resolved = resolve(doc(cluster=cluster))
    assert exec_cluster_info(resolved, CA_PEM) == {
        "server": "https://k",
        "tls-server-name": "api",
        "certificate-authority-data": b64(CA_PEM),
        "proxy-url": "http://p",
        "config": {"audience": "kube"},
    }
    insecure = attrs.evolve(resolved, insecure_skip_tls_verify=True, disable_compression=True)
    info = exec_cluster_info(insecure, None)
    assert info["insecure-skip-tls-verify"] is True
    assert info["disable-compression"] is True
    assert "certificate-authority-data" not in info


# --- bad input: each error names the path ----------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([], "f: expected a mapping, got a list"),
        ({"clusters": {"c": {}}}, "f: clusters: expected a list, got a mapping"),
        ({"clusters": ["c"]}, "f: clusters[0]: expected a mapping, got a string"),
        ({"clusters": [{"cluster": {}}]}, "f: clusters[0].name: required field missing"),
        ({"clusters": [{"name": "c"}]}, "f: clusters[0].cluster: required field missing"),
        (
            {"clusters": [{"name": "c", "cluster": {"server": 6443}}]},
            "f: clusters[0].cluster.server: expected a string, got an integer",
        ),
        (
            {"clusters": [{"name": "c", "cluster": {"insecure-skip-tls-verify": "true"}}]},
            "f: clusters[0].cluster.insecure-skip-tls-verify: expected a boolean, got a string",
        ),
        (
            {"users": [{"name": "u", "user": {"exec": {"apiVersion": V1}}}]},
            "f: users[0].user.exec.command: required field missing",
        ),
        (
            {"users": [{"name": "u", "user": {"exec": {"command": "x"}}}]},
            "f: users[0].user.exec.apiVersion: required field missing",
        ),
        (
            {
                "users": [
                    {
                        "name": "u",
                        "user": {
                            "exec": {
                                "command": "x",
                                "apiVersion": "client.authentication.k8s.io/v1alpha1",
                            }
                        },
                    }
                ]
            },
            "f: users[0].user.exec.apiVersion: must be one of "
            "'client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1', "
            "got 'client.authentication.k8s.io/v1alpha1'",
        ),
        (
            {
                "users": [
                    {
                        "name": "u",
                        "user": {
                            "exec": {"command": "x", "apiVersion": V1, "interactiveMode": "Yes"}
                        },
                    }
                ]
            },
            "f: users[0].user.exec.interactiveMode: must be one of 'Never', 'IfAvailable', "
            "'Always', got 'Yes'",
        ),
        (
            {
                "users": [
                    {
                        "name": "u",
                        "user": {"exec": {"command": "x", "apiVersion": V1, "env": [{"v": 1}]}},
                    }
                ]
            },
            "f: users[0].user.exec.env[0].name: required field missing",
        ),
        (
            {
                "users": [
                    {
                        "name": "u",
                        "user": {"exec": {"command": "x", "apiVersion": V1, "args": "--a"}},
                    }
                ]
            },
            "f: users[0].user.exec.args: expected a list, got a string",
        ),
        (
            {"users": [{"name": "u", "user": {"as-user-extra": {"k": "v"}}}]},
            "f: users[0].user.as-user-extra[k]: expected a list, got a string",
        ),
        (
            {"users": [{"name": "u", "user": {"tokenFile": ["a"]}}]},
            "f: users[0].user.tokenFile: expected a string, got a list",
        ),
        (
            {"contexts": [{"name": "x", "context": {"namespace": 1}}]},
            "f: contexts[0].context.namespace: expected a string, got an integer",
        ),
        ({"current-context": True}, "f: current-context: expected a string, got a boolean"),
    ],
)
def test_kubeconfig_bad_input_names_the_path(data: object, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_kubeconfig(data, source="f")
    assert str(info.value) == expected


def test_kubeconfig_every_problem_is_reported() -> None:
    data = {
        "clusters": [{"name": 1, "cluster": {"server": []}}],
        "users": [{"name": "u", "user": {"token": 5}}],
    }
    with pytest.raises(ConfigError) as info:
        parse_kubeconfig(data, source="f")
    assert str(info.value) == (
        "f: clusters[0].name: expected a string, got an integer; "
        "clusters[0].cluster.server: expected a string, got a list; "
        "users[0].user.token: expected a string, got an integer"
    )


def test_kubeconfig_wrong_typed_secret_is_not_quoted() -> None:
    with pytest.raises(ConfigError) as info:
        parse_kubeconfig(doc(user={"password": [SECRET]}), source="f")
    assert SECRET not in str(info.value)
    assert info.value.__cause__ is None


def test_convert_structure_with_a_path_prefix() -> None:
    with pytest.raises(ConfigError, match=r"^s: a\.b\.client-id: required field missing$"):
        structure({"idp-issuer-url": "x"}, _oidc_config(), source="s", path="a.b")


def _oidc_config() -> type:
    from kr8s_trio._core._kubeconfig import OIDCConfig

    return OIDCConfig


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "null"), (True, "a boolean"), (1, "an integer"), (1.5, "a number"), ((), "a list")],
)
def test_convert_describe(value: object, expected: str) -> None:
    assert describe(value) == expected


# --- in-cluster ------------------------------------------------------------------------------


def test_kubeconfig_in_cluster_defaults() -> None:
    resolved = in_cluster_config(
        {}, token="tok\n", token_path="/sa/token", ca_path="/sa/ca.crt", namespace="team\n"
    )
    assert resolved == ResolvedConfig(
        server="https://kubernetes.default.svc:443",
        namespace="team",
        ca_path="/sa/ca.crt",
        auth=TokenFileSpec("/sa/token", initial="tok"),
        source="<in-cluster>",
    )


@pytest.mark.parametrize(
    ("env", "server"),
    [
        (
            {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "6443"},
            "10.0.0.1:6443",
        ),
        ({"KUBERNETES_SERVICE_HOST": "fd00::1"}, "[fd00::1]:443"),
        ({"KUBERNETES_SERVICE_PORT": "8443"}, "kubernetes.default.svc:8443"),
    ],
)
def test_kubeconfig_in_cluster_service_env(env: dict[str, str], server: str) -> None:
    resolved = in_cluster_config(env, token="t", token_path="/t", ca_path=None, namespace=None)
    assert resolved.server == f"https://{server}"
    assert resolved.namespace is None
    assert resolved.ca_path is None
