"""Kubernetes' name and label rules, and Go's way of printing errors, for exact messages.

kube-apiserver's validation messages quote values the way Go prints them (``%q``, ``%#v``) and
spell the label key and value rules out with their regular expressions. Selectors and the fake
API server's validation both need the same rules and the same text, so they live here once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = [
    "NAME_REGEX_ERROR",
    "SUBDOMAIN_RE",
    "SUBDOMAIN_REGEX_ERROR",
    "VALUE_REGEX_ERROR",
    "aggregate",
    "byte_len",
    "dns_label_errors",
    "dns_subdomain_errors",
    "go_quote",
    "go_strings",
    "invalid_text",
    "label_key_errors",
    "label_value_errors",
    "max_len_error",
    "parse_int64",
    "regex_error",
]

# --- label key and value rules (apimachinery api/validate/content) --------------------------

_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
NAME_RE = re.compile(_NAME_FMT)
_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
_VALUE_FMT = f"({_NAME_FMT})?"
VALUE_RE = re.compile(_VALUE_FMT)
_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, "
    "'-', '_' or '.', and must start and end with an alphanumeric character"
)
_DNS_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN_FMT = _DNS_LABEL_FMT + r"(\." + _DNS_LABEL_FMT + ")*"
SUBDOMAIN_RE = re.compile(_SUBDOMAIN_FMT)
_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character"
)
_DNS_LABEL_RE = re.compile(_DNS_LABEL_FMT)
_DNS_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_INT64_RE = re.compile(r"[+-]?[0-9]+")


def regex_error(msg: str, fmt: str, *examples: str) -> str:
    # Reproduces apimachinery's RegexError text, double spaces included.
    shown = "".join((" or " if i else "") + f"'{ex}', " for i, ex in enumerate(examples))
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def byte_len(text: str) -> int:
    """Length in UTF-8 bytes, as Go's ``len`` counts (lone surrogates do not raise)."""
    return len(text.encode("utf-8", "surrogatepass"))


def max_len_error(length: int) -> str:
    return f"must be no more than {length} bytes"


NAME_REGEX_ERROR = regex_error(_NAME_MSG, _NAME_FMT, "MyName", "my.name", "123-abc")
VALUE_REGEX_ERROR = regex_error(_VALUE_MSG, _VALUE_FMT, "MyValue", "my_value", "12345")
SUBDOMAIN_REGEX_ERROR = regex_error(_SUBDOMAIN_MSG, _SUBDOMAIN_FMT, "example.com")
_DNS_LABEL_REGEX_ERROR = regex_error(_DNS_LABEL_MSG, _DNS_LABEL_FMT, "my-name", "123-abc")


def dns_subdomain_errors(name: str) -> list[str]:
    """Why ``name`` is not a DNS-1123 subdomain (apimachinery ``IsDNS1123Subdomain``), or ``[]``."""
    errs: list[str] = []
    if byte_len(name) > 253:
        errs.append(max_len_error(253))
    if not SUBDOMAIN_RE.fullmatch(name):
        errs.append(SUBDOMAIN_REGEX_ERROR)
    return errs


def dns_label_errors(name: str) -> list[str]:
    """Why ``name`` is not a DNS-1123 label (apimachinery ``IsDNS1123Label``), or ``[]``."""
    errs: list[str] = []
    if byte_len(name) > 63:
        errs.append(max_len_error(63))
    if not _DNS_LABEL_RE.fullmatch(name):
        errs.append(_DNS_LABEL_REGEX_ERROR)
    return errs


def label_key_errors(key: str) -> list[str]:
    """The reasons ``key`` is not a valid label key (apimachinery ``IsLabelKey``), or ``[]``."""
    errs: list[str] = []
    parts = key.split("/")
    if len(parts) > 2:
        return [
            "a valid label key "
            + NAME_REGEX_ERROR
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            if byte_len(prefix) > 253:
                errs.append("prefix part " + max_len_error(253))
            if not SUBDOMAIN_RE.fullmatch(prefix):
                errs.append("prefix part " + SUBDOMAIN_REGEX_ERROR)
    if not name:
        errs.append("name part must be non-empty")
    elif byte_len(name) > 63:
        errs.append("name part " + max_len_error(63))
    if not NAME_RE.fullmatch(name):
        errs.append("name part " + NAME_REGEX_ERROR)
    return errs


def label_value_errors(value: str) -> list[str]:
    """The reasons ``value`` is not a valid label value (apimachinery ``IsLabelValue``)."""
    errs: list[str] = []
    if byte_len(value) > 63:
        errs.append(max_len_error(63))
    if not VALUE_RE.fullmatch(value):
        errs.append(VALUE_REGEX_ERROR)
    return errs


def parse_int64(text: str) -> int | None:
    """Go's ``strconv.ParseInt(text, 10, 64)``: the integer, or None when it is not one."""
    if not _INT64_RE.fullmatch(text):
        return None
    number = int(text)
    return number if -(2**63) <= number < 2**63 else None


# --- Go-style error text ----------------------------------------------------------------------

_GO_ESCAPES = {"\a": r"\a", "\b": r"\b", "\f": r"\f", "\n": r"\n", "\r": r"\r", "\t": r"\t"}
_GO_ESCAPES |= {"\v": r"\v", "\\": r"\\", '"': r"\""}


def go_quote(text: str) -> str:
    """Go's ``%q`` of a string (``strconv.Quote``)."""
    out = []
    for ch in text:
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def go_strings(values: Iterable[str]) -> str:
    """Go's ``%#v`` of a ``[]string``."""
    return "[]string{" + ", ".join(go_quote(v) for v in values) + "}"


def invalid_text(path: str, shown: str, detail: str) -> str:
    """A ``field.Invalid`` error text; ``shown`` is the already formatted bad value."""
    return f"{path}: Invalid value: {shown}: {detail}"


def aggregate(errors: list[str]) -> str:
    """apimachinery's aggregate error text: one message alone, several as ``[a, b]``."""
    unique = list(dict.fromkeys(errors))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"
