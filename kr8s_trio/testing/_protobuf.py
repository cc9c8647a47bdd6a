"""Protobuf request bodies (``application/vnd.kubernetes.protobuf``): envelope and decoder.

kubectl's typed commands (``create namespace``, ``create configmap``, ``create token``, ``auth
can-i``, drain's evictions...) send protobuf, and client-go does not retry in JSON when the server
refuses it. kube-apiserver's protobuf serializer frames every object as the 4 bytes ``k8s\\x00``
followed by a ``runtime.Unknown`` message (``typeMeta`` 1 {``apiVersion`` 1, ``kind`` 2}, ``raw``
2, ``contentEncoding`` 3, ``contentType`` 4) whose ``raw`` is the kind's own message.

This module reads that frame and decodes ``raw`` with the tables of `_protoschemas` into the JSON
object the JSON path would have received, so everything after decoding is shared: camelCase names,
maps as dicts, ``bytes`` as base64, IntOrString and quantities as their JSON forms, ``metav1.Time``
as RFC 3339 (``null`` for the zero time). Zero values of non-pointer fields are dropped the way
``omitempty`` drops them in JSON. Unknown fields are skipped. Malformed input is a 400 worded as
kube-apiserver words decode failures; kinds the fake has no schema for (custom resources among
them) are a 415.
"""

from __future__ import annotations

import base64
import datetime
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from kr8s_trio.testing._protoschemas import MESSAGES, SCALARS, Field, Message, message_for
from kr8s_trio.testing._status import bad_request, unsupported_media_type

if TYPE_CHECKING:
    from kr8s_trio.testing._resources import ResourceType

__all__ = [
    "MAGIC",
    "PROTOBUF",
    "ProtobufError",
    "decode_message",
    "decode_protobuf_body",
    "read_envelope",
]

JSONObject = dict[str, Any]

PROTOBUF = "application/vnd.kubernetes.protobuf"
#: the prefix of every protobuf-encoded object (``k8s`` and the encoding style 0)
MAGIC = b"k8s\x00"
#: what a custom resource endpoint accepts instead
_JSON_ONLY = ("application/json", "application/yaml")

_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5
_MASK64 = (1 << 64) - 1


class ProtobufError(ValueError):
    """The bytes are not a well-formed message (worded like gogo-protobuf's errors)."""


# -- wire format ----------------------------------------------------------------------------------


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if shift >= 64:
            raise ProtobufError("proto: integer overflow")
        if pos >= len(data):
            raise ProtobufError("unexpected EOF")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result & _MASK64, pos
        shift += 7


