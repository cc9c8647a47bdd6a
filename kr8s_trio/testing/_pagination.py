"""List options as kube-apiserver reads them: resourceVersion rules, limit and continue tokens.

The continue token has the real server's shape, base64url of
``{"v":"meta.k8s.io/v1","rv":<list revision>,"start":"<next key>"}``, so a token from one page
pins the snapshot the following pages are served from. ``rv`` -1 means "continue from the latest
state" (what a 410 for an expired token hands back).
"""

from __future__ import annotations

import base64
import binascii
import json
import posixpath

import attrs

from kr8s_trio.testing._status import FieldError, bad_request, options_invalid

__all__ = [
    "ContinueToken",
    "ListOptions",
    "decode_continue",
    "encode_continue",
    "parse_list_options",
]


@attrs.frozen
class ContinueToken:
    rv: int
    start: str


def encode_continue(rv: int, start: str) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_INVALID_KEY = "invalid continue token: continue key is not valid"


def _raw_urlsafe_b64decode(text: str) -> bytes:
    """Go's ``base64.RawURLEncoding.DecodeString``, with its error text."""
    for i, ch in enumerate(text):
        if ch not in _B64URL:
            raise ValueError(f"illegal base64 data at input byte {i}")
    if len(text) % 4 == 1:
        raise ValueError(f"illegal base64 data at input byte {len(text) - 1}")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decode_continue(token: str) -> ContinueToken:
    """Parse a continue token (apiserver's ``storage.DecodeContinue``, same messages).

    Raises:
        APIError: 400 ``invalid continue token`` when it is not one of ours.
    """
    try:
        data = json.loads(_raw_urlsafe_b64decode(token))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"{_INVALID_KEY}: {exc}") from None
    if not isinstance(data, dict):
        raise bad_request(f"{_INVALID_KEY}: the token is not a JSON object")
    version, rv, start = data.get("v", ""), data.get("rv", 0), data.get("start", "")
    if not isinstance(rv, int) or not isinstance(start, str):
        raise bad_request(f"{_INVALID_KEY}: incorrect encoding")
    if version != "meta.k8s.io/v1":
        raise bad_request(
            f"{_INVALID_KEY}: server does not recognize this encoded version {version}"
        )
    if rv == 0:
        raise bad_request(
            f"{_INVALID_KEY}: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"
        )
    if not start:
        raise bad_request(f"{_INVALID_KEY}: encoded start key empty (version meta.k8s.io/v1)")
    key = start if start.startswith("/") else "/" + start
    cleaned = posixpath.normpath(key)
    if cleaned.startswith("//"):  # Go's path.Clean collapses these, normpath keeps two
        cleaned = "/" + cleaned.lstrip("/")
    if cleaned != key:
        raise bad_request(f"{_INVALID_KEY}: {start}")
    return ContinueToken(rv, cleaned[1:])


@attrs.frozen
class ListOptions:
    """What a LIST asks for, after validation."""

    limit: int
    continue_token: ContinueToken | None
    #: None: most recent; 0: any; N: see `exact`
    resource_version: int | None
    #: serve exactly ``resource_version`` (else: not older than it)
    exact: bool


def parse_resource_version(text: str) -> int:
    """A resourceVersion query value as an int.

    Raises:
        APIError: 400 when it is not a non-negative integer.
    """
    if not text.isdigit():
        raise bad_request(f"invalid resource version: {text}")
    return int(text)


def parse_list_options(
    *, limit: str | None, continue_: str | None, resource_version: str | None, match: str | None
) -> ListOptions:
    """Validate list options with kube-apiserver's rules (`ValidateListOptions`)."""
    n = 0
    if limit:
        try:
            n = int(limit)
        except ValueError:
            raise bad_request(f'invalid limit "{limit}"') from None
        n = max(n, 0)
    rv_text = resource_version or ""
    if match:
        if match not in ("NotOlderThan", "Exact"):
            raise options_invalid(
                "ListOptions",
                FieldError.not_supported(
                    "resourceVersionMatch", match, ["Exact", "NotOlderThan", ""]
                ),
            )
        if continue_:
            raise options_invalid(
                "ListOptions",
                FieldError.forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden when continue is provided",
                ),
            )
        if not rv_text:
            raise options_invalid(
                "ListOptions",
                FieldError.forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden unless resourceVersion is provided",
                ),
            )
        if match == "Exact" and rv_text == "0":
            raise options_invalid(
                "ListOptions",
                FieldError.forbidden(
                    "resourceVersionMatch",
                    'resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
                ),
            )
    token = None
    if continue_:
        if rv_text and rv_text != "0":
            raise bad_request("specifying resource version is not allowed when using continue")
        token = decode_continue(continue_)
        return ListOptions(n, token, None, False)
    rv = parse_resource_version(rv_text) if rv_text else None
    exact = bool(rv) and (match == "Exact" or (match is None and n > 0))
    return ListOptions(n, None, rv, exact)
