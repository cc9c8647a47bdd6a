"""Label and field selectors: grammar, semantics and kube-apiserver's error messages."""

from __future__ import annotations

import pytest
from hypothesis import example, given, strategies as st

from kr8s_trio._core._exceptions import SelectorError
from kr8s_trio._core._field_selectors import FieldRequirement, FieldSelector
from kr8s_trio._core._selectors import LabelRequirement, LabelSelector

NAME_RULE = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
VALUE_RULE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
SUBDOMAIN_RULE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    r"for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
PARSE = "unable to parse requirement: "
OPERATORS = "in, notin, =, ==, !=, gt, lt"

WEB = {"app": "web", "tier": "front", "empty": "", "n": "10"}


# --- label selector: matching ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        # equality needs the key
        ("app=web", WEB, True),
        ("app==web", WEB, True),
        ("app=db", WEB, False),
        ("missing=web", WEB, False),
        ("empty=", WEB, True),
        ("missing=", WEB, False),
        # inequality matches objects without the key
        ("app!=db", WEB, True),
        ("app!=web", WEB, False),
        ("missing!=web", WEB, True),
        ("empty!=", WEB, False),
        # set membership
        ("app in (web,db)", WEB, True),
        ("app in (db)", WEB, False),
        ("missing in (web)", WEB, False),
        ("empty in ()", WEB, True),  # "()" is the set {""}
        ("app in ()", WEB, False),
        ("empty in (,x)", WEB, True),
        ("app notin (db,cache)", WEB, True),
        ("app notin (web)", WEB, False),
        ("missing notin (web)", WEB, True),
        ("empty notin ()", WEB, False),
        # existence
        ("app", WEB, True),
        ("missing", WEB, False),
        ("!missing", WEB, True),
        ("!app", WEB, False),
        # integer comparison
        ("n>9", WEB, True),
        ("n>10", WEB, False),
        ("n<11", WEB, True),
        ("n<10", WEB, False),
        ("missing>1", WEB, False),
        ("missing<1", WEB, False),
        ("app>1", WEB, False),  # "web" is not an integer
        ("app<1", WEB, False),
        ("n>9223372036854775807", {"n": "9223372036854775808"}, False),  # out of int64
        ("n<1", {"n": "-5"}, True),
        ("n>1", {"n": "+5"}, True),
        ("n>1", {"n": "1_0"}, False),
        ("n>1", {"n": " 5"}, False),
        # conjunctions, whitespace
        ("app=web,tier=front", WEB, True),
        ("app=web,tier=back", WEB, False),
        ("  app = web ,\ttier in ( front , back ) ,\n!missing ", WEB, True),
        ("app=web,app=web", WEB, True),
        ("", WEB, True),
        ("  ", {}, True),
        # keywords are plain identifiers where a key or value is expected
        ("in=notin", {"in": "notin"}, True),
        ("notin notin (in)", {"notin": "in"}, False),
        ("example.com/app=web", {"example.com/app": "web"}, True),
    ],
)
def test_label_selector_matches_examples(text: str, labels: dict[str, str], expected: bool) -> None:
    assert LabelSelector.parse(text).matches(labels) is expected


def test_label_selector_matches_none_as_no_labels() -> None:
    assert LabelSelector.parse("!app,x!=y,z notin (a)").matches(None)
    assert not LabelSelector.parse("app").matches(None)
    assert LabelSelector.parse("").matches(None)


def test_label_selector_empty_only_without_requirements() -> None:
    assert LabelSelector.parse("").empty
    assert LabelSelector().empty
    assert not LabelSelector.parse("a").empty


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("b=1,a=2", "a=2,b=1"),
        ("a==x", "a=x"),
        ("x in (c,a,b,a)", "x in (a,b,c)"),
        ("x notin ( a )", "x notin (a)"),
        ("x in ()", "x in ()"),
        ("x in (a,,b)", "x in (,a,b)"),
        ("x in (a,)", "x in (,a)"),
        ("! x", "!x"),
        ("x > 5,y<3", "x>5,y<3"),
        ("x=", "x="),
        ("x", "x"),
        ("", ""),
    ],
)
def test_label_selector_str_is_canonical(text: str, canonical: str) -> None:
    selector = LabelSelector.parse(text)
    assert str(selector) == canonical
    assert LabelSelector.parse(canonical) == selector


