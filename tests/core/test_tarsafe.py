"""ArchiveGuard: which tar members may be extracted, and where (sans IO)."""

from __future__ import annotations

import posixpath
import tarfile

import pytest
from hypothesis import example, given, settings, strategies as st

from kr8s_trio._core._exceptions import Kr8sError
from kr8s_trio._core._tarsafe import (
    ArchiveGuard,
    LinkEscapeError,
    MemberKind,
    PathEscapeError,
    SafeMember,
    SpecialMemberError,
    UnexpectedMemberError,
    UnsafeArchiveError,
    archive_parts,
)


def info(
    name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "", mode: int = 0o644
) -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type, member.linkname, member.mode = kind, linkname, mode
    return member


def directory(name: str) -> tarfile.TarInfo:
    return info(name, tarfile.DIRTYPE, mode=0o755)


def symlink(name: str, target: str) -> tarfile.TarInfo:
    return info(name, tarfile.SYMTYPE, target)


def hardlink(name: str, target: str) -> tarfile.TarInfo:
    return info(name, tarfile.LNKTYPE, target)


# -- names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("a/b", ("a", "b")),
        ("/a/b", ("a", "b")),
        ("///a//./b/", ("a", "b")),
        ("./a", ("a",)),
        ("/", ()),
        ("", ()),
        ("a..b/..c", ("a..b", "..c")),
    ],
)
def test_names_are_relative_and_normalised(name: str, parts: tuple[str, ...]) -> None:
    assert archive_parts(name) == parts


@pytest.mark.parametrize("name", ["..", "../x", "a/../../x", "a/../b", "/..", "a/b/.."])
def test_a_dot_dot_component_is_refused(name: str) -> None:
    with pytest.raises(PathEscapeError, match="'\\.\\.' component") as err:
        archive_parts(name)
    assert err.value.member == name


def test_errors_are_typed_and_name_the_member() -> None:
    guard = ArchiveGuard()
    with pytest.raises(UnsafeArchiveError) as err:
        guard.check(info("x/../../etc/passwd"))
    assert isinstance(err.value, Kr8sError)
    assert isinstance(err.value, ValueError)
    assert err.value.member == "x/../../etc/passwd"
    assert "'x/../../etc/passwd'" in str(err.value)
    assert err.value.reason


# -- prefix -------------------------------------------------------------------------------------


def test_the_prefix_is_stripped_and_required() -> None:
    guard = ArchiveGuard("/tmp/data")
    assert guard.prefix == ("tmp", "data")
    assert guard.check(directory("tmp/data/")) == SafeMember(MemberKind.DIRECTORY, (), mode=0o755)
    assert guard.check(info("/tmp/data/a/b")).parts == ("a", "b")
    for name in ("tmp/other", "tmp/database/x", "etc/passwd", "/etc/x", "tmp"):
        with pytest.raises(UnexpectedMemberError, match="nor below it"):
            guard.check(info(name))


def test_no_prefix_keeps_names() -> None:
    assert ArchiveGuard().check(info("/etc/x")).parts == ("etc", "x")


# -- kinds --------------------------------------------------------------------------------------


def test_files_and_directories_and_their_modes() -> None:
    guard = ArchiveGuard("d")
    file = info("d/f", mode=0o4755)
    file.size = 12
    assert guard.check(file) == SafeMember(MemberKind.FILE, ("f",), mode=0o755, size=12)


@pytest.mark.parametrize(
    ("kind", "what"),
    [
        (tarfile.CHRTYPE, "device"),
        (tarfile.BLKTYPE, "device"),
        (tarfile.FIFOTYPE, "FIFO"),
        (b"V", "special member"),
    ],
)
def test_special_members_are_refused(kind: bytes, what: str) -> None:
    with pytest.raises(SpecialMemberError, match=what):
        ArchiveGuard().check(info("x", kind))


# -- symlinks -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("d/l", "/"),
        ("d/l", "/etc/passwd"),
        ("d/l", ""),
        ("d/l", ".."),
        ("d/a/l", "../../x"),
        ("d/l", "a/../../x"),
        ("d", "x"),  # the copied path itself: relative to a directory outside
    ],
)
def test_symlinks_out_of_the_destination_are_refused(name: str, target: str) -> None:
    with pytest.raises(LinkEscapeError):
        ArchiveGuard("d").check(symlink(name, target))


