"""The commands every simulated container has: a small, deterministic coreutils.

``echo``, ``cat``, ``env``, ``printenv``, ``hostname``, ``date``, ``true``, ``false``,
``sleep``, ``printf``, ``ls``, ``pwd``, ``whoami``, ``id``, ``uname``, ``mkdir``, ``touch``,
``rm``, ``tar`` (`kr8s_trio.testing._tar`) and the shells ``sh`` and ``bash``
(`kr8s_trio.testing._shell`). They read the container's `FakeFS` and environment, tell time by
the cluster's clock, sleep on trio's clock (so MockClock makes ``sleep 3600`` instant), and print
what GNU coreutils prints, errors included, so tests can match real output. Options beyond the
common ones are not supported.

Cancellation: a command stops at its next checkpoint (``sleep`` at once); what it wrote to the
container's files stays written.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence

import attrs
import trio

from kr8s_trio.testing._commands import CommandHandler, CommandNotFound, ExecContext
from kr8s_trio.testing._fakefs import normalize
from kr8s_trio.testing._shell import run_shell
from kr8s_trio.testing._tar import tar

__all__ = ["BUILTINS"]


def _path(ctx: ExecContext, path: str) -> str:
    return normalize(path, ctx.cwd)


def _options(args: Sequence[str], known: str) -> tuple[set[str], list[str]]:
    """Short options (``-la``) before the operands; ``--`` ends them."""
    flags: set[str] = set()
    rest = list(args)
    while rest and rest[0].startswith("-") and len(rest[0]) > 1:
        arg = rest.pop(0)
        if arg == "--":
            break
        if not all(c in known for c in arg[1:]):
            rest.insert(0, arg)
            break
        flags.update(arg[1:])
    return flags, rest


_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", "a": "\a", "b": "\b", "r": "\r", "v": "\v"}


def _unescape(text: str) -> tuple[str, bool]:
    """Backslash escapes of ``echo -e`` and ``printf``; True when ``\\c`` stops the output."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "c":
                return "".join(out), True
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if nxt == "0":
                digits = re.match(r"[0-7]{0,3}", text[i + 2 :])
                octal = digits.group(0) if digits else ""
                out.append(chr(int(octal or "0", 8)))
                i += 2 + len(octal)
                continue
        out.append(char)
        i += 1
    return "".join(out), False


async def _echo(ctx: ExecContext) -> int:
    args = list(ctx.argv[1:])
    newline, escapes = True, False
    while args and re.fullmatch(r"-[neE]+", args[0]):
        flags = args.pop(0)[1:]
        newline = newline and "n" not in flags
        escapes = (escapes or "e" in flags) and not flags.endswith("E")
    text = " ".join(args)
    if escapes:
        text, stop = _unescape(text)
        newline = newline and not stop
    await ctx.stdout.write(text + ("\n" if newline else ""))
    return 0


async def _cat(ctx: ExecContext) -> int:
    status = 0
    for operand in ctx.argv[1:] or ["-"]:
        if operand == "-":
            while chunk := await ctx.stdin.receive_some():
                await ctx.stdout.send_all(chunk)
            continue
        try:
            await ctx.stdout.send_all(ctx.fs.read(_path(ctx, operand)))
        except IsADirectoryError:
            await ctx.stderr.write(f"cat: {operand}: Is a directory\n")
            status = 1
        except (FileNotFoundError, NotADirectoryError):
            await ctx.stderr.write(f"cat: {operand}: No such file or directory\n")
            status = 1
    return status


async def _env(ctx: ExecContext) -> int:
    args = list(ctx.argv[1:])
    variables = dict(ctx.env)
    if args and args[0] in ("-i", "--ignore-environment"):
        args.pop(0)
        variables = {}
    while args and "=" in args[0] and not args[0].startswith("="):
        name, _, value = args.pop(0).partition("=")
        variables[name] = value
    if args:
        child = attrs.evolve(ctx, env=variables)
        try:
            return await child.run(args)
        except CommandNotFound:
            await ctx.stderr.write(f"env: '{args[0]}': No such file or directory\n")
            return 127
    await ctx.stdout.write("".join(f"{k}={v}\n" for k, v in variables.items()))
    return 0


async def _printenv(ctx: ExecContext) -> int:
    names = ctx.argv[1:]
    if not names:
        await ctx.stdout.write("".join(f"{k}={v}\n" for k, v in ctx.env.items()))
        return 0
    found = [ctx.env[n] for n in names if n in ctx.env]
    await ctx.stdout.write("".join(f"{v}\n" for v in found))
    return 0 if len(found) == len(names) else 1