def test_label_selector_parse_order_does_not_matter() -> None:
    assert LabelSelector.parse("a=1,b in (x,y),!c") == LabelSelector.parse("!c,b in (y,x),a=1")


# --- label selector: errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (",x", "found ',', expected: !, identifier, or 'end of string'"),
        ("=x", "found '=', expected: !, identifier, or 'end of string'"),
        ("x=a,", "found '', expected: identifier after ','"),
        ("x=a,,y", "found ',', expected: identifier after ','"),
        ("x=a b", "found 'b', expected: ',' or 'end of string'"),
        ("!x=a", "found '=', expected: ',' or 'end of string'"),
        ("x y", PARSE + f"found 'y', expected: {OPERATORS}"),
        ("x!", PARSE + f"found '!', expected: {OPERATORS}"),
        ("x(a)", PARSE + f"found '(', expected: {OPERATORS}"),
        ("!!x", PARSE + "found '!', expected: identifier"),
        ("!", PARSE + "found '', expected: identifier"),
        ("x==(a)", PARSE + "found '(', expected: identifier"),
        ("x>=1", PARSE + "found '=', expected: identifier"),
        ("x===a", PARSE + "found '=', expected: identifier"),
        ("x in a", PARSE + "found 'a' expected: '('"),
        ("x in", PARSE + "found '' expected: '('"),
        ("x in (", PARSE + "found '', expected: ',', ')' or identifier"),
        ("x in (=", PARSE + "found '=', expected: ',', ')' or identifier"),
        ("x in (a", PARSE + "found '', expected: ',' or ')'"),
        ("x in (a b)", PARSE + "found 'b', expected: ',' or ')'"),
        ("x in (,", PARSE + "found '', expected: ',', or identifier"),
        ("x in (a,=)", PARSE + "found '=', expected: ',', or identifier"),
        ("-x", PARSE + f'<nil>: Invalid value: "-x": name part {NAME_RULE}'),
        ("x_", PARSE + f'<nil>: Invalid value: "x_": name part {NAME_RULE}'),
        ("/x", PARSE + '<nil>: Invalid value: "/x": prefix part must be non-empty'),
        (
            "x/",
            PARSE
            + f'<nil>: Invalid value: "x/": name part must be non-empty; name part {NAME_RULE}',
        ),
        ("Ex.com/x", PARSE + f'<nil>: Invalid value: "Ex.com/x": prefix part {SUBDOMAIN_RULE}'),
        (
            "a/b/c",
            PARSE
            + '<nil>: Invalid value: "a/b/c": a valid label key '
            + NAME_RULE
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
        ),
        (
            "k" * 64,
            PARSE + f'<nil>: Invalid value: "{"k" * 64}": name part must be no more than 63 bytes',
        ),
        (
            "a" * 254 + "/x",
            PARSE
            + f'<nil>: Invalid value: "{"a" * 254}/x": prefix part must be no more than 253 bytes',
        ),
        ("x=-a", PARSE + f'values[0][x]: Invalid value: "-a": {VALUE_RULE}'),
        # values are a sorted set, as in apimachinery, so "b_" is values[0]
        ("x in (ok,b_)", PARSE + f'values[0][x]: Invalid value: "b_": {VALUE_RULE}'),
        (
            "x=" + "v" * 64,
            PARSE + f'values[0][x]: Invalid value: "{"v" * 64}": must be no more than 63 bytes',
        ),
        (
            "x>a",
            PARSE
            + "values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an "
            "integer",
        ),
        (
            "x<",
            PARSE
            + "values[0]: Invalid value: \"\": for 'Gt', 'Lt' operators, the value must be an "
            "integer",
        ),
        (
            "x>9223372036854775808",
            PARSE + "values[0]: Invalid value: \"9223372036854775808\": for 'Gt', 'Lt' operators, "
            "the value must be an integer",
        ),
        (
            "x>-a",
            PARSE
            + "[values[0]: Invalid value: \"-a\": for 'Gt', 'Lt' operators, the value must be an "
            f'integer, values[0][x]: Invalid value: "-a": {VALUE_RULE}]',
        ),
        ("x=\x00", PARSE + f'values[0][x]: Invalid value: "\\x00": {VALUE_RULE}'),
    ],
)
def test_label_selector_parse_rejects_with_apiserver_message(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as info:
        LabelSelector.parse(text)
    assert str(info.value) == message


def test_label_selector_parse_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unable to parse requirement"):
        LabelSelector.parse("x in (")


# --- label requirements built directly -------------------------------------------------------


def test_label_requirement_normalises_values_and_double_equals() -> None:
    req = LabelRequirement("x", "in", ["b", "a", "b"])
    assert req.values == ("a", "b")
    assert LabelRequirement("x", "==", ["a"]) == LabelRequirement("x", "=", ("a",))
    assert str(LabelRequirement("x", "!", ())) == "!x"


@pytest.mark.parametrize(
    ("key", "operator", "values", "message"),
    [
        (
            "x",
            "in",
            (),
            "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be "
            "empty",
        ),
        (
            "x",
            "notin",
            (),
            "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be "
            "empty",
        ),
        (
            "x",
            "=",
            ("a", "b"),
            'values: Invalid value: []string{"a", "b"}: exact-match compatibility requires one '
            "single value",
        ),
        (
            "x",
            "!=",
            (),
            "values: Invalid value: []string{}: exact-match compatibility requires one single "
            "value",
        ),
        (
            "x",
            "exists",
            ("a",),
            'values: Invalid value: []string{"a"}: values set must be empty for exists and does '
            "not exist",
        ),
        (
            "x",
            "gt",
            ("1", "2"),
            "values: Invalid value: []string{\"1\", \"2\"}: for 'Gt', 'Lt' operators, exactly one "
            "value is required",
        ),
        (
            "x",
            "~",
            (),
            'operator: Unsupported value: "~": supported values: "in", "notin", "=", "==", "!=", '
            '"gt", "lt", "exists", "!"',
        ),
        (
            "",
            "exists",
            (),
            f'key: Invalid value: "": name part must be non-empty; name part {NAME_RULE}',
        ),
        ("a b", "=", ("v",), f'key: Invalid value: "a b": name part {NAME_RULE}'),
        ("k", "=", ('"\t',), f'values[0][k]: Invalid value: "\\"\\t": {VALUE_RULE}'),
    ],
)
def test_label_requirement_rejects_invalid(
    key: str, operator: str, values: tuple[str, ...], message: str
) -> None:
    with pytest.raises(SelectorError) as info:
        LabelRequirement(key, operator, values)
    assert str(info.value) == message


def test_label_requirement_rejects_a_bare_string_as_values() -> None:
    with pytest.raises(SelectorError, match="sequence of strings"):
        LabelRequirement("x", "in", "abc")


# --- building label selectors from dicts -----------------------------------------------------


def test_label_selector_from_labels_builds_equality_terms() -> None:
    selector = LabelSelector.from_labels({"b": "2", "a": "1"})
    assert str(selector) == "a=1,b=2"
    assert selector.matches({"a": "1", "b": "2", "c": "3"})
    assert not selector.matches({"a": "1"})
    assert LabelSelector.from_labels({}).empty


def test_label_selector_from_labels_rejects_invalid_value() -> None:
    with pytest.raises(SelectorError) as info:
        LabelSelector.from_labels({"app": "not valid"})
    assert str(info.value) == f'values[0][app]: Invalid value: "not valid": {VALUE_RULE}'


@pytest.mark.parametrize("selector", [None, {}, {"matchLabels": None, "matchExpressions": None}])
def test_label_selector_from_label_selector_empty_selects_everything(
    selector: dict[str, object] | None,
) -> None:
    result = LabelSelector.from_label_selector(selector)
    assert result.empty
    assert result.matches({"anything": "x"})


def test_label_selector_from_label_selector_converts_every_operator() -> None:
    selector = LabelSelector.from_label_selector(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["front", "edge"]},
                {"key": "env", "operator": "NotIn", "values": ["prod"]},
                {"key": "team", "operator": "Exists"},
                {"key": "legacy", "operator": "DoesNotExist", "values": []},
            ],
        }
    )
    assert str(selector) == "app=web,env notin (prod),!legacy,team,tier in (edge,front)"
    assert selector.matches({"app": "web", "tier": "edge", "team": "a"})
    assert not selector.matches({"app": "web", "tier": "edge", "team": "a", "env": "prod"})
    assert not selector.matches({"app": "web", "tier": "edge", "team": "a", "legacy": ""})
    assert not selector.matches({"app": "web", "tier": "edge"})


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        (
            {
                "matchExpressions": [
                    {"key": "a", "operator": "Exists"},
                    {"key": "b", "operator": "In"},
                ]
            },
            "matchExpressions[1].values: Required value: must be specified when `operator` is "
            "'In' or 'NotIn'",
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "NotIn", "values": []}]},
            "matchExpressions[0].values: Required value: must be specified when `operator` is "
            "'In' or 'NotIn'",
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "DoesNotExist", "values": ["x"]}]},
            "matchExpressions[0].values: Forbidden: may not be specified when `operator` is "
            "'Exists' or 'DoesNotExist'",
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]},
            'matchExpressions[0].operator: Invalid value: "Gt": not a valid selector operator',
        ),
        (
            {"matchExpressions": [{"key": "-a", "operator": "Exists"}]},
            f'matchExpressions[0].key: Invalid value: "-a": name part {NAME_RULE}',
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "In", "values": ["ok", "no way"]}]},
            f'matchExpressions[0].values[1]: Invalid value: "no way": {VALUE_RULE}',
        ),
        (
            {"matchLabels": {"a b": "x"}},
            f'matchLabels: Invalid value: "a b": name part {NAME_RULE}',
        ),
        ({"matchLabels": {"a": "x y"}}, f'matchLabels: Invalid value: "x y": {VALUE_RULE}'),
        (
            {"matchLabels": {"a": 1}},
            "matchLabels[a]: Invalid value: 1: expected a string",
        ),
        ({"matchLabels": ["a"]}, "matchLabels: Invalid value: expected an object of strings"),
        (
            {"matchExpressions": {"key": "a"}},
            "matchExpressions: Invalid value: expected a list of requirements",
        ),
        (
            {"app": "web"},
            "app: unknown field (a label selector has matchLabels and matchExpressions)",
        ),
        (
            {
                "matchExpressions": [
                    {"key": "a", "operator": "In"},
                    {"operator": "Exists"},
                ]
            },
            "[matchExpressions[0].values: Required value: must be specified when `operator` is "
            "'In' or 'NotIn', matchExpressions[1].key: Required value: expected a string]",
        ),
    ],
)
def test_label_selector_from_label_selector_rejects_with_path(
    selector: dict[str, object], message: str
) -> None:
    with pytest.raises(SelectorError) as info:
        LabelSelector.from_label_selector(selector)
    assert str(info.value) == message


