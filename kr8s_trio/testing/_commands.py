"""What runs when a client execs into (or attaches to) a simulated container.

Nothing runs on the host: a command is a trio async function, a *handler*, that receives an
`ExecContext` (argv, environment, stdin as a trio ``ReceiveStream`` that ends when the client
half-closes it, stdout and stderr as trio ``SendStream`` s, terminal resize events, the pod and
its container, the container's `FakeFS`) and returns an exit code::

    async def migrate(ctx: ExecContext) -> int:
        await ctx.stdout.write("migrated\\n")
        return 0

    cluster.register_command(["./manage.py", "migrate"], migrate, pod="web-0")

`Commands` holds the registrations. The one that answers an argv is the most specific match:
first by scope (a registration for a pod beats one for a container name, which beats one for a
namespace, which beats a cluster-wide one), then by pattern (an exact argv beats a predicate,
which beats an ``argv[0]`` name, which beats "any command"), then the latest registration. With
no match, the built-in commands answer (``_coreutils``), else the command is "not found" as a
container runtime reports it.

attach connects to a container's main process instead: what the process writes is the
container's log; what the client sends on stdin goes to an attach handler (registered the same
way, per pod and container) that receives an `AttachContext`. The default one echoes every line
it reads into the log, as an interactive shell on a terminal would.
"""

from __future__ import annotations

import datetime
import itertools
import posixpath
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import attrs
import trio

from kr8s_trio._core._channels import TerminalSize
from kr8s_trio.testing._fakefs import FakeFS
from kr8s_trio.testing._streams import Output, Stdin, no_resizes

if TYPE_CHECKING:
    from kr8s_trio.testing._runtime import LogBuffer, LogStream
    from kr8s_trio.testing._state import ClusterState

__all__ = [
    "ArgvPattern",
    "AttachContext",
    "AttachHandler",
    "CommandHandler",
    "CommandNotFound",
    "Commands",
    "ExecContext",
    "echo_stdin_to_log",
    "exit_status",
]

JSONObject = dict[str, Any]

#: how a registration selects commands: an exact argv (a list or tuple), an ``argv[0]`` (a str,
#: also matching a path ending in it), a predicate, or None for any command
ArgvPattern: TypeAlias = Sequence[str] | str | Callable[[Sequence[str]], bool] | None


class CommandNotFound(Exception):
    """No handler answers this argv (a runtime reports "executable file not found")."""

    def __init__(self, argv: Sequence[str]) -> None:
        super().__init__(argv[0] if argv else "")
        self.argv = tuple(argv)


# -- contexts -----------------------------------------------------------------------------------


def _no_command(argv: Sequence[str]) -> CommandHandler:
    raise CommandNotFound(argv)


@attrs.define(kw_only=True)
class ExecContext:
    """What a command handler gets: its argv and environment, its streams, its container.

    Attributes:
        argv: the command and its arguments (the ``command`` query parameters).
        env: the container's environment (from the pod spec, plus ``PATH``, ``HOSTNAME``...).
        stdin: what the client sends on stdin; ends when it half-closes it.
        stdout: to the client's stdout.
        stderr: to the client's stderr (its stdout when ``tty``, as a terminal merges them).
        resize: the terminal size events the client sends (``tty`` sessions).
        tty: the client asked for a terminal.
        namespace, pod_name, container: where the command runs.
        pod: the Pod object as it was when the session started.
        fs: the container's files.
        state: the whole fake cluster (its clock, its objects).
        cwd: the working directory.
    """

    argv: tuple[str, ...]
    #: may hold Secret values (secretKeyRef, envFrom): kept out of the repr
    env: dict[str, str] = attrs.field(factory=dict, repr=False)
    stdin: Stdin = attrs.field(factory=Stdin)
    stdout: Output = attrs.field(factory=Output)
    stderr: Output = attrs.field(factory=Output)
    resize: trio.MemoryReceiveChannel[TerminalSize] = attrs.field(factory=no_resizes)
    tty: bool = False
    namespace: str = "default"
    pod_name: str = ""
    container: str = ""
    pod: JSONObject = attrs.field(factory=dict, repr=False)
    fs: FakeFS = attrs.field(factory=FakeFS, repr=False)
    state: ClusterState | None = None
    cwd: str = "/"
    #: finds the handler of an argv (registrations, then built-ins)
    resolve: Callable[[Sequence[str]], CommandHandler] = _no_command

    def now(self) -> datetime.datetime:
        """The cluster's clock (trio's clock: MockClock drives it)."""
        if self.state is None:
            return datetime.datetime.now(datetime.UTC)
        return self.state.now()

    async def run(
        self,
        argv: Sequence[str],
        *,
        stdin: Stdin | None = None,
        stdout: Output | None = None,
        stderr: Output | None = None,
    ) -> int:
        """Run another command in the same container (as a shell does); returns its exit code.

        Raises:
            CommandNotFound: nothing answers ``argv``.

        Cancellation: the command is cancelled.
        """
        handler = self.resolve(argv)
        child = attrs.evolve(
            self,
            argv=tuple(argv),
            stdin=self.stdin if stdin is None else stdin,
            stdout=self.stdout if stdout is None else stdout,
            stderr=self.stderr if stderr is None else stderr,
        )
        return exit_status(await handler(child))


