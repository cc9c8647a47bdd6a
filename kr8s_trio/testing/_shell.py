"""A small POSIX-like shell for simulated containers: ``sh -c '...'`` and ``kubectl exec -it``.

It covers what tests usually type: simple commands with quoting (``'...'``, ``"..."``, ``\\``),
variables (``$NAME``, ``${NAME}``, ``$?``, ``$0``...``$9``; assignments, ``export``, ``unset``),
lists (``;``, ``&&``, ``||``, newlines), pipelines (``|``, the stages run concurrently on
trio), redirections to the container's `FakeFS` (``>``, ``>>``, ``<``, ``2>&1``, ``>&2``,
``/dev/null``), comments, and the built-ins ``exit``, ``cd``, ``export``, ``unset`` and ``:``.
Every other word runs through the container's command resolver, so registered handlers are
reachable from scripts. Compound commands (``if``, ``for``, ``while``, functions, ``$(...)``)
are not supported and say so with a syntax error. Messages follow dash (``sh: 1: x: not
found``, exit 127) or bash when invoked as ``bash``.

Without ``-c``, the shell reads commands from stdin line by line (printing a ``# `` prompt on a
terminal) until ``exit`` or the end of stdin.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Awaitable, Sequence

import attrs
import trio

from kr8s_trio.testing._commands import CommandNotFound, ExecContext, exit_status
from kr8s_trio.testing._fakefs import normalize
from kr8s_trio.testing._shellsyntax import ShellSyntaxError, Simple, Word, parse
from kr8s_trio.testing._streams import Output, Stdin

__all__ = ["run_shell"]


_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=")


class _Exit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


# -- running -----------------------------------------------------------------------------------


class _DevNull(Output):
    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await trio.lowlevel.checkpoint()


class Shell:
    """One shell process: its variables, last status and working directory."""

    def __init__(self, ctx: ExecContext, name: str, args: Sequence[str]) -> None:
        self.ctx = ctx
        self.name = name
        self.vars = dict(ctx.env)
        self.positional = list(args)
        self.status = 0
        self.cwd = ctx.cwd
        self.line = 1

    def expand(self, word: Word) -> str | None:
        """The word's text; None when it is only unquoted expansions that came out empty."""
        parts: list[str] = []
        for segment in word:
            if not segment.var:
                parts.append(segment.text)
            else:
                parts.append(self._value(segment.text))
        text = "".join(parts)
        if not text and all(s.var and not s.quoted for s in word):
            return None
        return text

    def _value(self, name: str) -> str:
        if name == "?":
            return str(self.status)
        if name == "$":
            return "1"
        if name == "#":
            return str(max(len(self.positional) - 1, 0))
        if name.isdigit():
            index = int(name)
            return self.positional[index] if index < len(self.positional) else ""
        return self.vars.get(name, "")

    async def error(self, message: str) -> None:
        where = f"line {self.line}: " if self.name == "bash" else f"{self.line}: "
        await self.ctx.stderr.write(f"{self.name}: {where}{message}\n")

    async def run_script(self, text: str) -> int:
        """Run ``text``; returns the last status (raises `_Exit` on ``exit``)."""
        try:
            script = parse(text)
        except ShellSyntaxError as exc:
            await self.error(str(exc))
            self.status = 2
            return 2
        for connector, pipeline in script:
            if connector == "&&" and self.status != 0:
                continue
            if connector == "||" and self.status == 0:
                continue
            self.status = await self.run_pipeline(pipeline)
        return self.status

    async def run_pipeline(self, pipeline: list[Simple]) -> int:
        if len(pipeline) == 1:
            return await self.run_simple(pipeline[0], self.ctx.stdin, self.ctx.stdout)
        statuses = [0] * len(pipeline)

        async def stage(
            index: int, stdin: Stdin, send: trio.MemorySendChannel[bytes] | None
        ) -> None:
            stdout = self.ctx.stdout if send is None else Output(send.send)
            try:
                statuses[index] = await self.run_simple(pipeline[index], stdin, stdout)
            except trio.BrokenResourceError:
                statuses[index] = 141  # SIGPIPE
            except _Exit as exc:  # each stage is a subshell: exit leaves the stage only
                statuses[index] = exc.code
            finally:
                if send is not None:
                    await send.aclose()

        async with trio.open_nursery() as nursery:
            stdin = self.ctx.stdin
            for index in range(len(pipeline)):
                last = index == len(pipeline) - 1
                send, receive = trio.open_memory_channel[bytes](16) if not last else (None, None)
                nursery.start_soon(stage, index, stdin, send)
                if receive is not None:
                    stdin = Stdin(receive)
        return statuses[-1]

    async def run_simple(self, command: Simple, stdin: Stdin, stdout: Output) -> int:
        assignments: dict[str, str] = {}
        argv: list[str] = []
        for word in command.words:
            text = self.expand(word)
            literal_start = bool(word) and not word[0].quoted and not word[0].var
            match = _ASSIGNMENT.match(text or "") if not argv and literal_start else None
            if match and text is not None:
                assignments[match.group(1)] = text[match.end() :]
            elif text is not None:
                argv.append(text)
        stderr = self.ctx.stderr
        captures: list[tuple[str, bool, Output]] = []
        for redirect in command.redirects:
            if redirect.op == ">&":
                source = stdout if redirect.dup == 1 else stderr
                if redirect.fd == 2:
                    stderr = source
                else:
                    stdout = source
                continue
            target = self.expand(redirect.target) or ""
            path = normalize(target, self.cwd)
            if redirect.op == "<":
                try:
                    stdin = Stdin.of(self.ctx.fs.read(path))
                except OSError:
                    await self.error(f"cannot open {target}: No such file")
                    return 2
                continue
            if path == "/dev/null":
                sink: Output = _DevNull()
            elif path in ("/dev/stdout", "/dev/stderr"):
                sink = stdout if path == "/dev/stdout" else stderr
            else:
                if not self.ctx.fs.is_dir(posixpath.dirname(path)) or self.ctx.fs.is_dir(path):
                    await self.error(f"cannot create {target}: Directory nonexistent")
                    return 2
                sink = Output()
                captures.append((path, redirect.op == ">>", sink))
                self.ctx.fs.write(path, b"", append=redirect.op == ">>")
            if redirect.fd == 2:
                stderr = sink
            else:
                stdout = sink
        if not argv:
            self.vars.update(assignments)
            return 0
        try:
            return await self._execute(argv, assignments, stdin, stdout, stderr)
        finally:
            for path, _, sink in captures:
                self.ctx.fs.write(path, bytes(sink.captured), append=True)

    async def _execute(
        self,
        argv: list[str],
        assignments: dict[str, str],
        stdin: Stdin,
        stdout: Output,
        stderr: Output,
    ) -> int:
        name = argv[0]
        if name == "exit":
            code = argv[1] if len(argv) > 1 else str(self.status)
            raise _Exit(int(code) % 256 if code.lstrip("-").isdigit() else 2)
        if name == ":":
            return 0
        if name == "cd":
            target = normalize(argv[1] if len(argv) > 1 else self.vars.get("HOME", "/"), self.cwd)
            if not self.ctx.fs.is_dir(target):
                await self.error(f"cd: can't cd to {argv[1] if len(argv) > 1 else target}")
                return 2
            self.cwd = target
            return 0
        if name in ("export", "unset"):
            for arg in argv[1:]:
                key, eq, value = arg.partition("=")
                if name == "unset":
                    self.vars.pop(key, None)
                elif eq:
                    self.vars[key] = value
            return 0
        child = attrs.evolve(self.ctx, env={**self.vars, **assignments}, cwd=self.cwd, stdin=stdin)
        try:
            return await child.run(argv, stdin=stdin, stdout=stdout, stderr=stderr)
        except CommandNotFound:
            missing = "command not found" if self.name == "bash" else "not found"
            await self.error(f"{name}: {missing}")
            return 127