def test_label_selector_from_label_selector_prefixes_path() -> None:
    with pytest.raises(SelectorError) as info:
        LabelSelector.from_label_selector(
            {"matchExpressions": [{"key": "a", "operator": "Bad"}]}, path="spec.selector"
        )
    assert str(info.value) == (
        'spec.selector.matchExpressions[0].operator: Invalid value: "Bad": not a valid selector '
        "operator"
    )


# --- field selectors -------------------------------------------------------------------------

POD = {"metadata.name": "web-1", "metadata.namespace": "default", "status.phase": "Running"}


@pytest.mark.parametrize(
    ("text", "fields", "expected"),
    [
        ("metadata.name=web-1", POD, True),
        ("metadata.name==web-1", POD, True),
        ("metadata.name=web-2", POD, False),
        ("metadata.name!=web-2", POD, True),
        ("metadata.name!=web-1", POD, False),
        ("spec.nodeName=", POD, True),  # a missing field counts as ""
        ("spec.nodeName!=", POD, False),
        ("spec.nodeName=node", POD, False),
        ("spec.nodeName!=node", POD, True),
        ("metadata.name=web-1,status.phase=Running", POD, True),
        ("metadata.name=web-1,status.phase!=Running", POD, False),
        ("metadata.name=web-1,metadata.name=web-1", POD, True),  # kr8s sends duplicates
        ("metadata.name=web-1,,", POD, True),
        ("", POD, True),
        ("=", POD, True),  # an empty term is dropped
        ("metadata.name= web-1", POD, False),  # no trimming in field selectors
        ("a=x\\,y\\=z\\\\", {"a": "x,y=z\\"}, True),
    ],
)
def test_field_selector_matches_examples(text: str, fields: dict[str, str], expected: bool) -> None:
    assert FieldSelector.parse(text).matches(fields) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'"),
        ("a=1,b", "invalid selector: 'a=1,b'; can't understand 'b'"),
        ("a=b=c", "invalid field selector: unescaped character in value: 61"),
        ("a==b=c", "invalid field selector: unescaped character in value: 61"),
        ("a=\\q", "invalid field selector: invalid escape sequence: \\q"),
        ("a=x\\", "invalid field selector: invalid escape sequence: \\"),
        # terms are examined in sorted order, so the error reported is the first in that order
        ("z,a=\\q", "invalid field selector: invalid escape sequence: \\q"),
        ("a,z=\\q", "invalid selector: 'a,z=\\q'; can't understand 'a'"),
    ],
)
def test_field_selector_parse_rejects_with_apiserver_message(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as info:
        FieldSelector.parse(text)
    assert str(info.value) == message


def test_field_selector_parse_splits_at_first_operator() -> None:
    assert FieldSelector.parse("a!b=c").requirements == (FieldRequirement("a!b", "=", "c"),)
    assert FieldSelector.parse("a==b").requirements == (FieldRequirement("a", "=", "b"),)
    assert FieldSelector.parse("a!=!b").requirements == (FieldRequirement("a", "!=", "!b"),)
    assert FieldSelector.parse("a\\,b=c").requirements == (FieldRequirement("a\\,b", "=", "c"),)
    assert FieldSelector.parse("=x").requirements == (FieldRequirement("", "=", "x"),)


def test_field_selector_fields_lists_names() -> None:
    selector = FieldSelector.parse("metadata.name=a,status.phase!=b,metadata.name=a")
    assert selector.fields == frozenset({"metadata.name", "status.phase"})
    assert len(selector.requirements) == 3
    assert FieldSelector.parse("").fields == frozenset()
    assert FieldSelector.parse("").empty
    assert not selector.empty


def test_field_selector_str_escapes_values() -> None:
    selector = FieldSelector.from_mapping({"b": "x,y", "a": "p=q\\"})
    assert str(selector) == "a=p\\=q\\\\,b=x\\,y"
    assert FieldSelector.parse(str(selector)) == selector
    assert selector.matches({"a": "p=q\\", "b": "x,y"})


@pytest.mark.parametrize(
    ("field", "operator", "value"),
    [("a=b", "=", "x"), ("a!", "=", "x"), ("a,b", "=", "x"), ("", "=", ""), ("a", "<", "1")],
)
def test_field_requirement_rejects_unprintable_terms(field: str, operator: str, value: str) -> None:
    with pytest.raises(SelectorError, match="field selector term"):
        FieldRequirement(field, operator, value)


# --- properties ------------------------------------------------------------------------------

ALNUM = "abcXYZ0189"
label_names = st.one_of(
    st.sampled_from(ALNUM),
    st.builds(
        lambda first, middle, last: first + middle + last,
        st.sampled_from(ALNUM),
        st.text(alphabet=ALNUM + "-_.", max_size=61),
        st.sampled_from(ALNUM),
    ),
)
dns_labels = st.builds(
    lambda first, middle: first + middle.rstrip("-") if middle.rstrip("-") else first,
    st.sampled_from("az09"),
    st.text(alphabet="az09-", max_size=8),
)
prefixes = st.lists(dns_labels, min_size=1, max_size=4).map(".".join)
label_keys = st.one_of(
    label_names,
    st.builds(lambda p, n: f"{p}/{n}", prefixes, label_names),
    st.sampled_from(["in", "notin"]),
)
label_values = st.one_of(st.just(""), label_names, st.sampled_from(["in", "notin"]))
small_keys = st.sampled_from(["a", "b", "example.com/c"])
small_values = st.sampled_from(["", "x", "y", "1", "20", "300"])
integers = st.integers(min_value=0, max_value=2**63 - 1).map(str)


@st.composite
def label_requirements(
    draw: st.DrawFn, keys: st.SearchStrategy[str] = label_keys
) -> LabelRequirement:
    key = draw(keys)
    operator = draw(st.sampled_from(["=", "!=", "in", "notin", "exists", "!", "gt", "lt"]))
    if operator in ("exists", "!"):
        return LabelRequirement(key, operator)
    if operator in ("gt", "lt"):
        return LabelRequirement(key, operator, [draw(integers)])
    if operator in ("in", "notin"):
        return LabelRequirement(key, operator, draw(st.lists(label_values, min_size=1, max_size=4)))
    return LabelRequirement(key, operator, [draw(label_values)])


label_selectors = st.lists(label_requirements(), max_size=5).map(LabelSelector)
label_sets = st.dictionaries(small_keys, small_values, max_size=3)


@given(label_selectors)
@example(LabelSelector.parse("in in (in,notin),notin notin (),x in (,a)"))
def test_label_selector_str_parse_round_trip(selector: LabelSelector) -> None:
    assert LabelSelector.parse(str(selector)) == selector


@given(st.dictionaries(label_keys, label_values, max_size=5))
def test_label_selector_from_labels_matches_its_labels(labels: dict[str, str]) -> None:
    selector = LabelSelector.from_labels(labels)
    assert selector.matches(labels)
    assert LabelSelector.parse(str(selector)) == selector


@given(small_keys, st.lists(small_values, min_size=1, max_size=3), label_sets)
def test_label_requirement_negation_laws(
    key: str, values: list[str], labels: dict[str, str]
) -> None:
    one = values[:1]
    assert LabelRequirement(key, "!=", one).matches(labels) is not LabelRequirement(
        key, "=", one
    ).matches(labels)
    assert LabelRequirement(key, "notin", values).matches(labels) is not LabelRequirement(
        key, "in", values
    ).matches(labels)
    assert LabelRequirement(key, "!").matches(labels) is not LabelRequirement(
        key, "exists"
    ).matches(labels)


@given(small_keys, st.sampled_from(["1", "20", "300"]), label_sets)
def test_label_requirement_gt_lt_compare_integers(
    key: str, bound: str, labels: dict[str, str]
) -> None:
    value = labels.get(key)
    is_int = value is not None and value.isdigit()
    gt = LabelRequirement(key, "gt", [bound]).matches(labels)
    lt = LabelRequirement(key, "lt", [bound]).matches(labels)
    assert gt is (is_int and int(value or "0") > int(bound))
    assert lt is (is_int and int(value or "0") < int(bound))


@given(st.lists(label_requirements(small_keys), max_size=4), label_sets)
def test_label_selector_matches_is_conjunction(
    reqs: list[LabelRequirement], labels: dict[str, str]
) -> None:
    assert LabelSelector(reqs).matches(labels) is all(r.matches(labels) for r in reqs)


@given(st.text(alphabet="ab =!(),<>in1-_./\t\\", max_size=20))
def test_label_selector_parse_accepts_or_raises_selector_error(text: str) -> None:
    try:
        selector = LabelSelector.parse(text)
    except SelectorError:
        return
    assert LabelSelector.parse(str(selector)) == selector


def _field_requirement_or_none(field: str, operator: str, value: str) -> FieldRequirement | None:
    try:
        return FieldRequirement(field, operator, value)
    except SelectorError:
        return None


maybe_field_requirements = st.builds(
    _field_requirement_or_none,
    st.text(alphabet="ab.[]!\\=, ", max_size=8),
    st.sampled_from(["=", "!="]),
    st.text(alphabet="ab\\=,! ", max_size=8),
)


@given(st.lists(maybe_field_requirements, max_size=5))
@example([FieldRequirement("a\\", "=", "\\,="), FieldRequirement("b\\", "!=", ",")])
def test_field_selector_str_parse_round_trip(reqs: list[FieldRequirement | None]) -> None:
    selector = FieldSelector(r for r in reqs if r is not None)
    assert FieldSelector.parse(str(selector)) == selector


@given(st.dictionaries(st.sampled_from(["metadata.name", "spec.x", "a"]), st.text(max_size=6)))
def test_field_selector_from_mapping_matches_its_fields(fields: dict[str, str]) -> None:
    selector = FieldSelector.from_mapping(fields)
    assert selector.matches(fields)
    assert FieldSelector.parse(str(selector)) == selector


@given(
    st.sampled_from(["a", "b"]),
    st.text(alphabet="xy,=\\", max_size=3),
    st.dictionaries(st.sampled_from(["a", "b"]), st.text(alphabet="xy,=\\", max_size=3)),
)
def test_field_requirement_not_equal_negates_equal(
    field: str, value: str, fields: dict[str, str]
) -> None:
    equal = FieldRequirement(field, "=", value).matches(fields)
    assert FieldRequirement(field, "!=", value).matches(fields) is not equal
    assert equal is (fields.get(field, "") == value)


@given(st.text(alphabet="ab=!,\\ ", max_size=16))
def test_field_selector_parse_accepts_or_raises_selector_error(text: str) -> None:
    try:
        selector = FieldSelector.parse(text)
    except SelectorError:
        return
    assert FieldSelector.parse(str(selector)) == selector
