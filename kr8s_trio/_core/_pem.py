"""Load PEM certificates and private keys into an ``ssl.SSLContext`` without touching disk.

Python's ``ssl`` module reads a certificate chain and its private key only from *paths*
(``SSLContext.load_cert_chain``), while kubeconfig files carry them inline
(``client-certificate-data`` / ``client-key-data``) and the fake API server mints them in
memory. Writing a private key to a temporary file, even briefly, would leave it readable by
anything that can see that directory and recoverable from the disk afterwards, so:

* on Linux the PEM bytes go into an anonymous memory file (``os.memfd_create``) and OpenSSL
  reads them back through ``/proc/self/fd/<n>``; the descriptor is closed as soon as the
  chain is loaded, which frees the memory;
* elsewhere (no ``memfd_create`` or no ``/proc``) the bytes go into a file created with mode
  0600 inside a private directory from ``tempfile.mkdtemp()`` (mode 0700), and the directory
  is removed right after loading.

CA bundles need no such trick: ``SSLContext.load_verify_locations(cadata=...)`` accepts PEM
text, and :func:`load_ca_in_memory` only guards against the bytes-means-DER pitfall.

This module is stdlib-only on purpose: the client's kubeconfig loader and the fake API server
(``kr8s_trio.testing``) both use it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import ssl
import tempfile
from collections.abc import Iterator

__all__ = ["load_ca_in_memory", "load_cert_chain_in_memory"]

_PROC_FD_DIR = "/proc/self/fd"


def load_cert_chain_in_memory(ctx: ssl.SSLContext, cert_pem: bytes, key_pem: bytes) -> None:
    """Load a PEM certificate chain and its unencrypted private key into ``ctx``.

    The private key never reaches a named file on Linux (anonymous memory via
    ``os.memfd_create``); on other platforms it lives for the duration of this call in a
    0600 file in a private 0700 directory that is removed before returning.

    Args:
        ctx: The context to configure (client or server side).
        cert_pem: The leaf certificate, optionally followed by intermediates, PEM-encoded.
        key_pem: The private key matching the leaf certificate, PEM-encoded, not encrypted.

    Raises:
        ssl.SSLError: The PEM data could not be parsed, the key is encrypted, or the key does
            not match the certificate. The message never contains the key material.
    """
    with _in_memory_paths(cert_pem, key_pem) as (cert_path, key_path):
        ctx.load_cert_chain(cert_path, key_path, password=_refuse_password)


def load_ca_in_memory(ctx: ssl.SSLContext, ca_pem: bytes) -> None:
    """Trust the PEM-encoded CA certificate(s) in ``ca_pem`` for peer verification.

    ``load_verify_locations(cadata=...)`` treats ``bytes`` as DER and ``str`` as PEM; kubeconfig
    and trustme hand us PEM bytes, so they are decoded first.

    Args:
        ctx: The context that should trust the CA.
        ca_pem: One or more PEM certificates.

    Raises:
        ssl.SSLError: ``ca_pem`` holds no valid certificate.
        ValueError: ``ca_pem`` is not ASCII (so it cannot be PEM).
    """
    try:
        text = ca_pem.decode("ascii")
    except UnicodeDecodeError:
        raise ValueError("CA data is not PEM (not ASCII text)") from None
    ctx.load_verify_locations(cadata=text)


def _refuse_password() -> bytes:
    # Without a callback OpenSSL would prompt on the terminal for an encrypted key; kubeconfig
    # keys are never encrypted, so fail instead of blocking on stdin.
    raise ssl.SSLError("encrypted private keys are not supported")


@contextlib.contextmanager
def _in_memory_paths(cert_pem: bytes, key_pem: bytes) -> Iterator[tuple[str, str]]:
    """Yield paths from which OpenSSL can read ``cert_pem`` and ``key_pem``, then forget them."""
    if _memfd_usable():
        try:
            cert_fd = _memfd_with("kr8s-trio-cert", cert_pem)
        except OSError:
            # memfd_create can be forbidden (seccomp); fall through to the private directory.
            pass
        else:
            try:
                key_fd = _memfd_with("kr8s-trio-key", key_pem)
                try:
                    yield f"{_PROC_FD_DIR}/{cert_fd}", f"{_PROC_FD_DIR}/{key_fd}"
                finally:
                    os.close(key_fd)
            finally:
                os.close(cert_fd)
            return
    directory = tempfile.mkdtemp(prefix="kr8s-trio-")  # created with mode 0700
    try:
        cert_path = os.path.join(directory, "cert.pem")
        key_path = os.path.join(directory, "key.pem")
        _write_private_file(cert_path, cert_pem)
        _write_private_file(key_path, key_pem)
        yield cert_path, key_path
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _memfd_usable() -> bool:
    return hasattr(os, "memfd_create") and os.path.isdir(_PROC_FD_DIR)


def _memfd_with(name: str, data: bytes) -> int:
    fd = os.memfd_create(name, os.MFD_CLOEXEC)
    try:
        _write_all(fd, data)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _write_private_file(path: str, data: bytes) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
