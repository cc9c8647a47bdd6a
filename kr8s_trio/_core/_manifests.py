"""Kubernetes manifests (``kubectl apply -f`` files), parsed sans-IO.

A manifest file holds YAML documents separated by ``---``, or JSON: one object, or several
objects one after the other (kubectl accepts both). Either way every document is one Kubernetes
object, a mapping with string ``apiVersion`` and ``kind``; a ``kind: List`` (or any ``*List``
kind carrying ``items``, such as ``kubectl get -o yaml`` prints) stands for its items, as with
kubectl. Empty and ``null`` documents (a trailing ``---``, a file of comments) are skipped.

`parse_manifests` turns the text of one file into a list of plain dicts; `decode_manifest`
turns the file's bytes into that text. Reading files and walking directories is the I/O layer's
business (`kr8s_trio._files`).

Two choices differ from a bare ``yaml.safe_load_all``:

* unquoted timestamps (``2024-01-01``, ``2024-01-01T00:00:00Z``) stay strings, as with kubectl
  (sigs.k8s.io/yaml), instead of becoming `datetime` objects that JSON cannot carry; every other
  scalar resolves as YAML 1.1 says (``yes``/``on`` are booleans, as PyYAML has it);
* errors never quote the document: a manifest may be a Secret. A `ManifestError` names the
  source, the document number (1-based, counting empty documents too), the item of a List, and
  for syntax errors the line and column (1-based).
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import Final

import yaml

from ._exceptions import ConfigError, JSONDict

__all__ = [
    "MANIFEST_SUFFIXES",
    "ManifestError",
    "decode_manifest",
    "parse_manifests",
]

#: the file name endings picked from a directory (matched case-sensitively, like kubectl)
MANIFEST_SUFFIXES: Final[tuple[str, ...]] = (".yaml", ".yml", ".json")

_TIMESTAMP_TAG: Final = "tag:yaml.org,2002:timestamp"
_JSON_SPACE: Final = re.compile(r"[ \t\n\r]*")
_LEADING_SPACE: Final = re.compile("[ \t\n\r\ufeff]*")


class ManifestError(ConfigError, ValueError):
    """A manifest file cannot be used: bad YAML/JSON, or a document that is not an object.

    The message says where (source, document, List item, line and column) and what, and never
    quotes the document's contents.

    Attributes:
        source: the file name (or whatever the caller passed as ``source``).
        document: the 1-based number of the offending document, or None for the whole source.
        item: the 1-based index of the offending entry of a List's ``items``, or None.
        line: the 1-based line of a syntax error, or None.
        column: the 1-based column of a syntax error, or None.
        reason: what is wrong, without the location.
    """

    def __init__(
        self,
        source: str,
        reason: str,
        *,
        document: int | None = None,
        item: int | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.source = source
        self.reason = reason
        self.document = document
        self.item = item
        self.line = line
        self.column = column
        where = [source]
        if document is not None:
            where.append(f"document {document}")
        if item is not None:
            where.append(f"item {item}")
        if line is not None:
            where.append(f"line {line}" if column is None else f"line {line}, column {column}")
        super().__init__(f"{', '.join(where)}: {reason}")


try:
    _BaseLoader: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader


class _ManifestLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """The safe loader (libyaml's when available) without implicit timestamps."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }


def decode_manifest(data: bytes, *, source: str) -> str:
    """Decode a manifest file's bytes: UTF-8 (an optional BOM dropped), or UTF-16 with a BOM.

    Raises:
        ManifestError: the bytes are not valid text in that encoding.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        start = exc.start
    # (raised out here so that the decoding error, which quotes bytes, is not its __context__)
    line = data.count(b"\n", 0, start) + 1 if encoding != "utf-16" else None
    raise ManifestError(source, f"not valid {encoding} text", line=line)


def parse_manifests(text: str, *, source: str) -> list[JSONDict]:
    """Parse the text of a manifest file into the Kubernetes objects it holds, in order.

    YAML (multi-document) and JSON (one object or a stream of objects) are accepted; Lists are
    replaced by their items; empty and null documents are skipped. The dicts are fresh and
    belong to the caller.

    Args:
        text: the whole file (see `decode_manifest`).
        source: a name for error messages, usually the file's path.

    Raises:
        ManifestError: a syntax error (with line and column), or a document that is not a
            mapping with string ``apiVersion`` and ``kind``.
    """
    documents = _load(text, source)
    objects: list[JSONDict] = []
    for number, document in enumerate(documents, 1):
        if document is None:
            continue
        objects.extend(_expand(document, source, number, None))
    return objects


def _load(text: str, source: str) -> list[object]:
    """All documents of the text, null ones included (so that numbering follows the file)."""
    start = _LEADING_SPACE.match(text)
    first = start.end() if start else 0
    if text[first : first + 1] in ("{", "["):
        # Looks like JSON: the json module is faster, takes what YAML 1.1 does not (tabs), and
        # reads kubectl's stream of concatenated objects. YAML gets its chance if that fails
        # (JSON documents separated by ``---``, YAML flow style); if it fails too, the JSON
        # error is the one that makes sense to the author.
        try:
            return _load_json(text)
        except _JSONStreamError as exc:
            json_error = exc
        try:
            return _load_yaml(text, source)
        except ManifestError:
            pass
        error = json_error.error
        raise ManifestError(
            source,
            f"invalid JSON: {error.msg}",
            document=json_error.document,
            line=error.lineno,
            column=error.colno,
        )
    return _load_yaml(text, source)


class _JSONStreamError(Exception):
    def __init__(self, error: json.JSONDecodeError, document: int) -> None:
        self.error = error
        self.document = document


def _load_json(text: str) -> list[object]:
    decoder = json.JSONDecoder()
    documents: list[object] = []
    index = _JSON_SPACE.match(text, 1 if text.startswith("\ufeff") else 0)
    position = index.end() if index else 0
    while position < len(text):
        try:
            document, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise _JSONStreamError(exc, len(documents) + 1) from None
        documents.append(document)
        space = _JSON_SPACE.match(text, end)
        position = space.end() if space else end
    return documents


def _load_yaml(text: str, source: str) -> list[object]:
    documents: list[object] = []
    try:
        for document in yaml.load_all(text, Loader=_ManifestLoader):
            documents.append(document)
    except yaml.YAMLError as exc:
        error = exc
    else:
        return documents
    # Raised out here, so that PyYAML's error (whose message may quote the document) is not even
    # the __context__ of ours.
    raise _yaml_error(error, text, source, len(documents) + 1)


def _yaml_error(exc: yaml.YAMLError, text: str, source: str, document: int) -> ManifestError:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        reason = exc.problem or exc.context or type(exc).__name__
        if exc.problem and exc.context:
            reason = f"{exc.problem} ({exc.context})"
        return ManifestError(
            source,
            f"invalid YAML: {reason}",
            document=document,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        )
    if isinstance(exc, yaml.reader.ReaderError):
        position = max(0, min(exc.position, len(text)))
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        reason = (
            f"unacceptable character #x{exc.character:04x}: {exc.reason}"
            if isinstance(exc.character, int)
            else exc.reason
        )
        return ManifestError(
            source, f"invalid YAML: {reason}", document=document, line=line, column=column
        )
    # every PyYAML error is one of the above
    return ManifestError(  # pragma: no cover
        source, f"invalid YAML: {type(exc).__name__}", document=document
    )


def _expand(document: object, source: str, number: int, item: int | None) -> Iterator[JSONDict]:
    """The object a document stands for, or the items of a List (recursively), checked."""
    if not isinstance(document, dict):
        raise ManifestError(
            source,
            f"expected a Kubernetes object (a mapping), got {_describe(document)}",
            document=number,
            item=item,
        )
    for field in ("apiVersion", "kind"):
        value = document.get(field)
        if not isinstance(value, str) or not value:
            if value is None:
                problem = "missing"
            elif value == "":
                problem = "empty"
            else:
                problem = f"{_describe(value)}, not a string"
            raise ManifestError(source, f"{field!r} is {problem}", document=number, item=item)
    kind: str = document["kind"]
    if kind.endswith("List") and "items" in document:
        items = document["items"]
        if items is None:
            return
        if not isinstance(items, list):
            raise ManifestError(
                source,
                f"'items' of a {kind} is {_describe(items)}, not a sequence",
                document=number,
                item=item,
            )
        for index, entry in enumerate(items, 1):
            # nested Lists are flattened too; the reported item is the outermost index
            yield from _expand(entry, source, number, index if item is None else item)
        return
    yield document


def _describe(value: object) -> str:
    """The kind of a value, never the value itself."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string" if value else "an empty string"
    if isinstance(value, list):
        return "a sequence"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"
