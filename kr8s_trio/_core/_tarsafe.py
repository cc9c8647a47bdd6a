"""Which members of a tar archive may be extracted into a destination, sans-IO.

``kubectl cp`` copies with tar over exec, so what arrives from a pod is an archive a compromised
container chose. `ArchiveGuard` reads members one at a time (as they stream past) and says where
each one goes, relative to the destination, or raises an `UnsafeArchiveError` naming it:

- names are taken as relative: leading ``/`` are stripped (as GNU tar does); a name with a
  ``..`` component is refused outright (GNU tar never writes one; a lexically harmless ``a/../b``
  can still leave the destination when ``a`` is a symlink);
- when copying a remote path, every member must be that path or below it (the *prefix*,
  ``tmp/data`` for ``/tmp/data``); what follows the prefix is the place in the destination;
- a symbolic link must be relative and resolve (lexically, from its own directory) inside the
  destination, without passing through a symlink of the archive; no member may be placed
  through one either;
- a hard link must name a regular file the archive already put in the destination;
- devices, FIFOs and other special members are refused.

Nothing here touches a file system: the place is a tuple of path components (``()`` is the
destination itself). The I/O side (`kr8s_trio._copy`) still checks, on disk, that a place does
not leave the destination through a symlink that was already there.
"""

from __future__ import annotations

import enum
import tarfile
from collections.abc import Iterable

import attrs

from kr8s_trio._core._exceptions import Kr8sError

__all__ = [
    "ArchiveGuard",
    "LinkEscapeError",
    "MemberKind",
    "PathEscapeError",
    "SafeMember",
    "SpecialMemberError",
    "UnexpectedMemberError",
    "UnsafeArchiveError",
    "archive_parts",
]

Parts = tuple[str, ...]


class UnsafeArchiveError(Kr8sError, ValueError):
    """An archive member cannot be extracted safely; nothing of it was written.

    Attributes:
        member: the member's name as stored in the archive.
        reason: why it was refused.
    """

    def __init__(self, member: str, reason: str) -> None:
        super().__init__(f"refusing archive member {member!r}: {reason}")
        self.member = member
        self.reason = reason


class PathEscapeError(UnsafeArchiveError):
    """The member's name leaves the destination (``..``) or goes through a symlink."""


class LinkEscapeError(UnsafeArchiveError):
    """A symbolic or hard link points outside the destination (or at something unknown)."""


class SpecialMemberError(UnsafeArchiveError):
    """A device, FIFO or other member that is not a file, directory or link."""


class UnexpectedMemberError(UnsafeArchiveError):
    """The member is not the copied path nor below it (the archive was tampered with)."""


class MemberKind(enum.Enum):
    """What to make for a member."""

    DIRECTORY = "directory"
    FILE = "file"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"


@attrs.frozen
class SafeMember:
    """Where and what a checked member is.

    Attributes:
        kind: what to make.
        parts: its place, relative to the destination (``()``: the destination itself).
        link: for a symlink, the target text to store (relative); for a hard link, the place
            (joined with ``/``) of the file it links to; otherwise empty.
        mode: permission bits (``0o777`` at most: no setuid, setgid or sticky bits).
        size: bytes of data (files).
    """

    kind: MemberKind
    parts: Parts
    link: str = ""
    mode: int = 0o644
    size: int = 0


def archive_parts(name: str, *, member: str | None = None) -> Parts:
    """The components of an archive path taken as relative (leading ``/`` stripped, empty and
    ``.`` components dropped).

    Raises:
        PathEscapeError: a component is ``..``, or contains a NUL.
    """
    shown = name if member is None else member
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            raise PathEscapeError(shown, "the name has a '..' component")
        if "\x00" in part:
            raise PathEscapeError(shown, "the name contains a NUL byte")
        parts.append(part)
    return tuple(parts)


def _prefix(value: str | Iterable[str]) -> Parts:
    return archive_parts(value) if isinstance(value, str) else tuple(value)


