"""The fake cluster's public-key infrastructure, minted per run and kept in memory.

A real cluster has a CA that signs the API server's serving certificate and the client
certificates that ``kubectl`` and controllers authenticate with (CN is the user name, each O a
group). :class:`ClusterPKI` reproduces that for the fake API server: trustme creates the CA and
the serving certificate (valid for ``127.0.0.1``, ``::1`` and ``localhost``, since Python's
``ssl`` checks IP SANs), and client certificates are built here with ``cryptography`` because
trustme can put only one Organization into a subject and Kubernetes needs one per group.

Nothing is written to disk: contexts are loaded through :mod:`kr8s_trio._core._pem`, never
through trustme's ``configure_cert`` (which goes through temporary files).
"""

from __future__ import annotations

import datetime
import ssl
from collections.abc import Sequence

import attrs
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kr8s_trio._core._pem import load_ca_in_memory, load_cert_chain_in_memory

__all__ = ["ClientCert", "ClusterPKI"]

_SERVER_IDENTITIES = ("127.0.0.1", "::1", "localhost")
_CLIENT_CERT_LIFETIME = datetime.timedelta(days=365)
# Tolerate clocks that disagree a little (the fake may serve a kubectl in a container).
_CLOCK_SKEW = datetime.timedelta(hours=1)


@attrs.frozen
class ClientCert:
    """A client certificate and its private key, both PEM-encoded.

    The key is left out of ``repr()`` so the object can be logged or shown in a failing
    assertion without leaking it.
    """

    cert_pem: bytes
    key_pem: bytes = attrs.field(repr=False)


class ClusterPKI:
    """A per-run certificate authority with a serving certificate for the fake API server.

    Create one per fake cluster; everything lives in memory and dies with the object.
    """

    def __init__(self) -> None:
        self._ca = trustme.CA()
        server = self._ca.issue_cert(*_SERVER_IDENTITIES)
        self._ca_pem = self._ca.cert_pem.bytes()
        self._server_chain_pem = b"".join(blob.bytes() for blob in server.cert_chain_pems)
        self._server_key_pem = server.private_key_pem.bytes()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} serving {', '.join(_SERVER_IDENTITIES)}>"

    @property
    def ca_pem(self) -> bytes:
        """The CA certificate (PEM) that signs the serving and client certificates."""
        return self._ca_pem

    def server_ssl_context(self, alpn: Sequence[str] = ("h2", "http/1.1")) -> ssl.SSLContext:
        """Build the API server's TLS context.

        Clients *may* present a certificate (``CERT_OPTIONAL``): one signed by this CA becomes
        their identity, one signed by anybody else fails the handshake, and clients with no
        certificate (bearer tokens, anonymous) connect normally. Only this CA is trusted for
        client certificates, never the system store.

        Args:
            alpn: ALPN protocols offered, in order of preference.

        Returns:
            A fresh server-side context.
        """
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.verify_mode = ssl.CERT_OPTIONAL
        load_ca_in_memory(ctx, self._ca_pem)
        load_cert_chain_in_memory(ctx, self._server_chain_pem, self._server_key_pem)
        ctx.set_alpn_protocols(list(alpn))
        return ctx

    def issue_client_cert(self, username: str, groups: Sequence[str] = ()) -> ClientCert:
        """Sign a client certificate the way kube-apiserver reads them.

        Args:
            username: Becomes the subject's Common Name (the Kubernetes user name).
            groups: Each becomes one Organization attribute (a Kubernetes group), in order.

        Returns:
            The certificate and its (ECDSA P-256, PKCS#8, unencrypted) private key.

        Raises:
            ValueError: ``username`` is empty (kube-apiserver ignores such certificates).
        """
        if not username:
            raise ValueError("a client certificate needs a non-empty username (CN)")
        ca_cert = x509.load_pem_x509_certificate(self._ca_pem)
        ca_key = serialization.load_pem_private_key(self._ca.private_key_pem.bytes(), None)
        if not isinstance(ca_key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise TypeError(f"unexpected CA key type {type(ca_key).__name__}")
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name(
            [x509.NameAttribute(NameOID.ORGANIZATION_NAME, group) for group in groups]
            + [x509.NameAttribute(NameOID.COMMON_NAME, username)]
        )
        now = datetime.datetime.now(datetime.UTC)
        ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _CLOCK_SKEW)
            .not_valid_after(now + _CLIENT_CERT_LIFETIME)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=True,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), False
            )
            .sign(ca_key, hashes.SHA256())
        )
        return ClientCert(
            cert_pem=cert.public_bytes(serialization.Encoding.PEM),
            key_pem=key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )

    def client_ssl_context(self, cert: ClientCert | None = None) -> ssl.SSLContext:
        """Build a client context that trusts only this CA (for tests and the fixture's Api).

        Args:
            cert: A client certificate to present, or ``None`` to present none.

        Returns:
            A fresh client-side context with hostname checking on.
        """
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        load_ca_in_memory(ctx, self._ca_pem)
        if cert is not None:
            load_cert_chain_in_memory(ctx, cert.cert_pem, cert.key_pem)
        return ctx
