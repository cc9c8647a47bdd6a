"""Pod.copy_to / copy_from (tar over exec, like ``kubectl cp``) against the living fake cluster.

The fake's containers have a ``tar`` built-in over their FakeFS (``kr8s_trio.testing._tar``);
tests that need a hostile container register their own ``tar`` on the pod, which prints an
archive built here.
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path
from typing import NoReturn

import pytest
import trio
import trio.testing

from kr8s_trio import Api
from kr8s_trio._copy import (
    PARTIAL_PREFIX,
    CopyError,
    RemotePathNotFoundError,
    _extract_stream,
)
from kr8s_trio._core._tarsafe import (
    LinkEscapeError,
    PathEscapeError,
    SpecialMemberError,
    UnexpectedMemberError,
    UnsafeArchiveError,
)
from kr8s_trio.objects import Pod
from kr8s_trio.testing import ExecContext, FakeCluster

BLOB = bytes(range(256)) * 1200 + b"tail"  # every byte value, several WebSocket frames


@pytest.fixture
async def pod(living_api: Api) -> Pod:
    pod = Pod.gen(name="p", image="busybox")
    await pod.create()
    return pod


def tree(root: Path) -> dict[str, bytes | None]:
    """Every path below ``root``: file contents, None for directories."""
    found: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        found[rel] = None if path.is_dir() else path.read_bytes()
    return found


def everything(root: Path) -> set[Path]:
    return set(root.rglob("*"))


def make_tree(root: Path) -> None:
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "a.txt").write_bytes(b"alpha\n")
    (root / "sub" / "b.bin").write_bytes(BLOB)
    (root / "sub" / "deeper" / "c").write_bytes(b"")


# -- round trips --------------------------------------------------------------------------------


async def test_copy_a_file_to_the_pod_and_back_byte_identical(
    pod: Pod, living_cluster: FakeCluster, tmp_path: Path
) -> None:
    local = tmp_path / "blob.bin"
    local.write_bytes(BLOB)
    assert await pod.copy_to(local, "/tmp/blob.bin") == "/tmp/blob.bin"
    assert living_cluster.container_fs("p", "p").read("/tmp/blob.bin") == BLOB

    back = await pod.copy_from("/tmp/blob.bin", tmp_path / "back.bin")
    assert back == tmp_path / "back.bin"
    assert back.read_bytes() == BLOB
    assert not [p for p in everything(tmp_path) if p.name.startswith(PARTIAL_PREFIX)]


async def test_copy_a_directory_tree_to_the_pod_and_back(
    pod: Pod, living_cluster: FakeCluster, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    make_tree(source)
    assert await pod.copy_to(source, "/tmp/site") == "/tmp/site"
    fs = living_cluster.container_fs("p", "p")
    assert fs.read("/tmp/site/sub/b.bin") == BLOB
    assert fs.read("/tmp/site/a.txt") == b"alpha\n"
    assert fs.is_dir("/tmp/site/empty")

    back = await pod.copy_from("/tmp/site", tmp_path / "out")
    assert back == tmp_path / "out"
    assert tree(back) == tree(source)


async def test_copy_paths_follow_kubectl(
    pod: Pod, living_cluster: FakeCluster, tmp_path: Path
) -> None:
    local = tmp_path / "notes.txt"
    local.write_bytes(b"n\n")
    # a remote path ending in "/" is the directory to copy into
    assert await pod.copy_to(local, "/tmp/") == "/tmp/notes.txt"
    assert living_cluster.container_fs("p", "p").read("/tmp/notes.txt") == b"n\n"
    # a file copied onto an existing local directory goes inside it
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    assert await pod.copy_from("/tmp/notes.txt", inbox) == inbox / "notes.txt"
    assert (inbox / "notes.txt").read_bytes() == b"n\n"
    # a directory is merged into an existing local directory of the copy's name
    living_cluster.container_fs("p", "p").write("/data/x/new.txt", b"new")
    (inbox / "old.txt").write_bytes(b"old")
    await pod.copy_from("/data/x/", inbox)
    assert tree(inbox) == {"new.txt": b"new", "notes.txt": b"n\n", "old.txt": b"old"}


async def test_copy_can_choose_the_container(
    living_api: Api, living_cluster: FakeCluster, tmp_path: Path
) -> None:
    pod = Pod.gen(name="two", image="busybox")
    pod.raw["spec"]["containers"].append({"name": "side", "image": "busybox"})
    await pod.create()
    local = tmp_path / "f"
    local.write_bytes(b"for the sidecar")
    await pod.copy_to(local, "/tmp/f", container="side")
    assert living_cluster.container_fs("two", "side").read("/tmp/f") == b"for the sidecar"
    assert not living_cluster.container_fs("two", "two").exists("/tmp/f")
    await pod.copy_from("/tmp/f", tmp_path / "g", container="side")
    assert (tmp_path / "g").read_bytes() == b"for the sidecar"


# -- errors -------------------------------------------------------------------------------------


async def test_a_missing_remote_path_is_a_clear_error(pod: Pod, tmp_path: Path) -> None:
    with pytest.raises(RemotePathNotFoundError, match="/nope: Cannot stat") as err:
        await pod.copy_from("/nope", tmp_path / "dest")
    assert isinstance(err.value, FileNotFoundError)
    assert isinstance(err.value, CopyError)
    assert err.value.exit_code == 2
    assert not (tmp_path / "dest").exists()


async def test_copy_to_a_missing_remote_directory_or_from_a_missing_local_path(
    pod: Pod, tmp_path: Path
) -> None:
    local = tmp_path / "f"
    local.write_bytes(b"x")
    with pytest.raises(RemotePathNotFoundError, match="/no/such: Cannot open"):
        await pod.copy_to(local, "/no/such/f")
    big = tmp_path / "big"
    make_tree(big)  # more than the remote reads before it gives up
    with pytest.raises(RemotePathNotFoundError, match="/srv: Cannot open"):
        await pod.copy_to(big, "/srv/site")
    with pytest.raises(FileNotFoundError):
        await pod.copy_to(tmp_path / "absent", "/tmp/f")
    with pytest.raises(ValueError, match=r"'\.\.'"):
        await pod.copy_from("../etc", tmp_path / "x")


async def test_a_container_that_sends_no_archive(
    pod: Pod, living_cluster: FakeCluster, tmp_path: Path
) -> None:
    async def not_tar(ctx: ExecContext) -> int:
        await ctx.stdout.write("this is not a tar archive\n" * 100)
        return 0

    living_cluster.register_command("tar", not_tar, pod="p")
    with pytest.raises(CopyError, match="did not send a readable archive"):
        await pod.copy_from("/tmp", tmp_path / "dest")


# -- hostile archives ---------------------------------------------------------------------------


def member(name: str, data: bytes = b"", /, **fields: object) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in fields.items():
        setattr(info, key, value)
    if info.type != tarfile.REGTYPE:
        info.size = 0
    return info, data


def archive(*members: tuple[tarfile.TarInfo, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buffer.getvalue()


DIR = {"type": tarfile.DIRTYPE, "mode": 0o755}
HOSTILE: dict[str, tuple[type[UnsafeArchiveError], list[tuple[tarfile.TarInfo, bytes]]]] = {
    "dot-dot": (PathEscapeError, [member("data/../../evil", b"pwned")]),
    "leading-dot-dot": (PathEscapeError, [member("../evil", b"pwned")]),
    "absolute-elsewhere": (UnexpectedMemberError, [member("/etc/x", b"pwned")]),
    "symlink-to-root": (
        LinkEscapeError,
        [member("data/root", type=tarfile.SYMTYPE, linkname="/")],
    ),
    "symlink-up": (
        LinkEscapeError,
        [member("data/up", type=tarfile.SYMTYPE, linkname="../../..")],
    ),
    "write-through-symlink": (
        PathEscapeError,
        [
            member("data/sub", **DIR),
            member("data/l", type=tarfile.SYMTYPE, linkname="sub"),
            member("data/l/evil", b"pwned"),
        ],
    ),
    "hardlink-escape": (
        LinkEscapeError,
        [member("data/h", type=tarfile.LNKTYPE, linkname="etc/passwd")],
    ),
    "hardlink-dot-dot": (
        LinkEscapeError,
        [member("data/h", type=tarfile.LNKTYPE, linkname="data/../../evil")],
    ),
    "device": (
        SpecialMemberError,
        [member("data/sda", type=tarfile.BLKTYPE, devmajor=8, devminor=0)],
    ),
    "fifo": (SpecialMemberError, [member("data/pipe", type=tarfile.FIFOTYPE)]),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
async def test_a_hostile_archive_is_refused_and_nothing_lands_outside(
    case: str, pod: Pod, living_cluster: FakeCluster, tmp_path: Path
) -> None:
    error, members = HOSTILE[case]
    payload = archive(member("data", **DIR), member("data/ok.txt", b"fine"), *members)

    async def evil_tar(ctx: ExecContext) -> int:
        assert ctx.argv == ("tar", "cf", "-", "/data")
        await ctx.stdout.send_all(payload)
        return 0

    living_cluster.register_command("tar", evil_tar, pod="p")
    box = tmp_path / "box"
    dest = box / "inner" / "dest"
    (box / "inner").mkdir(parents=True)
    with pytest.raises(error) as err:
        await pod.copy_from("/data", dest)
    assert err.value.member == members[-1][0].name
    assert err.value.member in str(err.value)
    outside = everything(tmp_path) - everything(dest) - {dest}
    assert outside == {box, box / "inner"}
    assert (dest / "ok.txt").read_bytes() == b"fine"  # what came before stays
    for path in everything(dest):
        assert not path.name.startswith(PARTIAL_PREFIX)
        assert not path.is_symlink() or dest in path.resolve().parents


async def test_links_inside_the_destination_are_kept(
    pod: Pod, living_cluster: FakeCluster, tmp_path: Path
) -> None:
    payload = archive(
        member("data", **DIR),
        member("data/sub", **DIR),
        member("data/sub/f", b"content", mode=0o640),
        member("data/link", type=tarfile.SYMTYPE, linkname="sub/f"),
        member("data/sub/up", type=tarfile.SYMTYPE, linkname="../sub"),
        member("data/hard", type=tarfile.LNKTYPE, linkname="data/sub/f"),
    )

    async def tar_with_links(ctx: ExecContext) -> int:
        await ctx.stdout.send_all(payload)
        return 0

    living_cluster.register_command("tar", tar_with_links, pod="p")
    dest = await pod.copy_from("/data", tmp_path / "d")
    assert os.readlink(dest / "link") == "sub/f"
    assert (dest / "link").read_bytes() == b"content"
    assert (dest / "hard").read_bytes() == b"content"
    assert (dest / "hard").samefile(dest / "sub" / "f")
    assert (dest / "sub" / "f").stat().st_mode & 0o777 == 0o640


async def test_an_existing_local_symlink_out_of_the_destination_is_not_followed(
    pod: Pod, living_cluster: FakeCluster, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "sub").symlink_to(outside)
    living_cluster.container_fs("p", "p").write("/data/sub/evil", b"pwned")
    with pytest.raises(PathEscapeError, match="existing symlink"):
        await pod.copy_from("/data", dest)
    assert list(outside.iterdir()) == []


# -- cancellation -------------------------------------------------------------------------------


class GatedStream(trio.abc.ReceiveStream):
    """Gives ``first``, then reports (``wants_more``) that the reader waits for more, and
    blocks for ever."""

    def __init__(self, first: bytes) -> None:
        self.first = first
        self.wants_more = trio.Event()

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        if self.first:
            data, self.first = self.first, b""
            await trio.lowlevel.checkpoint()
            return data
        self.wants_more.set()
        await trio.sleep_forever()
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        await trio.lowlevel.checkpoint()


async def test_cancelling_mid_file_removes_the_partial_file(tmp_path: Path) -> None:
    whole = archive(
        member("data", **DIR), member("data/done", b"complete"), member("data/big", BLOB)
    )
    cut = whole.index(BLOB[:4096]) + 1000  # part of big's data
    stream = GatedStream(whole[:cut])
    dest = tmp_path / "dest"
    seen: list[set[str]] = []
    with trio.CancelScope() as scope:
        async with trio.open_nursery() as nursery:

            async def extract() -> None:
                await _extract_stream(stream, dest, ("data",), "data")

            nursery.start_soon(extract)
            await stream.wants_more.wait()
            seen.append({p.name for p in dest.iterdir()})
            scope.cancel()
    assert scope.cancelled_caught
    # mid-file: the partial file existed; now only the complete file is left
    assert any(name.startswith(PARTIAL_PREFIX) for name in seen[0])
    assert {p.name for p in dest.iterdir()} == {"done"}
    assert {p for p in everything(tmp_path) if p.parent == tmp_path} == {dest}


def copy_tasks() -> list[str]:
    root = trio.lowlevel.current_root_task()
    assert root is not None
    names: list[str] = []

    def walk(task: trio.lowlevel.Task) -> None:
        for nursery in task.child_nurseries:
            for child in nursery.child_tasks:
                names.append(child.name)
                walk(child)

    walk(root)
    return [n for n in names if "_copy." in n or "_exec." in n or "_ws." in n]


@pytest.mark.parametrize("direction", ["from", "to"])
async def test_cancelling_a_copy_leaves_no_partial_files_and_no_tasks(
    direction: str,
    pod: Pod,
    living_cluster: FakeCluster,
    tmp_path: Path,
    autojump_clock: trio.testing.MockClock,
) -> None:
    payload = archive(member("data", **DIR), member("data/big", BLOB))
    stalled = trio.Event()

    async def stalling_tar(ctx: ExecContext) -> NoReturn:
        if direction == "from":
            await ctx.stdout.send_all(payload[: len(payload) // 2])
        else:
            await ctx.stdin.receive_some()
        stalled.set()
        await trio.sleep_forever()

    living_cluster.register_command("tar", stalling_tar, pod="p")
    local = tmp_path / "local"
    local.mkdir()
    (local / "big").write_bytes(BLOB)
    dest = tmp_path / "dest"

    async def copy() -> None:
        if direction == "from":
            await pod.copy_from("/data", dest)
        else:
            await pod.copy_to(local, "/data")

    before = everything(tmp_path)
    with trio.CancelScope() as scope:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(copy)
            await stalled.wait()
            await trio.testing.wait_all_tasks_blocked()
            scope.cancel()
    assert scope.cancelled_caught
    assert copy_tasks() == []
    left = everything(tmp_path) - before
    assert not [p for p in left if p.name.startswith(PARTIAL_PREFIX)]
    assert all(p == dest or dest in p.parents for p in left)