@attrs.define
class ArchiveGuard:
    """Checks the members of one archive in order (see the module).

    Args:
        prefix: the archive path every member must be, or be below (``"tmp/data"``, or
            ``"/tmp/data"``: leading ``/`` are stripped); empty accepts any member and puts it
            at its own name.
    """

    prefix: Parts = attrs.field(default=(), converter=_prefix)
    #: places of the symlinks this archive made
    _symlinks: set[Parts] = attrs.field(factory=set, init=False)
    #: places of the regular files this archive made (hard link targets)
    _files: set[Parts] = attrs.field(factory=set, init=False)

    def place(self, name: str) -> Parts:
        """Where a member of this name goes, relative to the destination.

        Raises:
            PathEscapeError: see `archive_parts`; or the place is below a symlink of the archive.
            UnexpectedMemberError: the name is not the prefix nor below it.
        """
        parts = archive_parts(name)
        if parts[: len(self.prefix)] != self.prefix:
            where = "/".join(self.prefix)
            raise UnexpectedMemberError(name, f"it is not {where!r} nor below it")
        place = parts[len(self.prefix) :]
        for depth in range(len(place)):
            if place[:depth] in self._symlinks:
                raise PathEscapeError(name, "it would be written through a symlink")
        return place

    def check(self, member: tarfile.TarInfo) -> SafeMember:
        """Where and what ``member`` is; remembers it for the links that follow.

        Raises:
            UnsafeArchiveError: one of its subclasses, naming the member.
        """
        name = member.name
        place = self.place(name)
        mode = member.mode & 0o777
        if member.isdir():
            self._forget(place)
            return SafeMember(MemberKind.DIRECTORY, place, mode=mode)
        if member.isreg():
            self._forget(place)
            self._files.add(place)
            return SafeMember(MemberKind.FILE, place, mode=mode, size=member.size)
        if member.issym():
            target = member.linkname
            if not place:
                raise LinkEscapeError(name, "the copied path itself is a symlink")
            if not target or target.startswith("/"):
                raise LinkEscapeError(name, f"the symlink target {target!r} is absolute or empty")
            if "\x00" in target:
                raise LinkEscapeError(name, "the symlink target contains a NUL byte")
            resolved = self._through(place[:-1], target, name)
            if resolved is None:
                raise LinkEscapeError(name, f"the symlink target {target!r} leaves the destination")
            self._forget(place)
            self._symlinks.add(place)
            return SafeMember(MemberKind.SYMLINK, place, link=target, mode=mode)
        if member.islnk():
            try:
                target_place = self.place(member.linkname)
            except UnsafeArchiveError as exc:
                raise LinkEscapeError(
                    name, f"the hard link target {member.linkname!r} is unsafe: {exc.reason}"
                ) from None
            if target_place not in self._files:
                raise LinkEscapeError(
                    name,
                    f"the hard link target {member.linkname!r} is not a file of this archive",
                )
            if not place:
                raise LinkEscapeError(name, "the copied path itself is a hard link")
            self._forget(place)
            self._files.add(place)
            return SafeMember(MemberKind.HARDLINK, place, link="/".join(target_place), mode=mode)
        kind = "FIFO" if member.isfifo() else "device" if member.isdev() else "special member"
        raise SpecialMemberError(name, f"it is a {kind} (type {member.type!r})")

    def _through(self, base: Parts, target: str, name: str) -> Parts | None:
        """Resolve ``target`` from ``base`` step by step, refusing to pass through (rather
        than end at) a symlink of the archive."""
        stack = list(base)
        steps = [p for p in target.split("/") if p not in ("", ".")]
        for index, part in enumerate(steps):
            if part == "..":
                if not stack:
                    return None
                stack.pop()
                continue
            stack.append(part)
            if index < len(steps) - 1 and tuple(stack) in self._symlinks:
                raise LinkEscapeError(
                    name, f"the symlink target {target!r} passes through a symlink"
                )
        return tuple(stack)

    def _forget(self, place: Parts) -> None:
        self._symlinks.discard(place)
        self._files.discard(place)
