"""The syntax of the fake shell (`kr8s_trio.testing._shell`): words, redirections, lists.

`parse` turns a script into pipelines of simple commands. Words keep their quoting and their
variable references (`Segment`), so expansion happens when a command runs, with the variables
of that moment. What the shell does not support (compound commands, ``$(...)``) is refused here
with a `ShellSyntaxError`, worded like dash's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import attrs

__all__ = ["Redirect", "Script", "Segment", "ShellSyntaxError", "Simple", "Word", "parse"]

_RESERVED = frozenset(
    (
        "if",
        "then",
        "else",
        "elif",
        "fi",
        "for",
        "while",
        "until",
        "do",
        "done",
        "case",
        "esac",
        "function",
        "{",
        "}",
        "(",
        ")",
        "!",
    )
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ShellSyntaxError(Exception):
    pass


@attrs.frozen
class Segment:
    """Part of a word: literal text, or a variable to expand (``var``)."""

    text: str
    quoted: bool = False
    var: bool = False


Word = tuple[Segment, ...]


@attrs.frozen
class Redirect:
    fd: int
    op: str  # ">", ">>", "<", ">&"
    target: Word = ()
    dup: int = -1


@attrs.define
class Simple:
    words: list[Word] = attrs.field(factory=list)
    redirects: list[Redirect] = attrs.field(factory=list)


#: a list of pipelines, each with the operator before it (";" for the first)
Script = list[tuple[str, list[Simple]]]

# -- lexing ------------------------------------------------------------------------------------

_OPERATORS = ("&&", "||", ";", "|", "&", "\n")
_REDIRECT = re.compile(r"(>>|>&|<|>)(\d?)")


def _variable(text: str, i: int) -> tuple[Segment, int] | None:
    """The expansion starting at ``text[i] == "$"``, and where it ends."""
    rest = text[i + 1 :]
    if rest.startswith("("):
        raise ShellSyntaxError('Syntax error: "$(" is not supported by this shell')
    if rest.startswith("{"):
        end = rest.find("}")
        if end < 0:
            raise ShellSyntaxError("Syntax error: Missing '}'")
        return Segment(rest[1:end], var=True), i + end + 2
    if rest[:1] and rest[0] in "?$#0123456789":
        return Segment(rest[0], var=True), i + 2
    match = _NAME.match(rest)
    if match:
        return Segment(match.group(0), var=True), i + 1 + match.end()
    return None


def _tokens(text: str) -> Iterator[tuple[str, object]]:
    """("word", Word), ("op", str) and ("redirect", Redirect-without-target) tokens."""
    i, n = 0, len(text)
    word: list[Segment] = []
    started = False

    def flush() -> Iterator[tuple[str, object]]:
        nonlocal word, started
        if started:
            yield "word", tuple(word)
        word, started = [], False

    while i < n:
        char = text[i]
        if char in " \t":
            yield from flush()
            i += 1
        elif char == "#" and not started:
            while i < n and text[i] != "\n":
                i += 1
        elif char == "\\":
            if text[i + 1 : i + 2] == "\n":
                i += 2
                continue
            word.append(Segment(text[i + 1 : i + 2], quoted=True))
            started, i = True, i + 2
        elif char == "`":
            raise ShellSyntaxError('Syntax error: "`" is not supported by this shell')
        elif char == "'":
            end = text.find("'", i + 1)
            if end < 0:
                raise ShellSyntaxError("Syntax error: Unterminated quoted string")
            word.append(Segment(text[i + 1 : end], quoted=True))
            started, i = True, end + 1
        elif char == '"':
            i, started = _double_quoted(text, i + 1, word), True
        elif char == "$" and (found := _variable(text, i)) is not None:
            word.append(found[0])
            started, i = True, found[1]
        elif char in "<>":
            fd: int | None = None
            if started and len(word) == 1 and _literal(tuple(word)) in tuple("0123456789"):
                fd, word, started = int(word[0].text), [], False
            else:
                yield from flush()
            match = _REDIRECT.match(text, i)
            assert match is not None
            op = match.group(1)
            fd = fd if fd is not None else (0 if op == "<" else 1)
            if op == ">&":
                if not match.group(2):
                    raise ShellSyntaxError("Syntax error: Bad fd number")
                yield "redirect", Redirect(fd, op, dup=int(match.group(2)))
                i = match.end()
            else:
                yield "redirect", Redirect(fd, op)
                i += len(op)
        elif any(text.startswith(op, i) for op in _OPERATORS):
            yield from flush()
            op = next(op for op in _OPERATORS if text.startswith(op, i))
            yield "op", op
            i += len(op)
        else:
            j = i
            while j < n and text[j] not in " \t\n\\'\"$#;&|<>":
                j += 1
            j = max(j, i + 1)
            word.append(Segment(text[i:j]))
            started, i = True, j
    yield from flush()


def _double_quoted(text: str, i: int, word: list[Segment]) -> int:
    buffer: list[str] = []
    while i < len(text):
        char = text[i]
        if char == '"':
            word.append(Segment("".join(buffer), quoted=True))
            return i + 1
        if char == "\\" and text[i + 1 : i + 2] in ('"', "\\", "$", "`", "\n"):
            if text[i + 1] != "\n":
                buffer.append(text[i + 1])
            i += 2
        elif char == "$" and (found := _variable(text, i)) is not None:
            word.append(Segment("".join(buffer), quoted=True))
            buffer = []
            word.append(attrs.evolve(found[0], quoted=True))
            i = found[1]
        else:
            buffer.append(char)
            i += 1
    raise ShellSyntaxError("Syntax error: Unterminated quoted string")


def parse(text: str) -> Script:
    """The pipelines of a script.

    Raises:
        ShellSyntaxError: unterminated quotes, misplaced operators, unsupported syntax.
    """
    script: Script = []
    pipeline: list[Simple] = []
    command = Simple()
    connector = ";"
    pending: Redirect | None = None
    for kind, value in _tokens(text):
        if pending is not None:
            if not isinstance(value, tuple):
                raise ShellSyntaxError(f'Syntax error: "{value}" unexpected')
            command.redirects.append(attrs.evolve(pending, target=value))
            pending = None
        elif kind == "word":
            assert isinstance(value, tuple)
            if not command.words and _literal(value) in _RESERVED:
                raise ShellSyntaxError(
                    f'Syntax error: "{_literal(value)}" is not supported by this shell'
                )
            command.words.append(value)
        elif kind == "redirect":
            assert isinstance(value, Redirect)
            if value.op == ">&":
                command.redirects.append(value)
            else:
                pending = value
        else:
            if not command.words and not command.redirects:
                if value in ("\n", ";") and not pipeline:
                    continue
                raise ShellSyntaxError(f'Syntax error: "{value}" unexpected')
            pipeline.append(command)
            command = Simple()
            if value != "|":
                script.append((connector, pipeline))
                pipeline, connector = [], "&&" if value == "&&" else "||" if value == "||" else ";"
    if pending is not None:
        raise ShellSyntaxError("Syntax error: newline unexpected")
    if command.words or command.redirects:
        pipeline.append(command)
    if pipeline:
        script.append((connector, pipeline))
    elif connector in ("&&", "||") or (script and not pipeline and connector == "|"):
        raise ShellSyntaxError("Syntax error: end of file unexpected")
    return script


def _literal(word: Word) -> str:
    return "".join(s.text for s in word) if all(not s.var and not s.quoted for s in word) else ""