async def _hostname(ctx: ExecContext) -> int:
    await ctx.stdout.write(ctx.env.get("HOSTNAME", ctx.pod_name) + "\n")
    return 0


async def _date(ctx: ExecContext) -> int:
    now = ctx.now()
    fmt = "%a %b %e %H:%M:%S UTC %Y"
    for arg in ctx.argv[1:]:
        if arg.startswith("+"):
            fmt = arg[1:].replace("%N", f"{now.microsecond * 1000:09d}")
        elif arg in ("-I", "--iso-8601", "-Idate"):
            fmt = "%Y-%m-%d"
        elif arg in ("-Iseconds", "--iso-8601=seconds"):
            fmt = "%Y-%m-%dT%H:%M:%S+00:00"
        elif arg not in ("-u", "--utc", "-R") and not arg.startswith("-"):
            await ctx.stderr.write(f"date: invalid date '{arg}'\n")
            return 1
        if arg == "-R":
            fmt = "%a, %d %b %Y %H:%M:%S +0000"
    await ctx.stdout.write(now.strftime(fmt) + "\n")
    return 0


async def _true(ctx: ExecContext) -> int:
    return 0


async def _false(ctx: ExecContext) -> int:
    return 1


_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)")
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


async def _sleep(ctx: ExecContext) -> int:
    operands = ctx.argv[1:]
    if not operands:
        await ctx.stderr.write("sleep: missing operand\nTry 'sleep --help' for more information.\n")
        return 1
    total = 0.0
    for operand in operands:
        match = _DURATION.fullmatch(operand)
        if operand in ("inf", "infinity"):
            total = float("inf")
            continue
        if match is None:
            await ctx.stderr.write(
                f"sleep: invalid time interval '{operand}'\n"
                "Try 'sleep --help' for more information.\n"
            )
            return 1
        total += float(match.group(1)) * _UNITS[match.group(2)]
    if total == float("inf"):
        await trio.sleep_forever()
    await trio.sleep(total)
    return 0


_SPEC = re.compile(r"%([-+ #0]*)(\d+|\*)?(?:\.(\d+))?([diouxXfeEgGcsb%])")


def _printf_once(fmt: str, args: list[str]) -> tuple[str, bool]:
    """One pass of ``fmt``, consuming ``args``; True when ``\\c`` stopped the output."""
    out: list[str] = []
    pos = 0
    for match in _SPEC.finditer(fmt):
        literal, stop = _unescape(fmt[pos : match.start()])
        out.append(literal)
        if stop:
            return "".join(out), True
        pos = match.end()
        flags, width, precision, conv = match.groups()
        if conv == "%":
            out.append("%")
            continue
        if width == "*":
            width = args.pop(0) if args else "0"
        arg = args.pop(0) if args else ""
        spec = "%" + flags + (width or "") + (f".{precision}" if precision else "")
        if conv in "diouxXc":
            number = int(arg, 0) if re.fullmatch(r"[-+]?(0[xX][0-9a-fA-F]+|\d+)", arg) else 0
            if conv in "di":
                conv = "d"
            out.append((spec + conv) % (chr(number) if conv == "c" else number))
        elif conv in "feEgG":
            out.append((spec + conv) % (float(arg) if arg else 0.0))
        elif conv == "b":
            text, stop = _unescape(arg)
            out.append((spec + "s") % text)
            if stop:
                return "".join(out), True
        else:
            out.append((spec + "s") % arg)
    tail, stop = _unescape(fmt[pos:])
    out.append(tail)
    return "".join(out), stop


async def _printf(ctx: ExecContext) -> int:
    if len(ctx.argv) < 2:
        await ctx.stderr.write("printf: missing operand\n")
        return 1
    fmt, args = ctx.argv[1], list(ctx.argv[2:])
    consumes = bool(_SPEC.search(fmt.replace("%%", "")))
    while True:
        text, stop = _printf_once(fmt, args)
        await ctx.stdout.write(text)
        if stop or not args or not consumes:
            return 0


def _long_entry(ctx: ExecContext, path: str, name: str) -> str:
    stamp = ctx.now().strftime("%b %e %H:%M")
    if ctx.fs.is_dir(path):
        return f"drwxr-xr-x 2 root root 4096 {stamp} {name}"
    return f"-rw-r--r-- 1 root root {len(ctx.fs.read(path))} {stamp} {name}"


