"""The auth flows (kr8s_trio._auth) against the fake cluster over TLS: static and file tokens,
exec plugins (small Python scripts), and OIDC refresh against a loopback issuer. Time is a
MockClock; nothing sleeps."""

from __future__ import annotations

import base64
import json
import stat
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import attrs
import httpx
import pytest
import trio
import trio.testing
from oidc_issuer import OIDCIssuer, make_jwt, open_oidc_issuer

from kr8s_trio._auth import (
    BasicAuth,
    BearerTokenAuth,
    ExecAuth,
    OIDCAuth,
    TokenFileAuth,
    build_auth,
)
from kr8s_trio._core._clientconfig import (
    BasicAuthSpec,
    ExecSpec,
    NoAuthSpec,
    OIDCSpec,
    TokenFileSpec,
    TokenSpec,
)
from kr8s_trio._core._exceptions import AuthError
from kr8s_trio.testing import FakeCluster, open_fake_cluster

PATH = "/api/v1/namespaces/default/configmaps"


@pytest.fixture
async def cluster() -> AsyncIterator[FakeCluster]:
    async with open_fake_cluster(kubelet=False, controllers=False) as c:
        yield c


@asynccontextmanager
async def open_client(
    cluster: FakeCluster, auth: httpx.Auth | None
) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=cluster.url, verify=cluster.ssl_context(), auth=auth, timeout=None
    ) as client:
        yield client


def seen(cluster: FakeCluster) -> list[tuple[str | None, int | None]]:
    """(user, status) of the requests to PATH so far, oldest first."""
    return [(r.user, r.status) for r in cluster.requests.filter(path=PATH)]


async def get_ok(client: httpx.AsyncClient) -> None:
    response = await client.get(PATH)
    assert response.status_code == 200


# -- static credentials ----------------------------------------------------------------------


def test_auth_build_auth_picks_the_flow(tmp_path: Path) -> None:
    assert build_auth(NoAuthSpec()) is None
    assert isinstance(build_auth(TokenSpec("t")), BearerTokenAuth)
    assert isinstance(build_auth(BasicAuthSpec("u", "p")), BasicAuth)
    assert isinstance(build_auth(TokenFileSpec(str(tmp_path / "t"))), TokenFileAuth)
    assert isinstance(build_auth(ExecSpec("plugin", "client.authentication.k8s.io/v1")), ExecAuth)
    assert isinstance(build_auth(OIDCSpec("https://issuer", "kubectl")), OIDCAuth)


async def test_auth_token_is_sent_as_bearer(cluster: FakeCluster) -> None:
    token = cluster.add_user("alice")
    async with open_client(cluster, build_auth(TokenSpec(token))) as client:
        await get_ok(client)
    assert seen(cluster) == [("alice", 200)]


