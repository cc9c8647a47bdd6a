"""``tar`` for simulated containers: enough for ``kubectl cp`` (and ``Pod.copy_to`` /
``copy_from``), built on Python's `tarfile` over the container's `FakeFS`.

Supported: create (``c``) and extract (``x``) to and from stdin/stdout only (``f -``), in the
old (``tar cf - /tmp/d``) or dashed (``tar -xmf - -C /tmp``) style, with ``-C DIR``. ``m``,
``v``, ``o``, ``p``, ``--no-same-owner`` and ``--no-same-permissions`` are accepted and ignored;
compression and other options are not supported. As GNU tar does, creation strips leading
``/`` from member names (saying so on stderr) and reports a missing operand with "Cannot stat"
and status 2 after writing the archive of the rest; extraction strips leading ``/``, skips
members with a ``..`` component, and skips what the `FakeFS` cannot hold (symlinks, hard links,
devices) with a message and status 2. The archive is built or read in memory (container files
are small).

Cancellation: as the other built-ins; what extraction already wrote stays written.
"""

from __future__ import annotations

import io
import posixpath
import tarfile

from kr8s_trio.testing._commands import ExecContext
from kr8s_trio.testing._fakefs import normalize

__all__ = ["tar"]

_IGNORED = set("mvop")
_CHUNK = 64 * 1024


class _Usage(Exception):
    pass


def _parse(argv: list[str]) -> tuple[str, str, list[str]]:
    """(mode, -C directory, operands)."""
    mode, directory, operands = "", "", []
    args = list(argv)
    first = True
    while args:
        arg = args.pop(0)
        if arg in ("--no-same-owner", "--no-same-permissions"):
            continue
        if arg == "-C" or (arg.startswith("-C") and not arg.startswith("--")):
            directory = arg[2:] or (args.pop(0) if args else "")
            if not directory:
                raise _Usage("option requires an argument -- 'C'")
            continue
        cluster = None
        if arg.startswith("-") and not arg.startswith("--") and arg != "-":
            cluster = arg[1:]
        elif first and not arg.startswith("-"):
            cluster = arg
        first = False
        if cluster is None:
            if arg.startswith("--"):
                raise _Usage(f"unrecognized option '{arg}'")
            operands.append(arg)
            continue
        for char in cluster:
            if char in "cxt":
                if mode and mode != char:
                    raise _Usage("You may not specify more than one '-Acdtrux' option")
                mode = char
            elif char == "f":
                archive = args.pop(0) if args else ""
                if archive != "-":
                    raise _Usage("only 'f -' (stdin or stdout) is supported")
            elif char not in _IGNORED:
                raise _Usage(f"invalid option -- '{char}'")
    if mode not in ("c", "x"):
        raise _Usage("You must specify one of the '-Acdtrux' options")
    return mode, directory, operands


async def tar(ctx: ExecContext) -> int:
    """The ``tar`` built-in (see the module)."""
    try:
        mode, directory, operands = _parse(list(ctx.argv[1:]))
    except _Usage as exc:
        await ctx.stderr.write(f"tar: {exc}\nTry 'tar --help' for more information.\n")
        return 2
    cwd = normalize(directory, ctx.cwd) if directory else ctx.cwd
    if directory and not ctx.fs.is_dir(cwd):
        await ctx.stderr.write(f"tar: {directory}: Cannot open: No such file or directory\n")
        await ctx.stderr.write("tar: Error is not recoverable: exiting now\n")
        return 2
    if mode == "c":
        return await _create(ctx, cwd, operands)
    return await _extract(ctx, cwd)


def _add(ctx: ExecContext, archive: tarfile.TarFile, path: str, name: str) -> None:
    mtime = int(ctx.now().timestamp())
    info = tarfile.TarInfo(name)
    info.mtime, info.uname, info.gname = mtime, "root", "root"
    if ctx.fs.is_file(path):
        data = ctx.fs.read(path)
        info.size, info.mode = len(data), 0o644
        archive.addfile(info, io.BytesIO(data))
        return
    info.type, info.mode = tarfile.DIRTYPE, 0o755
    archive.addfile(info)
    for child in ctx.fs.listdir(path):
        _add(ctx, archive, posixpath.join(path, child), f"{name}/{child}")


async def _create(ctx: ExecContext, cwd: str, operands: list[str]) -> int:
    if not operands:
        await ctx.stderr.write("tar: Cowardly refusing to create an empty archive\n")
        return 2
    buffer = io.BytesIO()
    status, warned = 0, False
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for operand in operands:
            path = normalize(operand, cwd)
            if not ctx.fs.exists(path):
                await ctx.stderr.write(f"tar: {operand}: Cannot stat: No such file or directory\n")
                status = 2
                continue
            name = posixpath.normpath(operand)
            if name.startswith("/"):
                if not warned:
                    await ctx.stderr.write("tar: Removing leading `/' from member names\n")
                    warned = True
                name = name.lstrip("/") or "."
            _add(ctx, archive, path, name)
    data = buffer.getvalue()
    for start in range(0, len(data), _CHUNK):
        await ctx.stdout.send_all(data[start : start + _CHUNK])
    if status:
        await ctx.stderr.write("tar: Exiting with failure status due to previous errors\n")
    return status


async def _extract(ctx: ExecContext, cwd: str) -> int:
    data = await ctx.stdin.read()
    status = 0
    try:
        archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:")  # noqa: SIM115
    except tarfile.TarError:
        await ctx.stderr.write("tar: This does not look like a tar archive\n")
        await ctx.stderr.write("tar: Exiting with failure status due to previous errors\n")
        return 2
    with archive:
        for member in archive:
            name = member.name
            if ".." in name.split("/"):
                await ctx.stderr.write("tar: Removing leading `../' from member names\n")
                status = 2
                continue
            path = normalize(name.lstrip("/"), cwd)
            try:
                if member.isdir():
                    ctx.fs.mkdir(path)
                elif member.isreg():
                    extracted = archive.extractfile(member)
                    ctx.fs.write(path, extracted.read() if extracted is not None else b"")
                else:
                    await ctx.stderr.write(f"tar: {name}: Cannot create: Operation not supported\n")
                    status = 2
            except (IsADirectoryError, NotADirectoryError, FileExistsError):
                await ctx.stderr.write(f"tar: {name}: Cannot open: File exists\n")
                status = 2
    if status:
        await ctx.stderr.write("tar: Exiting with failure status due to previous errors\n")
    return status