@pytest.mark.parametrize(
    ("name", "target"),
    [("d/l", "f"), ("d/a/l", "../f"), ("d/a/l", "../a/./b"), ("d/l", "."), ("d/a/b/l", "../..")],
)
def test_symlinks_inside_are_kept(name: str, target: str) -> None:
    checked = ArchiveGuard("d").check(symlink(name, target))
    assert checked.kind is MemberKind.SYMLINK
    assert checked.link == target


def test_nothing_goes_through_a_symlink_of_the_archive() -> None:
    guard = ArchiveGuard("d")
    guard.check(symlink("d/a/b/l", "../.."))  # the root: inside
    with pytest.raises(PathEscapeError, match="through a symlink"):
        guard.check(info("d/a/b/l/x"))
    # lexically inside (d/a/b), really d/.. : refused
    with pytest.raises(LinkEscapeError, match="passes through a symlink"):
        guard.check(symlink("d/m", "a/b/l/.."))
    # replacing the symlink by a directory makes the place usable again
    guard.check(directory("d/a/b/l"))
    assert guard.check(info("d/a/b/l/x")).parts == ("a", "b", "l", "x")


# -- hard links ---------------------------------------------------------------------------------


def test_hard_links_must_name_a_file_of_the_archive() -> None:
    guard = ArchiveGuard("d")
    guard.check(info("d/f"))
    assert guard.check(hardlink("d/h", "d/f")) == SafeMember(
        MemberKind.HARDLINK, ("h",), link="f", mode=0o644
    )
    assert guard.check(hardlink("d/h2", "d/h")).link == "h"  # a link to a link is a file too
    for target in ("etc/passwd", "/etc/passwd", "d/../../x", "d/missing", "d"):
        with pytest.raises(LinkEscapeError):
            guard.check(hardlink("d/bad", target))
    guard.check(symlink("d/s", "f"))
    with pytest.raises(LinkEscapeError, match="not a file of this archive"):
        guard.check(hardlink("d/bad", "d/s"))


# -- property: no member ever escapes ----------------------------------------------------------

#: few names, many ".." and links: an escape needs a symlink and a ".." to meet
component = st.sampled_from(["a", "a", "b", "..", "..", ".", "", "x..", "c d"])
path_text = st.lists(component, min_size=0, max_size=4).map("/".join)
kinds = st.sampled_from([tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE])


def walk(
    links: dict[tuple[str, ...], tuple[str, ...]], start: tuple[str, ...], path: str
) -> tuple[str, ...] | None:
    """``path`` from the directory ``start`` as a kernel walks it: symlinks followed at each
    step (``links`` maps a symlink to its real target); None when it goes above the root."""
    stack = list(start)
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not stack:
                return None
            stack.pop()
            continue
        stack.append(part)
        hops = 0
        while tuple(stack) in links and hops < 40:
            stack, hops = list(links[tuple(stack)]), hops + 1
    return tuple(stack)


SYM, LNK = tarfile.SYMTYPE, tarfile.LNKTYPE


@settings(max_examples=1000)
@example(prefix="", members=[("a", SYM, "."), ("a/l", SYM, "..")])  # member through a link
@example(prefix="", members=[("a/b/s", SYM, "../.."), ("m", SYM, "a/b/s/..")])  # target too
@example(prefix="d", members=[("l", SYM, ".."), ("f", LNK, "d/l/../x")])
@given(
    prefix=st.sampled_from(["", "d", "/d/e"]),
    members=st.lists(st.tuples(path_text, kinds, path_text), max_size=12),
)
def test_random_members_never_escape(prefix: str, members: list[tuple[str, bytes, str]]) -> None:
    """Extract on a model file system where symlinks are followed for real: every accepted
    member, and every accepted link's target, stays inside the destination."""
    guard = ArchiveGuard(prefix)
    links: dict[tuple[str, ...], tuple[str, ...]] = {}  # accepted symlink -> its real target
    for name, kind, target in members:
        full = posixpath.join(prefix, name) if prefix and not name.startswith("/") else name
        try:
            checked = guard.check(info(full, kind, target))
        except UnsafeArchiveError:
            continue
        assert ".." not in checked.parts
        parent = walk(links, (), "/".join(checked.parts[:-1]))
        assert parent is not None
        if checked.kind is MemberKind.SYMLINK:
            assert not checked.link.startswith("/")
            real_target = walk(links, parent, checked.link)
            assert real_target is not None
            links[checked.parts] = real_target
        else:
            links.pop(checked.parts, None)
            if checked.kind is MemberKind.HARDLINK:
                assert walk(links, (), checked.link) is not None
                assert not checked.link.startswith("/")
