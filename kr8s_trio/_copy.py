"""Copy files and directories to and from a container, as ``kubectl cp`` does: tar over exec.

`copy_from` runs ``tar cf - <remote>`` in the container and extracts what it prints into a
local path; `copy_to` packs a local path and pipes it into ``tar -xmf - -C <remote dir>``. The
archive streams both ways: tar is written and read in a worker thread (`trio.to_thread`) whose
file object sends to, or receives from, the exec session through `trio.from_thread.run`, so
memory stays bounded by a few buffers whatever the size, and the event loop never blocks on
the disk.

What comes from the container is untrusted. Every member goes through
`kr8s_trio._core._tarsafe.ArchiveGuard` (no ``..``, nothing but the copied path, links only
inside the destination, no devices) and, on disk, must not leave the destination through a
symlink that was already there; the first unsafe member stops the copy with an
`UnsafeArchiveError` naming it (kubectl skips such members with a warning). Files are written
under a temporary name in their final directory and renamed when complete, so a failed or
cancelled copy leaves the complete files it already wrote and never a partial one.

Paths follow kubectl: the copy of ``/tmp/data`` gets the local name given (a directory's
contents are merged into an existing directory of that name); a file copied onto an existing
local directory goes inside it. ``copy_to(local, "/srv/x")`` makes ``/srv/x``; a remote path
ending in ``/`` means "inside that directory" (``/srv/`` makes ``/srv/<local name>``), as
there is no cheap remote ``test -d``.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import secrets
import tarfile
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol, cast

import trio

from kr8s_trio._core._exceptions import Kr8sError
from kr8s_trio._core._groups import unwrap_single_exception
from kr8s_trio._core._tarsafe import (
    ArchiveGuard,
    MemberKind,
    Parts,
    PathEscapeError,
    SafeMember,
    UnexpectedMemberError,
    archive_parts,
)
from kr8s_trio._ws import ConnectionClosed

if TYPE_CHECKING:
    from kr8s_trio._exec import ExecProcess

__all__ = ["CopyError", "RemotePathNotFoundError", "copy_from", "copy_to"]

#: the tar stream's buffer, and the size of the reads and writes of file data
CHUNK = 64 * 1024
#: how much of the remote tar's stderr is kept for error messages
STDERR_LIMIT = 16 * 1024
#: the name prefix of files being written (renamed when complete, removed on failure)
PARTIAL_PREFIX = ".kr8s-cp-partial-"


class CopyError(Kr8sError):
    """The remote ``tar`` failed, or what it sent was not an archive.

    Attributes:
        exit_code: the remote tar's exit code (None: it did not report one).
        stderr: what it wrote to stderr (the start of it).
    """

    def __init__(self, message: str, *, exit_code: int | None = None, stderr: str = "") -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.stderr = stderr


class RemotePathNotFoundError(CopyError, FileNotFoundError):
    """The remote path (or, for `copy_to`, its directory) does not exist in the container."""


class _ExecTarget(Protocol):
    def open_exec(
        self,
        command: Sequence[str],
        *,
        container: str | None = ...,
        stdin: bool = ...,
        stdout: bool = ...,
        stderr: bool = ...,
        tty: bool = ...,
        ready_timeout: float | None = ...,
    ) -> AbstractAsyncContextManager[ExecProcess]: ...


def normalize_remote(path: str) -> str:
    """``path`` normalised as tar names it (``/tmp//d/.`` is ``/tmp/d``).

    Raises:
        ValueError: empty, or a ``..`` remains (tar would rename the members).
    """
    if not path:
        raise ValueError("the remote path is empty")
    normal = posixpath.normpath(path)
    if normal.startswith("//"):
        normal = "/" + normal.lstrip("/")
    if ".." in normal.split("/"):
        raise ValueError(f"the remote path {path!r} has a '..' that cannot be resolved")
    return normal


# -- the thread side ----------------------------------------------------------------------------


class _StreamReader:
    """A blocking file object over a trio ReceiveStream (for tarfile, in a worker thread)."""

    def __init__(self, stream: trio.abc.ReceiveStream) -> None:
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        return bytes(trio.from_thread.run(self._stream.receive_some, CHUNK if size < 0 else size))


class _StreamWriter:
    """A blocking file object over a trio SendStream (for tarfile, in a worker thread)."""

    def __init__(self, stream: trio.abc.SendStream) -> None:
        self._stream = stream
        self._broken = False

    def write(self, data: bytes) -> int:
        if self._broken:  # tarfile flushes again while unwinding: nowhere to send it
            return len(data)
        try:
            trio.from_thread.run(self._stream.send_all, bytes(data))
        except BaseException:
            self._broken = True
            raise
        return len(data)


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


class _Extractor:
    """Writes the checked members of one archive under ``dest`` (see the module)."""

    def __init__(self, dest: Path, prefix: Parts, base_name: str) -> None:
        self.dest = dest
        self.guard = ArchiveGuard(prefix)
        self.base_name = base_name
        self.root: Path | None = None
        self.root_is_file = False
        self.real_root = ""

    def run(self, fileobj: IO[bytes]) -> Path:
        with tarfile.open(fileobj=fileobj, mode="r|", bufsize=CHUNK) as archive:
            for member in archive:
                safe = self.guard.check(member)
                self._apply(archive, member, safe)
        if self.root is None:
            raise tarfile.ReadError("the archive is empty")
        return self.root

    def _start(self, safe: SafeMember) -> None:
        if safe.parts or safe.kind is MemberKind.DIRECTORY:
            self.dest.mkdir(parents=True, exist_ok=True)
            self.root = self.dest
            self.real_root = os.path.realpath(self.dest)
            return
        # the copied path is a file
        target = self.dest / self.base_name if self.dest.is_dir() else self.dest
        target.parent.mkdir(parents=True, exist_ok=True)
        self.root, self.root_is_file = target, True
        self.real_root = os.path.realpath(target.parent)

    def _place(self, member: tarfile.TarInfo, parts: Parts) -> Path:
        """The local path of ``parts``, its directory made, refusing pre-existing symlinks that
        lead out of the destination."""
        assert self.root is not None
        if self.root_is_file:
            if parts:
                raise UnexpectedMemberError(member.name, "the copied path is a file")
            return self.root
        path = self.root.joinpath(*parts)
        if not _within(os.path.realpath(path), self.real_root):
            raise PathEscapeError(
                member.name, "it would leave the destination through an existing symlink"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def _apply(self, archive: tarfile.TarFile, member: tarfile.TarInfo, safe: SafeMember) -> None:
        if self.root is None:
            self._start(safe)
        if safe.kind is MemberKind.DIRECTORY:
            if not (self.root_is_file and not safe.parts):
                self._place(member, safe.parts).mkdir(exist_ok=True)
            return
        if safe.kind is MemberKind.FILE:
            path = self._place(member, safe.parts)
            source = archive.extractfile(member)
            self._write_file(path, source, safe.mode)
            return
        # links: never at the root (the guard refuses those)
        path = self._place(member, safe.parts)
        if path.is_dir() and not path.is_symlink():
            raise IsADirectoryError(f"{path}: a directory is in the way of {member.name!r}")
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        if safe.kind is MemberKind.SYMLINK:
            os.symlink(safe.link, path)
        else:
            assert self.root is not None
            os.link(self.root.joinpath(*safe.link.split("/")), path, follow_symlinks=False)

    def _write_file(self, path: Path, source: IO[bytes] | None, mode: int) -> None:
        if path.is_dir() and not path.is_symlink():
            raise IsADirectoryError(f"{path}: is a directory")
        partial = path.with_name(PARTIAL_PREFIX + secrets.token_hex(8))
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        flags |= getattr(os, "O_BINARY", 0)
        fd = os.open(partial, flags, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                while source is not None and (chunk := source.read(CHUNK)):
                    out.write(chunk)
            os.chmod(partial, mode | 0o600)
            os.replace(partial, path)
        except BaseException:
            with contextlib.suppress(OSError):
                partial.unlink()
            raise


def _pack(local: Path, name: str, fileobj: _StreamWriter) -> None:
    with tarfile.open(fileobj=cast(IO[bytes], fileobj), mode="w|", bufsize=CHUNK) as archive:
        archive.add(local, arcname=name, recursive=True)


# -- the trio side ------------------------------------------------------------------------------


async def _extract_stream(
    stream: trio.abc.ReceiveStream, dest: Path, prefix: Parts, base_name: str
) -> Path:
    """Extract the archive read from ``stream`` into ``dest`` (in a worker thread)."""
    extractor = _Extractor(dest, prefix, base_name)
    reader = cast(IO[bytes], _StreamReader(stream))
    return await trio.to_thread.run_sync(extractor.run, reader)


async def _drain(stream: trio.abc.ReceiveStream | None, keep: bytearray | None = None) -> None:
    if stream is None:
        return
    while chunk := await stream.receive_some(CHUNK):
        if keep is not None and len(keep) < STDERR_LIMIT:
            keep += chunk[: STDERR_LIMIT - len(keep)]


def _failure(what: str, code: int, stderr: bytearray) -> CopyError:
    text = stderr.decode("utf-8", "replace").strip()
    lines = [
        line
        for line in text.splitlines()
        if "Removing leading" not in line and "Exiting with failure status" not in line
    ]
    detail = "; ".join(lines) or f"exit code {code}"
    kind = RemotePathNotFoundError if "No such file or directory" in text else CopyError
    return kind(f"{what}: {detail}", exit_code=code, stderr=text)


async def copy_from(
    pod: _ExecTarget,
    remote_path: str,
    local_path: str | os.PathLike[str],
    *,
    container: str | None = None,
    **exec_options: Any,
) -> Path:
    """Copy a file or directory from the container to ``local_path`` (``kubectl cp
    pod:remote local``); returns the local path of the copy.

    Raises:
        RemotePathNotFoundError: ``remote_path`` does not exist in the container.
        CopyError: the remote tar failed otherwise, or sent something that is not an archive.
        UnsafeArchiveError: a member would be written outside ``local_path``, is a link out of
            it, or a device (a subclass says which); it and what follows are not written.
        OSError: writing locally failed.
        ValueError: ``remote_path`` is empty or has a ``..``.
        APIError, TimeoutError: as ``open_exec``.

    Cancellation:
        Safe at every phase: the remote tar is stopped, the worker thread ends, the file being
        written is removed; complete files already written stay.
    """
    remote = normalize_remote(remote_path)
    prefix = archive_parts(remote)
    base_name = posixpath.basename(remote) or "root"
    stderr = bytearray()
    unreadable: tarfile.TarError | None = None
    result: Path | None = None
    command = ["tar", "cf", "-", remote]
    async with pod.open_exec(command, container=container, stdin=False, **exec_options) as proc:
        assert proc.stdout is not None
        with unwrap_single_exception():
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_drain, proc.stderr, stderr)
                try:
                    result = await _extract_stream(proc.stdout, Path(local_path), prefix, base_name)
                except tarfile.TarError as exc:
                    unreadable = exc
                await _drain(proc.stdout)  # the end-of-archive padding tar read no further than
        code = await proc.wait()
    if code:
        raise _failure(f"copying {remote!r} from the container failed", code, stderr)
    if unreadable is not None:
        raise CopyError(
            f"copying {remote!r}: the container's tar did not send a readable archive: "
            f"{unreadable}",
            exit_code=code,
            stderr=stderr.decode("utf-8", "replace"),
        ) from unreadable
    assert result is not None
    return result


async def copy_to(
    pod: _ExecTarget,
    local_path: str | os.PathLike[str],
    remote_path: str,
    *,
    container: str | None = None,
    **exec_options: Any,
) -> str:
    """Copy a local file or directory into the container (``kubectl cp local pod:remote``);
    returns the remote path of the copy.

    ``remote_path`` is the copy's own path; ending in ``/``, the directory to put it in under
    its local name. Its directory must exist. Symlinks are copied as symlinks.

    Raises:
        FileNotFoundError: ``local_path`` does not exist.
        RemotePathNotFoundError: the remote directory does not exist.
        CopyError: the remote tar failed otherwise.
        ValueError: ``remote_path`` is empty or has a ``..``.
        APIError, TimeoutError: as ``open_exec``.

    Cancellation:
        Safe at every phase: the worker thread ends and the session is closed; the remote tar
        then sees a truncated archive, and may have written part of it.
    """
    local = Path(local_path)
    await trio.to_thread.run_sync(os.lstat, local)  # FileNotFoundError, before any exec
    remote = normalize_remote(remote_path)
    if remote_path.endswith("/") or remote == "/":
        named = (
            local
            if local.name not in ("", ".", "..")
            else await trio.to_thread.run_sync(local.resolve)
        )
        remote = posixpath.join(remote, named.name)
    directory, name = posixpath.split(remote)
    command = ["tar", "-xmf", "-", "-C", directory or "."]
    stderr = bytearray()
    cut_short: Exception | None = None
    async with pod.open_exec(command, container=container, stdin=True, **exec_options) as proc:
        assert proc.stdin is not None
        stdin = proc.stdin
        with unwrap_single_exception():
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_drain, proc.stdout)
                nursery.start_soon(_drain, proc.stderr, stderr)
                writer = _StreamWriter(stdin)
                pack: Callable[[], None] = lambda: _pack(local, name, writer)  # noqa: E731
                try:
                    await trio.to_thread.run_sync(pack)
                    await stdin.aclose()
                except (
                    ConnectionClosed,
                    trio.BrokenResourceError,
                    trio.ClosedResourceError,
                ) as exc:
                    cut_short = exc  # the remote tar ended early: its status says why
        try:
            code = await proc.wait()
        except Kr8sError:
            if cut_short is None:
                raise
            code = None
    if code:
        raise _failure(f"copying to {remote!r} in the container failed", code, stderr)
    if cut_short is not None:
        raise cut_short
    return remote