def iter_fields(data: bytes, message: str) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) for each field of a message, in wire order."""
    pos = 0
    end = len(data)
    while pos < end:
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if number <= 0:
            raise ProtobufError(f"proto: {message}: illegal tag {number} (wire type {wire})")
        value: int | bytes
        if wire == _VARINT:
            value, pos = _varint(data, pos)
        elif wire in (_FIXED64, _FIXED32):
            size = 8 if wire == _FIXED64 else 4
            if pos + size > end:
                raise ProtobufError("unexpected EOF")
            value = int.from_bytes(data[pos : pos + size], "little")
            pos += size
        elif wire == _BYTES:
            length, pos = _varint(data, pos)
            if length >= 1 << 63:
                raise ProtobufError("proto: negative length found during unmarshaling")
            if pos + length > end:
                raise ProtobufError("unexpected EOF")
            value = data[pos : pos + length]
            pos += length
        else:  # groups (3, 4) are not used by Kubernetes messages; 6 and 7 do not exist
            raise ProtobufError(f"proto: illegal wireType {wire}")
        yield number, wire, value


def _signed(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >= 1 << (bits - 1) else value


def _packed_varints(data: bytes) -> list[int]:
    out: list[int] = []
    pos = 0
    while pos < len(data):
        value, pos = _varint(data, pos)
        out.append(value)
    return out


# -- values -------------------------------------------------------------------------------------


def _go_name(name: str) -> str:
    return name[:1].upper() + name[1:]


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def _time(raw: bytes) -> str | None:
    """metav1.Time: the zero time is an empty message (``null`` in JSON); nanos are dropped."""
    if not raw:
        return None
    seconds = 0
    for number, wire, value in iter_fields(raw, "Timestamp"):
        if number == 1 and wire == _VARINT:
            assert isinstance(value, int)
            seconds = _signed(value, 64)
    try:
        moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    except (OverflowError, OSError, ValueError):
        raise ProtobufError(f"proto: Time: seconds out of range: {seconds}") from None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _intstr(raw: bytes) -> int | str:
    """IntOrString (type 1: 0 int, 1 string; intVal 2; strVal 3) as JSON writes it."""
    kind, number, text = 0, 0, ""
    for field, wire, value in iter_fields(raw, "IntOrString"):
        if field == 1:
            kind = _scalar("i64", wire, value, "type")
        elif field == 2:
            number = _scalar("i32", wire, value, "intVal")
        elif field == 3:
            text = _scalar("str", wire, value, "strVal")
    return text if kind == 1 else number


def _first_string(raw: bytes, message: str) -> str:
    for number, _wire, value in iter_fields(raw, message):
        if number == 1 and isinstance(value, bytes):
            return _text(value)
    return ""


def _strings(raw: bytes, message: str) -> list[str]:
    return [
        _text(value)
        for number, _wire, value in iter_fields(raw, message)
        if number == 1 and isinstance(value, bytes)
    ]


def _fields_v1(raw: bytes) -> Any:
    for number, _wire, value in iter_fields(raw, "FieldsV1"):
        if number == 1 and isinstance(value, bytes):
            try:
                return json.loads(value or b"{}")
            except ValueError as exc:
                raise ProtobufError(f"FieldsV1: {exc}") from None
    return {}


def _zero(type_: str) -> Any:
    zeros = {"str": "", "bytes": "", "i32": 0, "i64": 0, "bool": False, "quantity": "0"}
    return zeros.get(type_, [] if type_ == "extra" else {})


def _scalar(type_: str, wire: int, value: int | bytes, field: str) -> Any:
    if type_ in ("str", "bytes"):
        if not isinstance(value, bytes):
            raise ProtobufError(f"proto: wrong wireType = {wire} for field {_go_name(field)}")
        return _text(value) if type_ == "str" else base64.b64encode(value).decode()
    if not isinstance(value, int) or wire != _VARINT:
        raise ProtobufError(f"proto: wrong wireType = {wire} for field {_go_name(field)}")
    if type_ == "bool":
        return value != 0
    return _signed(value, 32 if type_ == "i32" else 64)


def _value(type_: str, wire: int, value: int | bytes, field: str) -> Any:
    """One (non-repeated) value of ``type_``."""
    if type_ in SCALARS:
        return _scalar(type_, wire, value, field)
    if not isinstance(value, bytes):
        raise ProtobufError(f"proto: wrong wireType = {wire} for field {_go_name(field)}")
    match type_:
        case "time":
            return _time(value)
        case "intstr":
            return _intstr(value)
        case "quantity":
            return _first_string(value, "Quantity")
        case "fieldsv1":
            return _fields_v1(value)
        case "extra":
            return _strings(value, "ExtraValue")
    return decode_message(value, MESSAGES[type_])


def _map_entry(f: Field, raw: bytes) -> tuple[str, Any]:
    assert f.map_value is not None
    key = ""
    item: Any = _zero(f.map_value)
    for number, wire, value in iter_fields(raw, f"{_go_name(f.name)}Entry"):
        if number == 1:
            key = _scalar("str", wire, value, "key")
        elif number == 2:
            item = _value(f.map_value, wire, value, "value")
    return key, item


def _is_zero(value: Any) -> bool:
    return value is False or value == 0 or value == ""


def decode_message(data: bytes, message: Message) -> JSONObject:
    """A message's JSON object, following its schema.

    Raises:
        ProtobufError: the bytes are not a well-formed message of this schema.
    """
    out: JSONObject = {}
    for number, wire, value in iter_fields(data, message.name):
        f = message.fields.get(number)
        if f is None:
            continue  # a field the fake does not model (or a newer one): skip it
        if f.type == "map":
            if not isinstance(value, bytes):
                raise ProtobufError(f"proto: wrong wireType = {wire} for field {_go_name(f.name)}")
            key, item = _map_entry(f, value)
            out.setdefault(f.name, {})[key] = item
        elif f.repeated:
            items = out.setdefault(f.name, [])
            if f.type in ("i32", "i64", "bool") and isinstance(value, bytes):  # packed
                items.extend(_scalar(f.type, _VARINT, v, f.name) for v in _packed_varints(value))
            else:
                items.append(_value(f.type, wire, value, f.name))
        elif f.inline:
            inner = _value(f.type, wire, value, f.name)
            assert isinstance(inner, dict)
            out.update(inner)
        else:
            decoded = _value(f.type, wire, value, f.name)
            if f.type in SCALARS and not f.keep_zero and _is_zero(decoded):
                out.pop(f.name, None)  # omitempty: the last value on the wire wins
            else:
                out[f.name] = decoded
    return out


# -- the envelope ---------------------------------------------------------------------------------


def read_envelope(body: bytes) -> tuple[str, str, bytes]:
    """(apiVersion, kind, raw) of a ``k8s\\x00``-framed ``runtime.Unknown``.

    Raises:
        ProtobufError: not protobuf, empty, or a malformed envelope.
    """
    if not body:
        raise ProtobufError("empty data")
    if not body.startswith(MAGIC):
        prefix = " ".join(str(b) for b in MAGIC)
        raise ProtobufError(
            f"provided data does not appear to be a protobuf message, expected prefix [{prefix}]"
        )
    if len(body) == len(MAGIC):
        raise ProtobufError("empty body")
    api_version = kind = encoding = ""
    raw = b""
    for number, wire, value in iter_fields(body[len(MAGIC) :], "Unknown"):
        if number == 1:
            if not isinstance(value, bytes):
                raise ProtobufError(f"proto: wrong wireType = {wire} for field TypeMeta")
            for inner, inner_wire, text in iter_fields(value, "TypeMeta"):
                if inner == 1:
                    api_version = _scalar("str", inner_wire, text, "apiVersion")
                elif inner == 2:
                    kind = _scalar("str", inner_wire, text, "kind")
        elif number == 2:
            if not isinstance(value, bytes):
                raise ProtobufError(f"proto: wrong wireType = {wire} for field Raw")
            raw = value
        elif number == 3:
            encoding = _scalar("str", wire, value, "contentEncoding")
    if encoding:
        raise ProtobufError(f"unsupported content encoding {encoding!r}")
    return api_version, kind, raw


def _summary(body: bytes) -> str:
    """The first bytes of a body for an error message, as kube-apiserver shows them."""
    if not body:
        return "<empty>"
    if body[:1] == b"{":
        text = _text(body[:30])
        return text + " ..." if len(body) > 30 else text
    return body[:30].hex() + (" ..." if len(body) > 30 else "")


def decode_protobuf_body(body: bytes, rt: ResourceType | None = None) -> JSONObject:
    """A protobuf request body as the JSON object it stands for (``apiVersion`` and ``kind`` set).

    ``rt`` is the resource the request is for: it names the expected kind in error messages and
    fills in an envelope without type information, as kube-apiserver defaults it from the URL.

    Raises:
        APIError: 415 for custom resources and kinds the fake has no schema for; 400 for a body
            that is not a well-formed protobuf object.
    """
    if rt is not None and rt.crd_name is not None:
        raise unsupported_media_type(PROTOBUF, _JSON_ONLY)
    expected = rt.kind if rt is not None else "Object"
    try:
        api_version, kind, raw = read_envelope(body)
    except ProtobufError as exc:
        raise bad_request(
            f"the object provided is unrecognized (must be of type {expected}): {exc} "
            f"({_summary(body)})"
        ) from None
    if rt is not None:
        kind = kind or rt.kind
        api_version = api_version or rt.api_version
    if not kind or not api_version:
        missing = "Kind" if not kind else "Version"
        raise bad_request(
            f"the object provided is unrecognized (must be of type {expected}): Object "
            f"'{missing}' is missing in 'runtime.TypeMeta{{APIVersion:\"{api_version}\", "
            f'Kind:"{kind}"}}\' ({_summary(body)})'
        )
    message = message_for(api_version, kind)
    if message is None:
        raise unsupported_media_type(PROTOBUF, _JSON_ONLY)
    try:
        obj = decode_message(raw, message)
    except ProtobufError as exc:
        version = api_version.rpartition("/")[2]
        raise bad_request(
            f'{kind} in version "{version}" cannot be handled as a {expected if rt else kind}: '
            f"{exc}"
        ) from None
    return {"apiVersion": api_version, "kind": kind, **obj}