def exit_status(code: int | None) -> int:
    """The exit status a handler's return value stands for (None is 0; taken modulo 256, as
    ``exit(N)`` is)."""
    return 0 if code is None else int(code) % 256


@attrs.define(kw_only=True)
class AttachContext:
    """What an attach handler gets: the client's stdin, and the container's log to write to.

    Attributes:
        stdin: what the client sends (empty unless it asked for stdin and the container has
            ``stdin: true``).
        resize: terminal size events.
        tty: the container has a terminal (``tty: true`` in its spec).
        log: the log of the running container instance.
        namespace, pod_name, container: where the process runs.
        state: the fake cluster.
    """

    stdin: Stdin
    resize: trio.MemoryReceiveChannel[TerminalSize] = attrs.field(factory=no_resizes)
    tty: bool = False
    log: LogBuffer
    namespace: str = "default"
    pod_name: str = ""
    container: str = ""
    state: ClusterState

    def write(self, text: str, *, stream: str = "stdout") -> None:
        """Append ``text`` to the container's log (what attached clients then see); nothing
        once the container has stopped."""
        if not self.log.closed:
            where: LogStream = "stderr" if stream == "stderr" else "stdout"
            self.log.append(text, time=self.state.now(), stream=where)


CommandHandler: TypeAlias = Callable[[ExecContext], Awaitable[int | None]]
AttachHandler: TypeAlias = Callable[[AttachContext], Awaitable[None]]


async def echo_stdin_to_log(ctx: AttachContext) -> None:
    """The default attach handler: every line read from stdin is appended to the log.

    Cancellation: a partial line last read is not written.
    """
    async for line in ctx.stdin.lines():
        ctx.write(line.decode("utf-8", "replace").removesuffix("\n"))


# -- the registry ------------------------------------------------------------------------------


@attrs.frozen
class _Registration:
    handler: Any
    pattern: ArgvPattern
    namespace: str | None
    pod: str | None
    container: str | None
    seq: int

    def in_scope(self, namespace: str, pod: str, container: str) -> bool:
        return (
            self.namespace in (None, namespace)
            and self.pod in (None, pod)
            and self.container in (None, container)
        )

    def scope_rank(self) -> tuple[bool, bool, bool]:
        return (self.pod is not None, self.container is not None, self.namespace is not None)

    def pattern_rank(self, argv: Sequence[str]) -> int:
        """0 when the pattern does not match; higher is more specific."""
        pattern = self.pattern
        if pattern is None:
            return 1
        if isinstance(pattern, str):
            first = argv[0] if argv else ""
            return 2 if first == pattern or posixpath.basename(first) == pattern else 0
        if callable(pattern):
            return 3 if pattern(argv) else 0
        return 4 if tuple(pattern) == tuple(argv) else 0


def _check_pattern(pattern: object) -> None:
    if pattern is None or isinstance(pattern, str) or callable(pattern):
        return
    if isinstance(pattern, Sequence) and all(isinstance(a, str) for a in pattern):
        return
    raise TypeError(f"an argv pattern is a list of str, a str, a predicate or None: {pattern!r}")


