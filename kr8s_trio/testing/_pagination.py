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
from typing import TYPE_CHECKING, Any

import attrs

from kr8s_trio._core._exceptions import APIError
from kr8s_trio._core._field_selectors import FieldSelector
from kr8s_trio._core._selectors import LabelSelector
from kr8s_trio.testing._status import (
    FieldError,
    bad_request,
    options_invalid,
    resource_expired,
    timeout,
)
from kr8s_trio.testing._store import Store, Stored

if TYPE_CHECKING:
    from kr8s_trio.testing._resources import ResourceType

JSONObject = dict[str, Any]

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


@attrs.frozen
class ListPage:
    """One page of a LIST: the items, the list's resourceVersion, the continue token."""

    items: list[Stored]
    resource_version: int
    continue_token: str | None = None
    remaining: int | None = None


def list_page(
    store: Store,
    rt: ResourceType,
    namespace: str | None,
    options: ListOptions,
    labels: LabelSelector,
    fields: FieldSelector,
) -> ListPage:
    """One page of a LIST with kube-apiserver's resourceVersion and pagination rules."""
    start = ""
    if options.continue_token is not None:
        token = options.continue_token
        rv = None if token.rv < 0 else token.rv  # negative: continue from the latest
        if rv is not None and rv < store.compacted:
            raise _expired_continue(token.start, namespace)
        start = token.start
    elif options.resource_version and options.exact:
        rv = options.resource_version
        if rv > store.revision:
            raise _too_large(rv, store.revision)
        if rv < store.compacted:
            raise resource_expired("The resourceVersion for the provided list is too old.")
    else:
        if options.resource_version and options.resource_version > store.revision:
            raise _too_large(options.resource_version, store.revision)
        rv = None
    items, list_rv = store.snapshot(rt.storage_key, rv)
    prefix = f"{namespace}/" if namespace and rt.namespaced else ""
    lo = _bisect_items(items, max(prefix, start))
    selecting = not labels.empty or bool(fields.requirements)
    out: list[Stored] = []
    i = lo
    n = len(items)
    while i < n:
        stored = items[i]
        if prefix and not stored.key.startswith(prefix):
            break
        i += 1
        if selecting and not matches(rt, stored.obj, labels, fields):
            continue
        out.append(stored)
        if options.limit and len(out) >= options.limit:
            break
    more = i < n and (not prefix or items[i].key.startswith(prefix))
    token_out = None
    remaining = None
    if options.limit and len(out) >= options.limit and more:
        token_out = encode_continue(list_rv, out[-1].key + "\x00")
        if not selecting:
            end = n if not prefix else _bisect_items(items, prefix[:-1] + "0")
            remaining = end - i
    return ListPage(out, list_rv, token_out, remaining)


def _too_large(rv: int, current: int) -> APIError:
    err = timeout(f"Timeout: Too large resource version: {rv}, current: {current}")
    err.status["details"] = {
        "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
        "retryAfterSeconds": 1,
    }
    return err


def _expired_continue(start: str, namespace: str | None) -> APIError:
    err = resource_expired(
        "The provided continue parameter is too old to display a consistent list result. You can "
        "start a new list without the continue parameter, or use the continue token in this "
        "response to retrieve the remainder of the results. Continuing with the provided token "
        "results in an inconsistent list - objects that were created, modified, or deleted "
        "between the time the first chunk was returned and now may show up in the list."
    )
    del namespace
    err.status["metadata"] = {"continue": encode_continue(-1, start)}
    return err


def _bisect_items(items: list[Stored], key: str) -> int:
    lo, hi = 0, len(items)
    while lo < hi:
        mid = (lo + hi) // 2
        if items[mid].key < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


def matches(
    rt: ResourceType, obj: JSONObject, labels: LabelSelector, fields: FieldSelector
) -> bool:
    if not labels.empty and not labels.matches(obj.get("metadata", {}).get("labels") or {}):
        return False
    return not fields.requirements or fields.matches(rt.field_values(obj))
