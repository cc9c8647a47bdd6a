"""kr8s ``wait()`` conditions (`_core._conditions`): parsing, evaluation, deletion semantics."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given, strategies as st

from kr8s_trio._core._conditions import (
    Condition,
    Created,
    Deleted,
    JSONPathCondition,
    StatusCondition,
    parse_condition,
    parse_conditions,
)


def _pod(*conditions: tuple[str, str], **status: object) -> dict[str, object]:
    return {
        "metadata": {"name": "p", "generation": 1},
        "status": {"conditions": [{"type": t, "status": s} for t, s in conditions], **status},
    }


READY = _pod(("Ready", "True"), ("PodScheduled", "True"), phase="Running", readyReplicas=3)

# --- parsing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("condition=Ready", StatusCondition("Ready", "True")),
        ("condition=Ready=true", StatusCondition("Ready", "True")),
        ("condition=Ready=FALSE", StatusCondition("Ready", "False")),
        ("condition=Ready=Unknown", StatusCondition("Ready", "Unknown")),
        (" delete ", Deleted()),
        ("create", Created()),
        ("jsonpath='{.status.phase}'=Running", JSONPathCondition("{.status.phase}", "Running")),
        ("jsonpath={.status.phase}=Running", JSONPathCondition("{.status.phase}", "Running")),
        ('jsonpath=".status.phase"="Running"', JSONPathCondition("{.status.phase}", "Running")),
        ("jsonpath=status.phase=Running", JSONPathCondition("{.status.phase}", "Running")),
        ("jsonpath='{.status.readyReplicas}'=3", JSONPathCondition("{.status.readyReplicas}", "3")),
        ("jsonpath='{.status.phase}'", JSONPathCondition("{.status.phase}", None)),
        ("jsonpath={.a}=x=y", JSONPathCondition("{.a}", "x=y")),
        (
            "jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}'=True",
            JSONPathCondition('{.status.conditions[?(@.type=="Ready")].status}', "True"),
        ),
        (
            "jsonpath={.status.conditions[?(@.type=='Ready')].status}=True",
            JSONPathCondition("{.status.conditions[?(@.type=='Ready')].status}", "True"),
        ),
    ],
)
def test_parse_condition_forms(text: str, expected: Condition) -> None:
    assert parse_condition(text) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("foo", "unknown condition 'foo': expected condition="),
        ("Ready", "unknown condition"),
        ("deleted", "unknown condition"),
        ("condition=", "condition type is empty"),
        ("condition==True", "condition type is empty"),
        ("condition=Ready=", "status after '=' is empty"),
        ("jsonpath=", "expression is empty"),
        ("jsonpath=''=x", "expression is empty"),
        ("jsonpath='{.a}'=", "value after '=' is empty"),
        ("jsonpath='{.a}'=''", "value after '=' is empty"),
        ("jsonpath='{.a}", "unterminated"),
        ("jsonpath={.a]}=1", "unbalanced"),
        ("jsonpath='{.a}'x", "unexpected"),
        ("jsonpath={.a..b}=1", "unsupported JSONPath"),
    ],
)
def test_parse_condition_errors_quote_the_condition(text: str, why: str) -> None:
    with pytest.raises(ValueError, match="condition") as info:
        parse_condition(text)
    assert why in str(info.value)
    assert repr(text) in str(info.value)


def test_parse_condition_rejects_non_strings() -> None:
    with pytest.raises(TypeError, match="must be a string"):
        parse_condition(3)  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["", "ANY", "some", "first"])
def test_parse_conditions_rejects_invalid_mode(mode: str) -> None:
    with pytest.raises(ValueError, match="invalid wait mode"):
        parse_conditions("delete", mode)


def test_parse_conditions_rejects_empty_list() -> None:
    with pytest.raises(ValueError, match="no wait conditions"):
        parse_conditions([])


def test_parse_conditions_all_mode_rejects_delete_with_presence_conditions() -> None:
    with pytest.raises(ValueError, match="never hold together"):
        parse_conditions(["delete", "condition=Ready"], "all")
    assert parse_conditions(["delete", "condition=Ready"], "any").waits_for_deletion


def test_parse_conditions_keeps_order_and_mode() -> None:
    parsed = parse_conditions(["condition=Ready", "delete"])
    assert parsed.items == (StatusCondition("Ready"), Deleted())
    assert parsed.mode == "any"
    assert parse_conditions("create", "all").mode == "all"


# --- evaluation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "raw", "expected"),
    [
        ("condition=Ready", READY, True),
        ("condition=ready", READY, True),  # kubectl compares types without case
        ("condition=Ready=False", READY, False),
        ("condition=Ready=false", _pod(("Ready", "False")), True),
        ("condition=Ready=Unknown", _pod(("Ready", "Unknown")), True),
        ("condition=Ready=unknown", _pod(("Ready", "Unknown")), False),
        ("condition=Ready", _pod(("Ready", "true")), True),
        ("condition=Available", READY, False),
        ("condition=Ready", {"metadata": {}}, False),
        ("condition=Ready", {"status": {"conditions": "junk"}}, False),
        ("jsonpath={.status.phase}=Running", READY, True),
        ("jsonpath={.status.phase}=Pending", READY, False),
        ("jsonpath={.status.readyReplicas}=3", READY, True),
        ("jsonpath={.status.readyReplicas}=' 3 '", READY, True),
        ("jsonpath={.status.missing}=3", READY, False),
        ("jsonpath={.status.phase}", READY, True),
        ("jsonpath={.status.missing}", READY, False),
        ("jsonpath={.status.conditions}=x", READY, False),  # lists never equal a value
        ("jsonpath={.status.conditions[*].status}=True", READY, True),
        ("jsonpath={.status.conditions[*].type}=PodScheduled", READY, True),
        ('jsonpath={.status.conditions[?(@.type=="Ready")].status}=True', READY, True),
        ('jsonpath={.status.conditions[?(@.type=="Gone")].status}=True', READY, False),
        ("jsonpath={.status.flag}=true", {"status": {"flag": True}}, True),
        ("jsonpath={.status.n}", {"status": {"n": None}}, True),
        ("jsonpath={.status.n}=null", {"status": {"n": None}}, False),
        ("create", READY, True),
        ("delete", READY, False),
    ],
)
def test_conditions_check_snapshot(text: str, raw: Mapping[str, object], expected: bool) -> None:
    assert parse_conditions(text).check(raw) is expected


def test_conditions_check_stale_condition_is_not_satisfied() -> None:
    raw = {
        "metadata": {"generation": 3},
        "status": {"observedGeneration": 2, "conditions": [{"type": "Ready", "status": "True"}]},
    }
    assert not parse_conditions("condition=Ready").check(raw)
    raw["status"]["observedGeneration"] = 3  # type: ignore[index]
    assert parse_conditions("condition=Ready").check(raw)
    # A condition's own observedGeneration wins over the status one.
    raw["status"]["conditions"][0]["observedGeneration"] = 1  # type: ignore[index]
    assert not parse_conditions("condition=Ready").check(raw)


def test_conditions_check_any_and_all() -> None:
    texts = ["condition=Ready", "jsonpath={.status.phase}=Pending"]
    assert parse_conditions(texts, "any").check(READY)
    assert not parse_conditions(texts, "all").check(READY)
    assert parse_conditions(texts, "all").unmet(READY) == [
        JSONPathCondition("{.status.phase}", "Pending")
    ]


@pytest.mark.parametrize(
    ("texts", "mode", "by_deletion"),
    [
        (["delete"], "any", True),
        (["delete"], "all", True),
        (["delete", "delete"], "all", True),
        (["condition=Ready", "delete"], "any", True),
        (["condition=Ready"], "any", False),
        (["create"], "any", False),
        (["jsonpath={.a}"], "all", False),
    ],
)
def test_conditions_satisfied_by_deletion(texts: list[str], mode: str, by_deletion: bool) -> None:
    parsed = parse_conditions(texts, mode)
    assert parsed.satisfied_by_deletion is by_deletion
    assert parsed.check(None) is by_deletion
    assert parsed.waits_for_deletion is ("delete" in texts)


# --- properties ---------------------------------------------------------------------------------

_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789-_", min_size=1)
_status = st.sampled_from(["True", "False", "Unknown", "Pending"])
_path = st.lists(st.text(alphabet="abcxyz", min_size=1, max_size=4), min_size=1, max_size=3)
_value = st.text(alphabet="abcXYZ019 =.:/-", min_size=1).map(str.strip).filter(bool)
_condition = st.one_of(
    st.builds(StatusCondition, _word, _status),
    st.just(Deleted()),
    st.just(Created()),
    st.builds(
        JSONPathCondition,
        _path.map(lambda p: "{." + ".".join(p) + "}"),
        st.none() | _value,
    ),
)


@given(st.lists(_condition, min_size=1, max_size=5), st.sampled_from(["any", "all"]))
def test_parse_conditions_round_trips_text(conditions: list[Condition], mode: str) -> None:
    if mode == "all" and any(isinstance(c, Deleted) for c in conditions):
        mode = "any"
    parsed = parse_conditions([str(c) for c in conditions], mode)
    assert list(parsed.items) == conditions
    assert parsed.mode == mode


_entries = st.lists(st.tuples(st.sampled_from(["Ready", "Synced", "Available"]), _status))


@given(_entries, st.sampled_from(["Ready", "Synced", "Available"]), _status)
def test_status_condition_matches_first_entry_of_type(
    entries: list[tuple[str, str]], kind: str, status: str
) -> None:
    raw = {"status": {"conditions": [{"type": t, "status": s} for t, s in entries]}}
    first = next((s for t, s in entries if t == kind), None)
    assert StatusCondition(kind, status).holds(raw) is (first == status)
    assert not StatusCondition(kind, status).holds(None)


@given(
    st.dictionaries(
        st.sampled_from(["a", "b", "c"]),
        st.one_of(st.integers(-3, 3), st.booleans(), st.sampled_from(["x", "3", "true"])),
    ),
    st.sampled_from(["a", "b", "c"]),
    st.sampled_from(["x", "3", "true", "-1"]),
)
def test_jsonpath_condition_compares_go_text(
    status: dict[str, object], key: str, value: str
) -> None:
    raw = {"status": status}
    cond = parse_condition(f"jsonpath='{{.status.{key}}}'={value}")
    got = status.get(key)
    if key not in status:
        expected = False
    elif isinstance(got, bool):
        expected = value == ("true" if got else "false")
    else:
        expected = value == str(got)  # str and int print as themselves
    assert cond.holds(raw) is expected
    assert parse_condition(f"jsonpath={{.status.{key}}}").holds(raw) is (key in status)


@given(st.lists(_condition, min_size=1, max_size=4), st.none() | st.just(READY))
def test_conditions_any_all_agree_with_members(
    conditions: list[Condition], raw: Mapping[str, object] | None
) -> None:
    results = [c.holds(raw) for c in conditions]
    texts = [str(c) for c in conditions]
    assert parse_conditions(texts, "any").check(raw) is any(results)
    if not any(isinstance(c, Deleted) for c in conditions):
        assert parse_conditions(texts, "all").check(raw) is all(results)
        assert len(parse_conditions(texts, "all").unmet(raw)) == results.count(False)