async def _ls(ctx: ExecContext) -> int:
    flags, operands = _options(ctx.argv[1:], "1aAlFd")
    status = 0
    shown: list[tuple[str, list[str]]] = []
    files: list[str] = []
    for operand in operands or ["."]:
        path = _path(ctx, operand)
        if not ctx.fs.exists(path):
            await ctx.stderr.write(f"ls: cannot access '{operand}': No such file or directory\n")
            status = 2
        elif ctx.fs.is_dir(path) and "d" not in flags:
            names = ctx.fs.listdir(path)
            if "a" in flags:
                names = [".", "..", *names]
            shown.append((operand, [n for n in names if "a" in flags or not n.startswith(".")]))
        else:
            files.append(operand)
    lines: list[str] = []
    for operand in files:
        path = _path(ctx, operand)
        lines.append(_long_entry(ctx, path, operand) if "l" in flags else operand)
    for index, (operand, names) in enumerate(shown):
        if len(operands) > 1:
            lines.extend([""] if index or files else [])
            lines.append(f"{operand}:")
        base = _path(ctx, operand)
        for name in names:
            entry = name
            full = posixpath.join(base, name)
            if "F" in flags and name not in (".", "..") and ctx.fs.is_dir(full):
                entry += "/"
            lines.append(_long_entry(ctx, full, entry) if "l" in flags else entry)
    await ctx.stdout.write("".join(f"{line}\n" for line in lines))
    return status


async def _pwd(ctx: ExecContext) -> int:
    await ctx.stdout.write(ctx.cwd + "\n")
    return 0


async def _whoami(ctx: ExecContext) -> int:
    await ctx.stdout.write("root\n")
    return 0


async def _id(ctx: ExecContext) -> int:
    await ctx.stdout.write("uid=0(root) gid=0(root) groups=0(root)\n")
    return 0


KERNEL_RELEASE = "6.8.0-kr8s-trio"


async def _uname(ctx: ExecContext) -> int:
    flags, _ = _options(ctx.argv[1:], "asnrvmpio")
    host = ctx.env.get("HOSTNAME", ctx.pod_name)
    fields = {
        "s": "Linux",
        "n": host,
        "r": KERNEL_RELEASE,
        "v": "#1 SMP PREEMPT_DYNAMIC",
        "m": "x86_64",
        "o": "GNU/Linux",
    }
    chosen = "snrvmo" if "a" in flags else "".join(f for f in "snrvmo" if f in flags) or "s"
    await ctx.stdout.write(" ".join(fields[f] for f in chosen) + "\n")
    return 0


async def _mkdir(ctx: ExecContext) -> int:
    flags, operands = _options(ctx.argv[1:], "p")
    status = 0
    for operand in operands:
        path = _path(ctx, operand)
        parent = posixpath.dirname(path)
        if ctx.fs.exists(path) and "p" not in flags:
            await ctx.stderr.write(f"mkdir: cannot create directory '{operand}': File exists\n")
            status = 1
        elif not ctx.fs.is_dir(parent) and "p" not in flags:
            await ctx.stderr.write(
                f"mkdir: cannot create directory '{operand}': No such file or directory\n"
            )
            status = 1
        else:
            ctx.fs.mkdir(path)
    return status


async def _touch(ctx: ExecContext) -> int:
    for operand in ctx.argv[1:]:
        path = _path(ctx, operand)
        if not ctx.fs.exists(path):
            ctx.fs.write(path, b"")
    return 0


async def _rm(ctx: ExecContext) -> int:
    flags, operands = _options(ctx.argv[1:], "rf")
    status = 0
    for operand in operands:
        try:
            ctx.fs.remove(_path(ctx, operand))
        except FileNotFoundError:
            if "f" not in flags:
                await ctx.stderr.write(
                    f"rm: cannot remove '{operand}': No such file or directory\n"
                )
                status = 1
    return status


#: the built-in commands, by name
BUILTINS: Mapping[str, CommandHandler] = {
    "bash": run_shell,
    "cat": _cat,
    "date": _date,
    "echo": _echo,
    "env": _env,
    "false": _false,
    "hostname": _hostname,
    "id": _id,
    "ls": _ls,
    "mkdir": _mkdir,
    "printenv": _printenv,
    "printf": _printf,
    "pwd": _pwd,
    "rm": _rm,
    "sh": run_shell,
    "sleep": _sleep,
    "tar": tar,
    "touch": _touch,
    "true": _true,
    "uname": _uname,
    "whoami": _whoami,
}