async def run_shell(ctx: ExecContext) -> int:
    """``sh`` / ``bash``: ``-c SCRIPT [NAME ARGS...]``, ``SCRIPT-FILE``, or commands from stdin.

    Cancellation: the running command (every stage of a pipeline) is cancelled.
    """
    name = posixpath.basename(ctx.argv[0]) if ctx.argv else "sh"
    args = list(ctx.argv[1:])
    while args and args[0] in ("-e", "-x", "-l", "-i", "-s", "--login"):
        args.pop(0)
    if args and args[0] == "-c":
        if len(args) < 2:
            await ctx.stderr.write(f"{name}: 0: -c requires an argument\n")
            return 2
        shell = Shell(ctx, name, args[2:] or [name])
        return await _guarded(shell.run_script(args[1]))
    if args:
        try:
            script = ctx.fs.read(normalize(args[0], ctx.cwd)).decode("utf-8", "replace")
        except OSError:
            await ctx.stderr.write(f"{name}: 0: cannot open {args[0]}: No such file\n")
            return 2
        shell = Shell(ctx, name, args)
        return await _guarded(shell.run_script(script))
    shell = Shell(ctx, name, [name])
    return await _guarded(_interactive(shell))


async def _interactive(shell: Shell) -> int:
    ctx = shell.ctx
    while True:
        if ctx.tty:
            await ctx.stdout.write("# ")
        line = await ctx.stdin.readline()
        if not line:
            return shell.status
        await shell.run_script(line.decode("utf-8", "replace"))
        shell.line += 1


async def _guarded(running: Awaitable[int]) -> int:
    try:
        return exit_status(await running)
    except _Exit as exc:
        return exc.code
