"""Reading manifest files and directories (what ``kubectl apply -f PATH [-R]`` reads).

`load_manifests` finds the files, reads them in worker threads and hands their text to the
sans-IO parser (`kr8s_trio._core._manifests`); `objects_from_files` wraps the dicts it returns
into objects.

Which files, following kubectl (k8s.io/cli-runtime ``ExpandPathsToFileVisitors``):

* a path naming a file is read whatever its name;
* a directory contributes the files directly in it whose names end with ``.yaml``, ``.yml`` or
  ``.json`` (case-sensitively), and with ``recursive=True`` those of every subdirectory too;
  other files are ignored, and an empty directory gives an empty list (kubectl calls that an
  error; a library has no reason to);
* hidden files and directories are not special (kubectl does not skip them either);
* the order is a depth-first walk with the entries of each directory sorted by name, files and
  subdirectories interleaved (Go's ``filepath.Walk``), so ``a.yaml``, ``b/c.yaml``, ``d.yaml``;
* symbolic links to files are followed; symbolic links to directories below the given path are
  not descended into (no loops), as with ``filepath.Walk``; the given path itself may be one.

A path that does not exist raises the operating system's `FileNotFoundError` (its ``filename``
is the path), as does any other `OSError` (permissions...): these are about the file system,
not about the manifests. Content errors raise `ManifestError` naming the file.
"""

from __future__ import annotations

import os
from functools import partial

import trio

from ._core._exceptions import JSONDict
from ._core._manifests import MANIFEST_SUFFIXES, decode_manifest, parse_manifests

__all__ = ["INLINE_PARSE_LIMIT", "find_manifest_files", "load_manifests"]

#: files larger than this (in bytes) are decoded and parsed in a worker thread
INLINE_PARSE_LIMIT = 1024 * 1024


def find_manifest_files(path: str | os.PathLike[str], *, recursive: bool = False) -> list[str]:
    """The files `load_manifests` reads for ``path``, in order (blocking: call it in a thread).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        OSError: a directory cannot be listed.
    """
    root = os.fspath(path)
    if not os.path.isdir(root):
        os.stat(root)  # FileNotFoundError (or PermissionError...) naming the path
        return [root]
    found: list[str] = []
    _walk(root, recursive, found)
    return found


def _walk(directory: str, recursive: bool, found: list[str]) -> None:
    with os.scandir(directory) as scan:
        entries = sorted(scan, key=lambda entry: entry.name)
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            if recursive:
                _walk(entry.path, recursive, found)
        elif entry.name.endswith(MANIFEST_SUFFIXES) and not entry.is_dir():
            # (a dangling link is kept: reading it says FileNotFoundError with its name)
            found.append(entry.path)


def _parse_file(data: bytes, source: str) -> list[JSONDict]:
    return parse_manifests(decode_manifest(data, source=source), source=source)


async def load_manifests(
    path: str | os.PathLike[str], *, recursive: bool = False
) -> list[JSONDict]:
    """Read the Kubernetes objects in a manifest file, or in the manifest files of a directory.

    Which files and in which order is described in this module's docstring (kubectl's ``-f``
    semantics, ``.yml`` and ``.json`` included). Each file may hold several YAML documents or
    JSON objects; Lists are expanded into their items; the result is the objects of all files,
    in order, as fresh dicts.

    Args:
        path: a file or a directory.
        recursive: also read the manifest files of subdirectories (``kubectl -R``).

    Raises:
        FileNotFoundError: ``path`` (or a file found in it) does not exist.
        OSError: a file or directory cannot be read.
        ManifestError: a file is not valid YAML/JSON text, or a document is not a Kubernetes
            object; the message names the file, the document and, for syntax errors, the line.

    Cancellation:
        Safe at any point: nothing is written, so a cancelled call just loses what it read.
        Listing directories and parsing large files (over `INLINE_PARSE_LIMIT`) run in worker
        threads that are abandoned on cancellation (they finish in the background and their
        result is dropped); reading a file runs to completion before the cancellation is
        delivered.
    """
    files = await trio.to_thread.run_sync(
        partial(find_manifest_files, path, recursive=recursive), abandon_on_cancel=True
    )
    objects: list[JSONDict] = []
    for file in files:
        data = await trio.Path(file).read_bytes()
        if len(data) > INLINE_PARSE_LIMIT:
            parsed = await trio.to_thread.run_sync(_parse_file, data, file, abandon_on_cancel=True)
        else:
            parsed = _parse_file(data, file)
        objects.extend(parsed)
    return objects
