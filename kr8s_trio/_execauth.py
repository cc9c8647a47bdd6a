"""The exec credential plugin flow (``users[].user.exec``, client.authentication.k8s.io v1 and
v1beta1): the plugin's token, cached until its expiry, renewed after a 401. The plugin runs
with `trio.run_process`; its output and any token never reach a log or an error message.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime

import trio

from kr8s_trio._core._clientconfig import (
    ExecSpec,
)
from kr8s_trio._core._exceptions import AuthError
from kr8s_trio._renewing import WallClock, _ExpiringAuth

__all__ = ["EXEC_API_VERSIONS", "ExecAuth"]

logger = logging.getLogger("kr8s_trio._auth")

#: how much of an exec plugin's stderr an error message quotes (characters)
STDERR_LIMIT = 500

#: the ExecCredential versions exec plugins may speak
EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")


def _stdin_is_terminal() -> bool:
    try:
        return os.isatty(sys.stdin.fileno())
    except (AttributeError, OSError, ValueError):
        return False


def _parse_rfc3339(value: str) -> float:
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise AuthError(f"expirationTimestamp {value!r} is not an RFC 3339 time") from None
    if when.tzinfo is None:
        raise AuthError(f"expirationTimestamp {value!r} has no time zone")
    return when.timestamp()


class ExecAuth(_ExpiringAuth):
    """A client-go credential plugin (``client.authentication.k8s.io`` v1 or v1beta1).

    The plugin runs when a token is first needed, again once its ``expirationTimestamp`` has
    passed (on the wall clock ``wall_clock``, in seconds since the epoch) and after a 401.
    Plugins that return a client certificate instead of a token are not supported (that needs a
    new TLS context, which an ``httpx.Auth`` cannot provide): they raise `AuthError`.

    Args:
        spec: the plugin's configuration.
        wall_clock: the current time, seconds since the epoch (tests inject one).
        is_terminal: whether the user's terminal is available on stdin: a plugin runs
            interactively (our stdin and stderr) under ``interactiveMode`` Always, or
            IfAvailable with a terminal; otherwise stdin is empty and stderr is captured.
    """

    def __init__(
        self,
        spec: ExecSpec,
        *,
        wall_clock: WallClock = time.time,
        is_terminal: Callable[[], bool] = _stdin_is_terminal,
    ) -> None:
        super().__init__(wall_clock)
        self.spec = spec
        self._is_terminal = is_terminal
        self._token: str | None = None
        command = spec.command
        if spec.base_dir and os.sep in command and not os.path.isabs(command):
            command = os.path.join(spec.base_dir, command)
        self.command = command

    def __repr__(self) -> str:
        return f"<ExecAuth command={self.spec.command!r} api_version={self.spec.api_version!r}>"

    def _exec_info(self, interactive: bool) -> str:
        spec: dict[str, object] = {"interactive": interactive}
        if self.spec.provide_cluster_info and self.spec.cluster_info is not None:
            spec["cluster"] = dict(self.spec.cluster_info)
        info = {"apiVersion": self.spec.api_version, "kind": "ExecCredential", "spec": spec}
        return json.dumps(info)

    def _interactive(self) -> bool:
        mode = self.spec.interactive_mode
        if mode == "Never":
            return False
        terminal = self._is_terminal()
        if mode == "Always" and not terminal:
            raise AuthError(
                f"exec plugin {self.spec.command!r} needs an interactive terminal "
                "(interactiveMode: Always) and there is none"
            )
        return terminal

    async def _renew(self, *, rejected: bool) -> str:
        if self.spec.api_version not in EXEC_API_VERSIONS:
            raise AuthError(
                f"exec plugin {self.spec.command!r}: apiVersion {self.spec.api_version!r} is not"
                f" supported (use one of {', '.join(EXEC_API_VERSIONS)})"
            )
        interactive = self._interactive()
        env: dict[str, str] = {**os.environ, **self.spec.env}
        env["KUBERNETES_EXEC_INFO"] = self._exec_info(interactive)
        logger.debug("%r: running the plugin", self)
        try:
            result = await trio.run_process(
                [self.command, *self.spec.args],
                env=env,
                check=False,
                capture_stdout=True,
                capture_stderr=not interactive,
                stdin=None if interactive else subprocess.DEVNULL,
            )
        except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
            hint = f"\n{self.spec.install_hint}" if self.spec.install_hint else ""
            what = "not found" if isinstance(exc, FileNotFoundError) else "not executable"
            raise AuthError(f"exec plugin {self.spec.command!r} is {what}{hint}") from None
        if result.returncode != 0:
            raise AuthError(
                f"exec plugin {self.spec.command!r} failed with exit code {result.returncode}"
                + self._stderr_excerpt(result.stderr)
            )
        token, expires_at = self._parse(result.stdout)
        self._token = token
        self._expiry.set(expires_at)
        return f"Bearer {token}"

    def _stderr_excerpt(self, stderr: bytes | None) -> str:
        text = (stderr or b"").decode("utf-8", "replace").strip()
        if self._token:
            text = text.replace(self._token, "***")
        if not text:
            return ""
        if len(text) > STDERR_LIMIT:
            text = "..." + text[-STDERR_LIMIT:]
        return f": {text}"

    def _parse(self, stdout: bytes) -> tuple[str, float | None]:
        name = repr(self.spec.command)
        try:
            cred = json.loads(stdout)
        except ValueError:
            raise AuthError(f"exec plugin {name} did not print an ExecCredential (JSON)") from None
        if not isinstance(cred, dict) or cred.get("kind") != "ExecCredential":
            raise AuthError(f"exec plugin {name} did not print an ExecCredential")
        if cred.get("apiVersion") != self.spec.api_version:
            raise AuthError(
                f"exec plugin {name} is configured for {self.spec.api_version}"
                f" and returned apiVersion {cred.get('apiVersion')!r}"
            )
        status = cred.get("status")
        if not isinstance(status, dict):
            raise AuthError(f"exec plugin {name} returned an ExecCredential without a status")
        token = status.get("token")
        if not isinstance(token, str) or not token:
            if status.get("clientCertificateData") or status.get("clientKeyData"):
                raise AuthError(
                    f"exec plugin {name} returned a client certificate: kr8s_trio supports"
                    " only exec plugins that return a token"
                )
            raise AuthError(f"exec plugin {name} returned no token")
        stamp = status.get("expirationTimestamp")
        if stamp is None:
            return token, None
        if not isinstance(stamp, str):
            raise AuthError(f"exec plugin {name} returned a non-string expirationTimestamp")
        return token, _parse_rfc3339(stamp)
