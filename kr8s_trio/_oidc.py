"""The ``oidc`` auth-provider flow: the id-token until its ``exp``, then the refresh-token grant
against the issuer's token endpoint (found by OpenID discovery). Tokens, the refresh token and
the client secret never reach a log or an error message.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import ssl
import time
from collections.abc import Mapping

import httpx

from kr8s_trio._core._clientconfig import (
    OIDCSpec,
)
from kr8s_trio._core._exceptions import AuthError
from kr8s_trio._renewing import WallClock, _ExpiringAuth

__all__ = ["OIDCAuth"]

logger = logging.getLogger("kr8s_trio._auth")


def _jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT, decoded without verification (None: none, or not a JWT)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, binascii.Error):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        return None
    return float(exp)


class OIDCAuth(_ExpiringAuth):
    """The ``oidc`` auth-provider: the id-token until it expires (its JWT ``exp``, read without
    verification), then a new one from the issuer's token endpoint (found by OpenID discovery)
    with the refresh-token grant. The new id-token and refresh-token are kept in memory only.

    Args:
        spec: the provider's configuration.
        wall_clock: the current time, seconds since the epoch (tests inject one).
        timeout: the timeout of each request to the issuer, in seconds (None: none).
    """

    def __init__(
        self,
        spec: OIDCSpec,
        *,
        wall_clock: WallClock = time.time,
        timeout: float | None = 30.0,
    ) -> None:
        super().__init__(wall_clock)
        self.issuer_url = spec.issuer_url.rstrip("/")
        self.client_id = spec.client_id
        self._id_token = spec.id_token
        self._refresh_token = spec.refresh_token
        self._client_secret = spec.client_secret
        self._ca_pem = spec.idp_ca_pem
        self._timeout = timeout
        self._token_endpoint: str | None = None

    def __repr__(self) -> str:
        return f"<OIDCAuth issuer_url={self.issuer_url!r} client_id={self.client_id!r}>"

    async def _renew(self, *, rejected: bool) -> str:
        if self._header is None and self._id_token:
            # the first use: the id-token from the kubeconfig, unless it has expired already
            self._expiry.set(_jwt_expiry(self._id_token))
            if self._fresh():
                return f"Bearer {self._id_token}"
        if not self._refresh_token:
            if rejected and self._header is not None:
                return self._header  # nothing new to try: the caller gets the 401
            raise AuthError(
                f"the OIDC id-token for {self.issuer_url} is missing or expired and there is"
                " no refresh-token to renew it"
            )
        id_token = await self._refresh()
        self._id_token = id_token
        self._expiry.set(_jwt_expiry(id_token))
        return f"Bearer {id_token}"

    def _verify(self) -> ssl.SSLContext | bool:
        if self._ca_pem is None:
            return True
        try:
            return ssl.create_default_context(cadata=self._ca_pem.decode("ascii"))
        except (ssl.SSLError, ValueError):
            raise AuthError(f"the idp CA of the OIDC issuer {self.issuer_url} is invalid") from None

    async def _refresh(self) -> str:
        assert self._refresh_token is not None
        logger.debug("%r: refreshing the id-token", self)
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self._refresh_token,
            "client_id": self.client_id,
        }
        if self._client_secret:
            form["client_secret"] = self._client_secret
        try:
            async with httpx.AsyncClient(verify=self._verify(), timeout=self._timeout) as http:
                if self._token_endpoint is None:
                    self._token_endpoint = await self._discover(http)
                response = await http.post(self._token_endpoint, data=form)
                body = _json_object(await response.aread())
        except httpx.HTTPError as exc:
            raise AuthError(
                f"cannot refresh the OIDC id-token at {self.issuer_url}: {type(exc).__name__}"
            ) from None
        if response.status_code != 200:
            error = body.get("error") if body is not None else None
            code = f" ({error})" if isinstance(error, str) and error.isprintable() else ""
            raise AuthError(
                f"the OIDC issuer {self.issuer_url} refused to refresh the id-token:"
                f" HTTP {response.status_code}{code}"
            )
        id_token = body.get("id_token") if body is not None else None
        if not isinstance(id_token, str) or not id_token:
            raise AuthError(f"the OIDC issuer {self.issuer_url} returned no id_token")
        refresh_token = body.get("refresh_token") if body is not None else None
        if isinstance(refresh_token, str) and refresh_token:
            self._refresh_token = refresh_token
        return id_token

    async def _discover(self, http: httpx.AsyncClient) -> str:
        url = f"{self.issuer_url}/.well-known/openid-configuration"
        response = await http.get(url)
        body = _json_object(await response.aread()) if response.status_code == 200 else None
        endpoint = body.get("token_endpoint") if body is not None else None
        if not isinstance(endpoint, str) or not endpoint:
            raise AuthError(
                f"OpenID discovery at {url} failed: HTTP {response.status_code}"
                + ("" if body is None else ", no token_endpoint")
            )
        return endpoint


def _json_object(data: bytes) -> Mapping[str, object] | None:
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
