"""Helpers shared by the test modules that drive the real kubectl against the fake.

Imported as ``from kubectl_support import ...`` (pytest puts this folder on ``sys.path``, as for
``support``). Here: where kubectl is (`KUBECTL`, `require_kubectl` to skip without it), `Lines`
(a process's output read line by line with a deadline), `Background` (a kubectl process running
while the test acts), `Kubectl` (runs kubectl with a HOME of its own, so its discovery cache
belongs to one server, and that server's kubeconfig), `serve_fake_cluster` (``python -m kr8s_trio
fake-cluster`` in a subprocess) and `table` (kubectl's column output).

Nothing sleeps: every wait is a read or a process wait with a deadline that fails the test
instead of hanging it.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pytest
import yaml

#: the kubectl on PATH, or None (the tests that need it are skipped)
KUBECTL = shutil.which("kubectl")

#: seconds a background process may take to print an expected line or to exit
DEADLINE = 20.0

JSONObject = dict[str, Any]


def require_kubectl() -> str:
    """kubectl's path; skips the test (or, called at import, the module) when it is absent."""
    if KUBECTL is None:
        pytest.skip("kubectl is not installed", allow_module_level=True)
    return KUBECTL


def _popen(argv: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        argv,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
    )


class Lines:
    """The lines of a pipe, pumped by a daemon thread, to wait on with a deadline."""

    def __init__(self, pipe: IO[str]) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._eof = False
        self._thread = threading.Thread(target=self._pump, args=(pipe,), daemon=True)
        self._thread.start()

    def _pump(self, pipe: IO[str]) -> None:
        for line in pipe:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def expect(self, pattern: str, timeout: float = DEADLINE) -> re.Match[str]:
        """The match of the next line matching ``pattern`` (lines before it are skipped, and
        kept in `seen`); fails the test at the end of the output or after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not self._eof:
            try:
                line = self._queue.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                break
            if line is None:
                self._eof = True
                break
            self.seen.append(line)
            if match := re.search(pattern, line):
                return match
        why = "the end of the output" if self._eof else f"{timeout} s"
        raise AssertionError(f"no line matching {pattern!r} before {why}; saw {self.seen}")

    def rest(self) -> list[str]:
        """Every line up to the end of the output (call once the writer has exited)."""
        self._thread.join(DEADLINE)
        while not self._eof:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:  # the writer is still alive: keep what there is
                break
            if line is None:
                self._eof = True
            else:
                self.seen.append(line)
        return self.seen

    def text(self) -> str:
        """The whole output as text, each line ended with a newline (call once the writer has
        exited)."""
        return "".join(f"{line}\n" for line in self.rest())


class Background:
    """A kubectl process running while the test acts on the cluster, its output read line by
    line."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.proc = _popen(argv, env)
        assert self.proc.stdout is not None
        assert self.proc.stderr is not None
        self.stdout = Lines(self.proc.stdout)
        self.stderr = Lines(self.proc.stderr)

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def wait(self) -> int:
        """The exit code; fails the test if the process is still running after the deadline."""
        try:
            return self.proc.wait(DEADLINE)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"kubectl still running after {DEADLINE} s; "
                f"stdout {self.stdout.seen}, stderr {self.stderr.seen}"
            ) from None

    def close(self) -> None:
        """Stops the process (SIGTERM, then SIGKILL past the deadline) and reads its output to
        the end. Closing again does nothing more."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(DEADLINE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc.wait(DEADLINE)
        self.stdout.rest()
        self.stderr.rest()
        for pipe in (self.proc.stdout, self.proc.stderr):
            assert pipe is not None
            pipe.close()


class Kubectl:
    """Runs kubectl against one cluster: the cluster's kubeconfig, a HOME of its own (so that
    kubectl's discovery cache belongs to that cluster), optionally a namespace, and a deadline
    for each command. Background processes it started are stopped by `close`."""

    def __init__(
        self,
        kubeconfig: Path,
        home: Path,
        *,
        namespace: str | None = None,
        timeout: float = 60.0,
        apply_flags: tuple[str, ...] = (),
    ) -> None:
        self.binary = require_kubectl()
        self.env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        self.env["HOME"] = str(home)
        self.env["KUBECONFIG"] = str(kubeconfig)
        self.namespace = namespace
        #: seconds one command may run before the test fails
        self.timeout = timeout
        #: `apply`'s flags when it is given none
        self.apply_flags = apply_flags
        self._background: list[Background] = []

    def argv(self, *args: str) -> list[str]:
        namespace = () if self.namespace is None else (f"--namespace={self.namespace}",)
        return [self.binary, *namespace, *args]

    def run(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """kubectl's result, whatever its exit code."""
        return subprocess.run(
            self.argv(*args),
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            timeout=self.timeout,
            check=False,
        )

    def ok(self, *args: str, input: str | None = None) -> str:
        """kubectl's stdout; fails the test unless it exits 0."""
        done = self.run(*args, input=input)
        assert done.returncode == 0, (
            f"kubectl {' '.join(args)} exited {done.returncode}: {done.stderr}"
        )
        return done.stdout

    def json(self, *args: str) -> JSONObject:
        """The object kubectl prints with ``-o json``; fails the test unless it exits 0."""
        data: JSONObject = json.loads(self.ok(*args, "-o", "json"))
        return data

    def apply(
        self, *docs: JSONObject, flags: tuple[str, ...] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``kubectl apply -f -`` of ``docs``, with ``flags`` (by default `apply_flags`),
        whatever its exit code."""
        flags = self.apply_flags if flags is None else flags
        return self.run("apply", *flags, "-f", "-", input=yaml.safe_dump_all(docs))

    def apply_ok(self, *docs: JSONObject, flags: tuple[str, ...] | None = None) -> str:
        """`apply`'s stdout; fails the test unless kubectl exits 0."""
        done = self.apply(*docs, flags=flags)
        assert done.returncode == 0, f"kubectl apply exited {done.returncode}: {done.stderr}"
        return done.stdout

    def background(self, *args: str) -> Background:
        proc = Background(self.argv(*args), self.env)
        self._background.append(proc)
        return proc

    def close(self) -> None:
        """Stops the background processes started so far."""
        while self._background:
            self._background.pop().close()


@contextmanager
def serve_fake_cluster(kubeconfig: Path, *args: str) -> Iterator[None]:
    """``python -m kr8s_trio fake-cluster --kubeconfig KUBECONFIG ARGS...`` in a subprocess,
    from its "serving" line to the end of the block; then stopped with SIGTERM, and the test
    fails unless it exits 0 without a traceback."""
    argv = [sys.executable, "-m", "kr8s_trio", "fake-cluster", "--kubeconfig", str(kubeconfig)]
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    server = _popen([*argv, *args], env)
    assert server.stdout is not None
    assert server.stderr is not None
    stdout, stderr = Lines(server.stdout), Lines(server.stderr)
    try:
        stdout.expect(r"^fake cluster serving at https://127\.0\.0\.1:\d+$")
        yield
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(DEADLINE)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
            raise
        finally:
            errors = "\n".join(stderr.rest())
            stdout.rest()
            server.stdout.close()
            server.stderr.close()
    assert code == 0, f"fake-cluster exited {code}: {errors}"
    assert "Traceback" not in errors, errors


def table(text: str) -> list[list[str]]:
    """Rows of kubectl's column output (header included), cells split on 2+ spaces."""
    return [re.split(r"\s{2,}", line.strip()) for line in text.splitlines() if line.strip()]
