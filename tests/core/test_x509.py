"""The subject of a client certificate, read from its DER without a crypto library."""

from __future__ import annotations

import base64

import pytest

from kr8s_trio._core._x509 import certificate_subject
from kr8s_trio.testing._tls import ClusterPKI


def test_x509_subject_common_name_and_organizations() -> None:
    cert = ClusterPKI().issue_client_cert("bob", ["ops", "dev"])
    assert certificate_subject(cert.cert_pem) == ("bob", ("ops", "dev"))


def test_x509_first_certificate_of_a_chain_counts() -> None:
    pki = ClusterPKI()
    chain = pki.issue_client_cert("alice").cert_pem + pki.issue_client_cert("eve").cert_pem
    assert certificate_subject(chain) == ("alice", ())


def _pem(der: bytes) -> bytes:
    return (
        b"-----BEGIN CERTIFICATE-----\n" + base64.b64encode(der) + b"\n-----END CERTIFICATE-----\n"
    )


@pytest.mark.parametrize(
    ("pem", "problem"),
    [
        (b"", "no PEM certificate"),
        (b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n", "bad PEM base64"),
        (_pem(b"\x30\x05\x30\x03\x02\x01"), "truncated DER"),
        (_pem(b"\x02\x01\x00"), "not a certificate"),
    ],
    ids=["empty", "bad-base64", "truncated", "not-a-sequence"],
)
def test_x509_malformed_input_is_a_value_error(pem: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        certificate_subject(pem)