class Commands:
    """The command and attach handlers of one fake cluster, and its containers' files."""

    def __init__(self, builtins: Mapping[str, CommandHandler] | None = None) -> None:
        self.builtins: dict[str, CommandHandler] = dict(builtins or {})
        self._commands: list[_Registration] = []
        self._attach: list[_Registration] = []
        self._filesystems: dict[tuple[str, str, str], FakeFS] = {}
        self._seq = itertools.count()

    def _add(self, into: list[_Registration], registration: _Registration) -> Callable[[], None]:
        into.append(registration)

        def unregister() -> None:
            if registration in into:
                into.remove(registration)

        return unregister

    def register(
        self,
        argv: ArgvPattern,
        handler: CommandHandler,
        *,
        pod: str | None = None,
        container: str | None = None,
        namespace: str | None = None,
    ) -> Callable[[], None]:
        """Answer commands matching ``argv`` (see `ArgvPattern`) with ``handler``, in the pods,
        containers and namespace given (None: any). Returns a function that unregisters it."""
        _check_pattern(argv)
        registration = _Registration(handler, argv, namespace, pod, container, next(self._seq))
        return self._add(self._commands, registration)

    def register_attach(
        self,
        handler: AttachHandler,
        *,
        pod: str | None = None,
        container: str | None = None,
        namespace: str | None = None,
    ) -> Callable[[], None]:
        """Let ``handler`` receive the stdin of attach sessions to these containers. Returns a
        function that unregisters it."""
        registration = _Registration(handler, None, namespace, pod, container, next(self._seq))
        return self._add(self._attach, registration)

    def find(
        self, namespace: str, pod: str, container: str, argv: Sequence[str]
    ) -> CommandHandler | None:
        """The handler of ``argv`` in this container: the most specific registration (see the
        module), else a built-in (by name, or by path in a usual ``bin`` directory), else None."""
        best: tuple[tuple[bool, bool, bool], int, int] | None = None
        found: CommandHandler | None = None
        for registration in self._commands:
            if not registration.in_scope(namespace, pod, container):
                continue
            rank = registration.pattern_rank(argv)
            if not rank:
                continue
            key = (registration.scope_rank(), rank, registration.seq)
            if best is None or key > best:
                best, found = key, registration.handler
        if found is not None:
            return found
        return self.builtin(argv[0] if argv else "")

    def builtin(self, name: str) -> CommandHandler | None:
        """The built-in command called ``name`` (``echo``, ``/bin/echo``...), or None."""
        directory, base = posixpath.split(name)
        if directory and directory.rstrip("/") not in _BIN_DIRS:
            return None
        return self.builtins.get(base)

    def resolver(
        self, namespace: str, pod: str, container: str
    ) -> Callable[[Sequence[str]], CommandHandler]:
        """`find` for one container, raising `CommandNotFound` instead of answering None."""

        def resolve(argv: Sequence[str]) -> CommandHandler:
            handler = self.find(namespace, pod, container, argv)
            if handler is None:
                raise CommandNotFound(argv)
            return handler

        return resolve

    def find_attach(self, namespace: str, pod: str, container: str) -> AttachHandler:
        """The attach handler of this container (the default echoes stdin into the log)."""
        matching = [r for r in self._attach if r.in_scope(namespace, pod, container)]
        if not matching:
            return echo_stdin_to_log
        best = max(matching, key=lambda r: (r.scope_rank(), r.seq))
        handler: AttachHandler = best.handler
        return handler

    def filesystem(self, namespace: str, pod: str, container: str) -> FakeFS:
        """The files of one container (made on first use; kept when the pod is replaced)."""
        key = (namespace, pod, container)
        fs = self._filesystems.get(key)
        if fs is None:
            fs = self._filesystems[key] = FakeFS()
        return fs


_BIN_DIRS = frozenset(
    ("/bin", "/usr/bin", "/usr/local/bin", "/sbin", "/usr/sbin", "/usr/local/sbin")
)