def test_auth_basic_sets_the_header() -> None:
    auth = build_auth(BasicAuthSpec("ünï", "pa:ss"))
    assert auth is not None
    request = next(auth.sync_auth_flow(httpx.Request("GET", "https://x/")))
    expected = base64.b64encode("ünï:pa:ss".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    assert "pa:ss" not in repr(auth)
    assert expected not in repr(auth)


# -- token file ------------------------------------------------------------------------------


async def test_auth_token_file_reread_after_401(
    cluster: FakeCluster, tmp_path: Path, mock_clock: trio.testing.MockClock
) -> None:
    path = tmp_path / "token"
    old = cluster.add_user("old")
    path.write_text(old + "\n")
    async with open_client(cluster, build_auth(TokenFileSpec(str(path)))) as client:
        await get_ok(client)
        new = cluster.add_user("new")
        path.write_text(new)
        cluster.revoke_token(old)
        await get_ok(client)  # the 401 stays inside the flow
        await get_ok(client)
    assert seen(cluster) == [("old", 200), (None, 401), ("new", 200), ("new", 200)]


async def test_auth_streamed_body_is_not_replayed_after_401(
    cluster: FakeCluster, tmp_path: Path, mock_clock: trio.testing.MockClock
) -> None:
    path = tmp_path / "token"
    old = cluster.add_user("old")
    path.write_text(old)

    async def body() -> AsyncIterator[bytes]:
        yield b'{"metadata": {"name": "streamed"}}'

    async with open_client(cluster, build_auth(TokenFileSpec(str(path)))) as client:
        await get_ok(client)
        path.write_text(cluster.add_user("new"))
        cluster.revoke_token(old)
        response = await client.post(
            PATH, content=body(), headers={"content-type": "application/json"}
        )
        assert response.status_code == 401
        await get_ok(client)  # with the token read after the 401
    assert seen(cluster) == [("old", 200), (None, 401), ("new", 200)]


async def test_auth_token_file_rechecked_after_a_minute(
    cluster: FakeCluster, tmp_path: Path, mock_clock: trio.testing.MockClock
) -> None:
    path = tmp_path / "token"
    path.write_text(cluster.add_user("old"))
    async with open_client(cluster, build_auth(TokenFileSpec(str(path)))) as client:
        await get_ok(client)
        path.write_text(cluster.add_user("new"))
        await get_ok(client)
        mock_clock.jump(59)
        await get_ok(client)
        mock_clock.jump(2)
        await get_ok(client)
    assert [user for user, _ in seen(cluster)] == ["old", "old", "old", "new"]


async def test_auth_token_file_initial_content_saves_the_first_read(
    cluster: FakeCluster, tmp_path: Path, mock_clock: trio.testing.MockClock
) -> None:
    path = tmp_path / "token"
    path.write_text(cluster.add_user("on-disk"))
    spec = TokenFileSpec(str(path), initial=cluster.add_user("loaded"))
    async with open_client(cluster, build_auth(spec)) as client:
        await get_ok(client)
        mock_clock.jump(61)
        await get_ok(client)
    assert [user for user, _ in seen(cluster)] == ["loaded", "on-disk"]


async def test_auth_token_file_unreadable(
    cluster: FakeCluster, tmp_path: Path, mock_clock: trio.testing.MockClock
) -> None:
    path = tmp_path / "token"
    auth = build_auth(TokenFileSpec(str(path)))
    async with open_client(cluster, auth) as client:
        with pytest.raises(AuthError, match=r"cannot read the token file .*FileNotFoundError"):
            await client.get(PATH)
        path.write_text("")
        with pytest.raises(AuthError, match="is empty"):
            await client.get(PATH)
        token = cluster.add_user("file")
        path.write_text(token)
        await get_ok(client)
        # a periodic check that cannot read the file keeps the token we have
        path.unlink()
        mock_clock.jump(61)
        await get_ok(client)
    assert [user for user, _ in seen(cluster)] == ["file", "file"]
    assert str(path) in repr(auth)
    assert token not in repr(auth)


# -- exec plugins ----------------------------------------------------------------------------

V1 = "client.authentication.k8s.io/v1"
V1BETA1 = "client.authentication.k8s.io/v1beta1"
WALL = 1_800_000_000.0  # the tests' wall clock (2027-01-15), unless a test moves it

PLUGIN = """\
#!{python}
import json, os, pathlib, sys

state = pathlib.Path(os.environ["PLUGIN_STATE"])
runs = state / "runs"
runs.write_text(str(int(runs.read_text()) + 1 if runs.exists() else 1))
(state / "exec_info").write_text(os.environ.get("KUBERNETES_EXEC_INFO", "<unset>"))
(state / "ours").write_text(os.environ.get("KR8S_TRIO_TEST_OURS", "<unset>"))
mode = (state / "mode").read_text()
token = (state / "token").read_text()
if mode == "hang":
    import time
    time.sleep(600)
if mode == "fail":
    sys.stderr.write("plugin: cannot log in; the old token " + token + " is no good\\n")
    sys.exit(3)
status = {{"expirationTimestamp": (state / "expiry").read_text()}}
if mode == "cert":
    status.update(clientCertificateData="CERT", clientKeyData="KEY")
else:
    status["token"] = token
print(json.dumps({{"apiVersion": sys.argv[1], "kind": "ExecCredential", "status": status}}))
"""


@attrs.define
class Plugin:
    """An exec plugin script and the files it reads (token, expiry, mode) and writes."""

    state: Path
    command: str
    wall: float = WALL

    def clock(self) -> float:
        return self.wall

    def serve(self, token: str, *, expires_in: float = 3600, mode: str = "ok") -> None:
        (self.state / "token").write_text(token)
        expiry = datetime.fromtimestamp(self.wall + expires_in, UTC)
        (self.state / "expiry").write_text(expiry.strftime("%Y-%m-%dT%H:%M:%SZ"))
        (self.state / "mode").write_text(mode)

    @property
    def runs(self) -> int:
        path = self.state / "runs"
        return int(path.read_text()) if path.exists() else 0

    @property
    def exec_info(self) -> object:
        return json.loads((self.state / "exec_info").read_text())

    def spec(self, api_version: str = V1, **kwargs: object) -> ExecSpec:
        return ExecSpec(
            command=self.command,
            api_version=api_version,
            args=(api_version,),
            env={"PLUGIN_STATE": str(self.state)},
            **kwargs,  # type: ignore[arg-type]
        )

    def auth(self, api_version: str = V1, **kwargs: object) -> ExecAuth:
        return ExecAuth(
            self.spec(api_version, **kwargs), wall_clock=self.clock, is_terminal=lambda: False
        )


@pytest.fixture
def plugin(tmp_path: Path) -> Plugin:
    script = tmp_path / "kubectl-login"
    script.write_text(PLUGIN.format(python=sys.executable))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    state = tmp_path / "state"
    state.mkdir()
    return Plugin(state, str(script))


async def test_auth_exec_token_cached_until_expiry(
    cluster: FakeCluster, plugin: Plugin, mock_clock: trio.testing.MockClock
) -> None:
    plugin.serve(cluster.add_user("first"))
    async with open_client(cluster, plugin.auth()) as client:
        for _ in range(3):
            await get_ok(client)
        assert plugin.runs == 1
        mock_clock.jump(3000)
        await get_ok(client)
        assert plugin.runs == 1
        plugin.serve(cluster.add_user("second"))
        mock_clock.jump(600)
        await get_ok(client)
        await get_ok(client)
        assert plugin.runs == 2
        # the wall clock alone also expires it (a suspended laptop: trio's clock stood still)
        plugin.wall += 3600
        plugin.serve(cluster.add_user("third"))
        await get_ok(client)
        assert plugin.runs == 3
    assert [user for user, _ in seen(cluster)] == ["first"] * 4 + ["second"] * 2 + ["third"]


async def test_auth_exec_rerun_after_401(
    cluster: FakeCluster, plugin: Plugin, mock_clock: trio.testing.MockClock
) -> None:
    first = cluster.add_user("first")
    plugin.serve(first)
    async with open_client(cluster, plugin.auth(V1BETA1)) as client:
        await get_ok(client)
        cluster.revoke_token(first)
        plugin.serve(cluster.add_user("second"))
        await get_ok(client)
        await get_ok(client)
    assert plugin.runs == 2
    assert seen(cluster) == [("first", 200), (None, 401), ("second", 200), ("second", 200)]


async def test_auth_exec_same_token_after_401_is_not_retried(
    cluster: FakeCluster, plugin: Plugin, mock_clock: trio.testing.MockClock
) -> None:
    token = cluster.add_user("gone")
    plugin.serve(token)
    async with open_client(cluster, plugin.auth()) as client:
        await get_ok(client)
        cluster.revoke_token(token)
        response = await client.get(PATH)
    assert response.status_code == 401
    assert plugin.runs == 2
    assert seen(cluster) == [("gone", 200), (None, 401)]


async def test_auth_exec_concurrent_requests_share_one_run(
    cluster: FakeCluster, plugin: Plugin, mock_clock: trio.testing.MockClock
) -> None:
    plugin.serve(cluster.add_user("first"))
    async with open_client(cluster, plugin.auth()) as client:
        async with trio.open_nursery() as nursery:
            for _ in range(10):
                nursery.start_soon(get_ok, client)
        assert plugin.runs == 1
        mock_clock.jump(3600)
        second = cluster.add_user("second")
        plugin.serve(second)
        async with trio.open_nursery() as nursery:
            for _ in range(10):
                nursery.start_soon(get_ok, client)
        assert plugin.runs == 2
        # ten requests rejected at once: one run, every request retried with its token
        cluster.revoke_token(second)
        plugin.serve(cluster.add_user("third"))
        async with trio.open_nursery() as nursery:
            for _ in range(10):
                nursery.start_soon(get_ok, client)
        assert plugin.runs == 3
    users = [user for user, status in seen(cluster) if status == 200]
    assert sorted(users) == ["first"] * 10 + ["second"] * 10 + ["third"] * 10


async def test_auth_exec_missing_binary_shows_install_hint(
    cluster: FakeCluster, tmp_path: Path
) -> None:
    spec = ExecSpec(
        "kr8s-trio-no-such-plugin", V1, install_hint="Install it with: pip install login"
    )
    async with open_client(cluster, build_auth(spec)) as client:
        with pytest.raises(AuthError) as info:
            await client.get(PATH)
    message = str(info.value)
    assert "'kr8s-trio-no-such-plugin' is not found" in message
    assert "Install it with: pip install login" in message


async def test_auth_exec_relative_command_resolved_against_base_dir(
    cluster: FakeCluster, plugin: Plugin
) -> None:
    plugin.serve(cluster.add_user("relative"))
    script = Path(plugin.command)
    spec = attrs.evolve(plugin.spec(), command=f"./{script.name}", base_dir=str(script.parent))
    async with open_client(cluster, ExecAuth(spec, is_terminal=lambda: False)) as client:
        await get_ok(client)
    assert seen(cluster) == [("relative", 200)]


async def test_auth_exec_failing_plugin_reports_stderr_not_the_token(
    cluster: FakeCluster, plugin: Plugin, mock_clock: trio.testing.MockClock
) -> None:
    token = cluster.add_user("first")
    plugin.serve(token)
    auth = plugin.auth()
    async with open_client(cluster, auth) as client:
        await get_ok(client)
        cluster.revoke_token(token)
        plugin.serve(token, mode="fail")
        with pytest.raises(AuthError) as info:
            await client.get(PATH)
    message = str(info.value)
    assert "failed with exit code 3" in message
    assert "plugin: cannot log in; the old token *** is no good" in message
    assert token not in message
    assert token not in repr(auth)
    assert token not in repr(info.value)


async def test_auth_exec_concurrent_requests_share_one_failure(
    cluster: FakeCluster, plugin: Plugin
) -> None:
    plugin.serve("unused", mode="fail")
    errors: list[AuthError] = []

    async def get(client: httpx.AsyncClient) -> None:
        try:
            await client.get(PATH)
        except AuthError as exc:
            errors.append(exc)

    async with open_client(cluster, plugin.auth()) as client:
        async with trio.open_nursery() as nursery:
            for _ in range(10):
                nursery.start_soon(get, client)
        assert plugin.runs == 1
        assert len(errors) == 10
        assert {str(e) for e in errors} == {str(errors[0])}
        # a later request tries again
        with pytest.raises(AuthError):
            await client.get(PATH)
    assert plugin.runs == 2


async def test_auth_exec_cancelled_run_is_killed_and_retried(
    cluster: FakeCluster, plugin: Plugin, mock_clock: trio.testing.MockClock
) -> None:
    plugin.serve("unused", mode="hang")
    async with open_client(cluster, plugin.auth()) as client:
        with trio.CancelScope() as scope:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(client.get, PATH)
                await trio.testing.wait_all_tasks_blocked()
                scope.cancel()
        assert scope.cancelled_caught
        plugin.serve(cluster.add_user("after"))
        await get_ok(client)
    assert seen(cluster) == [("after", 200)]


async def test_auth_exec_long_stderr_is_truncated(cluster: FakeCluster, plugin: Plugin) -> None:
    plugin.serve("x" * 5000, mode="fail")
    async with open_client(cluster, plugin.auth()) as client:
        with pytest.raises(AuthError) as info:
            await client.get(PATH)
    assert len(str(info.value)) < 700


@pytest.mark.parametrize("api_version", [V1, V1BETA1])
async def test_auth_exec_provide_cluster_info(
    cluster: FakeCluster, plugin: Plugin, api_version: str
) -> None:
    plugin.serve(cluster.add_user("info"))
    info = {"server": cluster.url, "certificate-authority-data": "Q0E=", "config": {"a": 1}}
    auth = plugin.auth(api_version, provide_cluster_info=True, cluster_info=info)
    async with open_client(cluster, auth) as client:
        await get_ok(client)
    assert plugin.exec_info == {
        "apiVersion": api_version,
        "kind": "ExecCredential",
        "spec": {"interactive": False, "cluster": info},
    }


async def test_auth_exec_info_without_cluster(cluster: FakeCluster, plugin: Plugin) -> None:
    plugin.serve(cluster.add_user("info"))
    auth = plugin.auth(cluster_info={"server": cluster.url})
    async with open_client(cluster, auth) as client:
        await get_ok(client)
    assert plugin.exec_info == {
        "apiVersion": V1,
        "kind": "ExecCredential",
        "spec": {"interactive": False},
    }


@pytest.mark.parametrize(
    ("mode", "terminal", "interactive"),
    [("Never", True, False), ("IfAvailable", False, False), ("IfAvailable", True, True)],
)
async def test_auth_exec_interactive_mode(
    cluster: FakeCluster, plugin: Plugin, mode: str, terminal: bool, interactive: bool
) -> None:
    plugin.serve(cluster.add_user("interactive"))
    spec = plugin.spec(interactive_mode=mode)
    async with open_client(cluster, ExecAuth(spec, is_terminal=lambda: terminal)) as client:
        await get_ok(client)
    assert plugin.exec_info == {
        "apiVersion": V1,
        "kind": "ExecCredential",
        "spec": {"interactive": interactive},
    }


async def test_auth_exec_interactive_always_needs_a_terminal(
    cluster: FakeCluster, plugin: Plugin
) -> None:
    plugin.serve(cluster.add_user("never"))
    async with open_client(cluster, plugin.auth(interactive_mode="Always")) as client:
        with pytest.raises(AuthError, match="needs an interactive terminal"):
            await client.get(PATH)
    assert plugin.runs == 0


async def test_auth_exec_client_certificate_is_unsupported(
    cluster: FakeCluster, plugin: Plugin
) -> None:
    plugin.serve("unused", mode="cert")
    async with open_client(cluster, plugin.auth()) as client:
        with pytest.raises(AuthError, match="returned a client certificate"):
            await client.get(PATH)


async def test_auth_exec_unsupported_api_version(cluster: FakeCluster, plugin: Plugin) -> None:
    alpha = "client.authentication.k8s.io/v1alpha1"
    async with open_client(cluster, plugin.auth(alpha)) as client:
        with pytest.raises(AuthError, match="v1alpha1' is not supported"):
            await client.get(PATH)
    assert plugin.runs == 0


async def test_auth_exec_wrong_api_version(cluster: FakeCluster, plugin: Plugin) -> None:
    plugin.serve(cluster.add_user("v"))
    spec = attrs.evolve(plugin.spec(), args=(V1BETA1,))
    async with open_client(cluster, ExecAuth(spec, is_terminal=lambda: False)) as client:
        with pytest.raises(AuthError, match=r"configured for .*/v1 and returned apiVersion"):
            await client.get(PATH)


# -- OIDC ------------------------------------------------------------------------------------

CLIENT_SECRET = "client-s3cret"
REFRESH_TOKEN = "refresh-token-1"


@pytest.fixture
async def issuer() -> AsyncIterator[OIDCIssuer]:
    async with open_oidc_issuer(
        client_id="kubectl", client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN
    ) as i:
        yield i


def oidc_spec(issuer: OIDCIssuer, id_token: str | None, **kwargs: object) -> OIDCSpec:
    return OIDCSpec(
        issuer_url=issuer.url + "/",
        client_id="kubectl",
        id_token=id_token,
        refresh_token=REFRESH_TOKEN,
        client_secret=CLIENT_SECRET,
        idp_ca_pem=issuer.ca_pem,
        **kwargs,  # type: ignore[arg-type]
    )


def expired_jwt() -> str:
    return make_jwt({"sub": "old", "exp": int(time.time()) - 60})


def id_token(cluster: FakeCluster, user: str, exp: float) -> str:
    """A JWT expiring at ``exp`` (wall clock), registered with the fake as ``user``."""
    token = make_jwt({"iss": "https://issuer", "sub": user, "exp": int(exp)})
    cluster.add_user(user, token=token)
    return token


async def test_auth_oidc_valid_id_token_needs_no_issuer(
    cluster: FakeCluster, issuer: OIDCIssuer
) -> None:
    token = id_token(cluster, "valid", time.time() + 3600)
    async with open_client(cluster, build_auth(oidc_spec(issuer, token))) as client:
        await get_ok(client)
        await get_ok(client)
    assert issuer.paths == []
    assert seen(cluster) == [("valid", 200), ("valid", 200)]


async def test_auth_oidc_expired_id_token_refreshed_once(
    cluster: FakeCluster, issuer: OIDCIssuer, mock_clock: trio.testing.MockClock
) -> None:
    expired = expired_jwt()
    issuer.next_id_token = id_token(cluster, "fresh", time.time() + 3600)
    issuer.next_refresh_token = "refresh-token-2"
    async with open_client(cluster, build_auth(oidc_spec(issuer, expired))) as client:
        async with trio.open_nursery() as nursery:
            for _ in range(10):
                nursery.start_soon(get_ok, client)
        assert issuer.paths == ["/.well-known/openid-configuration", "/token"]
        assert issuer.token_requests[0].form == {
            "grant_type": "refresh_token",
            "refresh_token": REFRESH_TOKEN,
            "client_id": "kubectl",
            "client_secret": CLIENT_SECRET,
        }
        # when the new id-token expires, the new refresh-token gets the next one
        issuer.next_id_token = id_token(cluster, "fresher", time.time() + 7200)
        issuer.next_refresh_token = "refresh-token-3"
        mock_clock.jump(3600)
        await get_ok(client)
    assert issuer.paths[2:] == ["/token"]
    assert issuer.token_requests[1].form["refresh_token"] == "refresh-token-2"
    assert [user for user, _ in seen(cluster)] == ["fresh"] * 10 + ["fresher"]


async def test_auth_oidc_refreshed_after_401(
    cluster: FakeCluster, issuer: OIDCIssuer, mock_clock: trio.testing.MockClock
) -> None:
    token = id_token(cluster, "revoked", time.time() + 3600)
    issuer.next_id_token = id_token(cluster, "renewed", time.time() + 3600)
    issuer.next_refresh_token = "refresh-token-2"
    async with open_client(cluster, build_auth(oidc_spec(issuer, token))) as client:
        await get_ok(client)
        cluster.revoke_token(token)
        await get_ok(client)
    assert seen(cluster) == [("revoked", 200), (None, 401), ("renewed", 200)]
    assert len(issuer.token_requests) == 1


async def test_auth_oidc_refused_refresh_hides_secrets(
    cluster: FakeCluster, issuer: OIDCIssuer
) -> None:
    expired = expired_jwt()
    issuer.refresh_token = "something-else"
    auth = build_auth(oidc_spec(issuer, expired))
    async with open_client(cluster, auth) as client:
        with pytest.raises(AuthError) as info:
            await client.get(PATH)
    message = str(info.value)
    assert "HTTP 400 (invalid_grant)" in message
    for secret in (REFRESH_TOKEN, CLIENT_SECRET, expired):
        assert secret not in message
        assert secret not in repr(info.value)
        assert secret not in repr(auth)


async def test_auth_oidc_expired_without_refresh_token(
    cluster: FakeCluster, issuer: OIDCIssuer
) -> None:
    expired = expired_jwt()
    spec = attrs.evolve(oidc_spec(issuer, expired), refresh_token=None)
    async with open_client(cluster, build_auth(spec)) as client:
        with pytest.raises(AuthError, match="no refresh-token"):
            await client.get(PATH)
    assert issuer.paths == []


async def test_auth_oidc_untrusted_issuer(cluster: FakeCluster, issuer: OIDCIssuer) -> None:
    expired = expired_jwt()
    spec = attrs.evolve(oidc_spec(issuer, expired), idp_ca_pem=cluster.ca_pem)
    async with open_client(cluster, build_auth(spec)) as client:
        with pytest.raises(AuthError, match="cannot refresh the OIDC id-token at https://"):
            await client.get(PATH)


# -- secrets ---------------------------------------------------------------------------------


def test_auth_reprs_hide_secrets(tmp_path: Path) -> None:
    flows = [
        build_auth(TokenSpec("tok-secret")),
        build_auth(BasicAuthSpec("user", "pw-secret")),
        build_auth(TokenFileSpec(str(tmp_path / "t"), initial="file-secret")),
        build_auth(ExecSpec("plugin", V1, env={"API_KEY": "env-secret"})),
        build_auth(
            OIDCSpec(
                "https://issuer",
                "kubectl",
                id_token="id-secret",
                refresh_token="refresh-secret",
                client_secret="oidc-client-secret",
            )
        ),
    ]
    for flow in flows:
        text = repr(flow) + str(flow)
        assert "-secret" not in text, text


def test_auth_renewing_flows_are_async_only(tmp_path: Path) -> None:
    auth = build_auth(TokenFileSpec(str(tmp_path / "t")))
    assert auth is not None
    with pytest.raises(RuntimeError, match="AsyncClient only"):
        next(auth.sync_auth_flow(httpx.Request("GET", "https://x/")))


async def test_auth_exec_env_is_merged_with_ours(
    cluster: FakeCluster, plugin: Plugin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KR8S_TRIO_TEST_OURS", "kept")
    plugin.serve(cluster.add_user("env"))
    async with open_client(cluster, plugin.auth()) as client:
        await get_ok(client)
    assert (plugin.state / "ours").read_text() == "kept"
