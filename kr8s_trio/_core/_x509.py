"""Who a client certificate says we are, sans IO: the subject's common name and organizations
(kube-apiserver maps them to the user name and groups).

A minimal DER reader, enough to walk ``Certificate -> tbsCertificate -> subject`` (RFC 5280);
no signature or validity checking (the server does that). Used by ``Api.whoami`` when the
server cannot tell (no SelfSubjectReview) and the client authenticates with a certificate.
"""

from __future__ import annotations

import base64
import binascii

__all__ = ["certificate_subject"]

_SEQUENCE, _SET, _OID = 0x30, 0x31, 0x06
_VERSION_TAG = 0xA0  # [0] EXPLICIT Version
_COMMON_NAME = bytes([0x55, 0x04, 0x03])  # 2.5.4.3
_ORGANIZATION = bytes([0x55, 0x04, 0x0A])  # 2.5.4.10
_STRING_TAGS = {0x0C: "utf-8", 0x13: "ascii", 0x16: "ascii", 0x14: "latin-1", 0x1E: "utf-16-be"}


def _read(der: bytes, offset: int) -> tuple[int, bytes, int]:
    """One TLV at ``offset``: (tag, value, offset after it).

    Raises:
        ValueError: truncated or malformed.
    """
    if offset + 2 > len(der):
        raise ValueError("truncated DER")
    tag, length = der[offset], der[offset + 1]
    offset += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or offset + count > len(der):
            raise ValueError("bad DER length")
        length = int.from_bytes(der[offset : offset + count], "big")
        offset += count
    end = offset + length
    if end > len(der):
        raise ValueError("truncated DER")
    return tag, der[offset:end], end


def _children(der: bytes) -> list[tuple[int, bytes]]:
    out, offset = [], 0
    while offset < len(der):
        tag, value, offset = _read(der, offset)
        out.append((tag, value))
    return out


def _pem_to_der(pem: bytes) -> bytes:
    text = pem.decode("ascii", "replace")
    begin = text.find("-----BEGIN CERTIFICATE-----")
    end = text.find("-----END CERTIFICATE-----", begin)
    if begin < 0 or end < 0:
        raise ValueError("no PEM certificate")
    body = text[begin + len("-----BEGIN CERTIFICATE-----") : end]
    try:
        return base64.b64decode("".join(body.split()), validate=True)
    except binascii.Error as exc:
        raise ValueError("bad PEM base64") from exc


def certificate_subject(pem: bytes) -> tuple[str | None, tuple[str, ...]]:
    """The common name (None if absent) and organizations of the first certificate in ``pem``.

    Raises:
        ValueError: no certificate, or one that does not parse.
    """
    tag, certificate, _ = _read(_pem_to_der(pem), 0)
    if tag != _SEQUENCE:
        raise ValueError("not a certificate")
    tag, tbs = _children(certificate)[0]
    fields = _children(tbs)
    if fields and fields[0][0] == _VERSION_TAG:
        fields = fields[1:]
    # serialNumber, signature, issuer, validity, subject
    if len(fields) < 5 or fields[4][0] != _SEQUENCE:
        raise ValueError("certificate without a subject")
    common_name: str | None = None
    organizations: list[str] = []
    for rdn_tag, rdn in _children(fields[4][1]):
        if rdn_tag != _SET:
            continue
        for attr_tag, attr in _children(rdn):
            parts = _children(attr) if attr_tag == _SEQUENCE else []
            if len(parts) != 2 or parts[0][0] != _OID or parts[1][0] not in _STRING_TAGS:
                continue
            value = parts[1][1].decode(_STRING_TAGS[parts[1][0]], "replace")
            if parts[0][1] == _COMMON_NAME:
                common_name = value
            elif parts[0][1] == _ORGANIZATION:
                organizations.append(value)
    return common_name, tuple(organizations)
