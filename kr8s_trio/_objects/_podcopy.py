"""Streams on objects: copy_to / copy_from on a pod (tar over exec, like ``kubectl cp``; see
`kr8s_trio._copy`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, cast

from kr8s_trio._copy import copy_from, copy_to
from kr8s_trio._objects._base import APIObject
from kr8s_trio._objects._podexec import DEFAULT_READY_TIMEOUT

if TYPE_CHECKING:
    from kr8s_trio._copy import _ExecTarget

__all__ = ["PodCopy"]


class PodCopy(APIObject):
    """Copy files and directories to and from a pod (mixed into `Pod`)."""

    __slots__ = ()

    async def copy_to(
        self,
        local_path: str | os.PathLike[str],
        remote_path: str,
        *,
        container: str | None = None,
        ready_timeout: float | None = DEFAULT_READY_TIMEOUT,
    ) -> str:
        """Copy a local file or directory into the pod (``kubectl cp local pod:remote``);
        returns the remote path of the copy.

        ``remote_path`` is the copy's own path (``/srv/site`` for a local ``./build``); ending in
        ``/``, the directory to put it in under its local name. Its directory must exist. The
        container needs ``tar``.

        Args:
            local_path: the file or directory to copy.
            remote_path: where the copy goes (see above).
            container: the container (default: kubectl's default container, else the first).
            ready_timeout: seconds to wait for the pod to run (None: no limit).

        Raises:
            FileNotFoundError: ``local_path`` does not exist.
            RemotePathNotFoundError: the remote directory does not exist.
            CopyError: the remote tar failed otherwise.
            ValueError: ``remote_path`` is empty or has a ``..``.
            APIError, TimeoutError: as `exec`.

        Cancellation:
            Safe at every phase: the session is closed and the worker thread ends; the remote
            tar sees a truncated archive and may have written part of it.
        """
        target = cast("_ExecTarget", self)
        return await copy_to(
            target, local_path, remote_path, container=container, ready_timeout=ready_timeout
        )

    async def copy_from(
        self,
        remote_path: str,
        local_path: str | os.PathLike[str],
        *,
        container: str | None = None,
        ready_timeout: float | None = DEFAULT_READY_TIMEOUT,
    ) -> Path:
        """Copy a file or directory from the pod to ``local_path`` (``kubectl cp pod:remote
        local``); returns the local path of the copy.

        The copy of a directory is ``local_path`` (merged into it if it exists); the copy of a
        file is ``local_path``, or goes inside it when it is a directory. What the pod sends is
        checked member by member: nothing is written outside ``local_path`` (no ``..``, no
        absolute names, links only inside, no devices). The container needs ``tar``.

        Args:
            remote_path: the file or directory in the container.
            local_path: where the copy goes (see above).
            container: the container (default: kubectl's default container, else the first).
            ready_timeout: seconds to wait for the pod to run (None: no limit).

        Raises:
            RemotePathNotFoundError: ``remote_path`` does not exist in the container.
            CopyError: the remote tar failed otherwise, or did not send an archive.
            UnsafeArchiveError: a member would escape ``local_path`` or is a device (a subclass
                says which, naming the member); nothing from it on is written.
            OSError: writing locally failed.
            ValueError: ``remote_path`` is empty or has a ``..``.
            APIError, TimeoutError: as `exec`.

        Cancellation:
            Safe at every phase: the remote tar is stopped, the worker thread ends and the file
            being written is removed; complete files already written stay.
        """
        target = cast("_ExecTarget", self)
        return await copy_from(
            target, remote_path, local_path, container=container, ready_timeout=ready_timeout
        )
