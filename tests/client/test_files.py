"""Reading manifest files and directories with kubectl's ``-f PATH [-R]`` rules."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import trio
import yaml

from kr8s_trio import _files
from kr8s_trio._core._manifests import ManifestError
from kr8s_trio._files import find_manifest_files, load_manifests


def cm(name: str) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}


def write_yaml(path: Path, *names: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all([cm(n) for n in names]))


def names(objects: list[dict[str, object]]) -> list[str]:
    return [o["metadata"]["name"] for o in objects]  # type: ignore[index]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """
    tmp/
      a.yaml          a1, a2
      b.yml           b
      c.json          c (a List of one)
      d/              (recursive only)
        e.yaml        e
        f/g.json      g
      h.yaml.bak      ignored
      i.txt           ignored
      j.YAML          ignored (case-sensitive, like kubectl)
      .k.yaml         k (hidden files are not special)
      .l/m.yaml       m (recursive only)
      z.yaml          z
    """
    write_yaml(tmp_path / "a.yaml", "a1", "a2")
    write_yaml(tmp_path / "b.yml", "b")
    (tmp_path / "c.json").write_text(
        json.dumps({"apiVersion": "v1", "kind": "List", "items": [cm("c")]})
    )
    write_yaml(tmp_path / "d" / "e.yaml", "e")
    (tmp_path / "d" / "f").mkdir()
    (tmp_path / "d" / "f" / "g.json").write_text(json.dumps(cm("g")))
    write_yaml(tmp_path / "h.yaml.bak", "h")
    (tmp_path / "i.txt").write_text("not: [a manifest")
    write_yaml(tmp_path / "j.YAML", "j")
    write_yaml(tmp_path / ".k.yaml", "k")
    write_yaml(tmp_path / ".l" / "m.yaml", "m")
    write_yaml(tmp_path / "z.yaml", "z")
    return tmp_path


async def test_files_directory_picks_manifest_suffixes(tree: Path) -> None:
    objects = await load_manifests(tree)
    assert names(objects) == ["k", "a1", "a2", "b", "c", "z"]
    assert all(o["kind"] == "ConfigMap" for o in objects)


async def test_files_directory_recursive_walks_depth_first_in_name_order(tree: Path) -> None:
    objects = await load_manifests(tree, recursive=True)
    # ".k.yaml" < ".l/" < "a.yaml" < "b.yml" < "c.json" < "d/" (e, f/g) < "z.yaml"
    assert names(objects) == ["k", "m", "a1", "a2", "b", "c", "e", "g", "z"]


def test_files_find_manifest_files(tree: Path) -> None:
    assert [os.path.relpath(p, tree) for p in find_manifest_files(tree)] == [
        ".k.yaml",
        "a.yaml",
        "b.yml",
        "c.json",
        "z.yaml",
    ]
    assert [os.path.relpath(p, tree) for p in find_manifest_files(str(tree), recursive=True)] == [
        ".k.yaml",
        os.path.join(".l", "m.yaml"),
        "a.yaml",
        "b.yml",
        "c.json",
        os.path.join("d", "e.yaml"),
        os.path.join("d", "f", "g.json"),
        "z.yaml",
    ]


async def test_files_subdirectory_as_path(tree: Path) -> None:
    assert names(await load_manifests(tree / "d")) == ["e"]
    assert names(await load_manifests(tree / "d", recursive=True)) == ["e", "g"]


async def test_files_directory_with_trailing_separator_and_str(tree: Path) -> None:
    assert names(await load_manifests(str(tree / "d") + os.sep, recursive=True)) == ["e", "g"]


@pytest.mark.parametrize("name", ["a.yaml", "b.yml", "c.json", "h.yaml.bak", "j.YAML"])
async def test_files_explicit_file_any_suffix(tree: Path, name: str) -> None:
    objects = await load_manifests(tree / name)
    expected = {"a.yaml": ["a1", "a2"], "b.yml": ["b"], "c.json": ["c"]}
    assert names(objects) == expected.get(name, [name[0]])


async def test_files_explicit_file_with_recursive_is_just_the_file(tree: Path) -> None:
    assert names(await load_manifests(tree / "z.yaml", recursive=True)) == ["z"]


async def test_files_explicit_non_manifest_file_is_parsed(tree: Path) -> None:
    with pytest.raises(ManifestError) as info:
        await load_manifests(tree / "i.txt")
    assert info.value.source == str(tree / "i.txt")


async def test_files_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("hello")
    assert await load_manifests(tmp_path) == []
    assert await load_manifests(tmp_path, recursive=True) == []


@pytest.mark.parametrize("recursive", [False, True])
async def test_files_missing_path(tmp_path: Path, recursive: bool) -> None:
    missing = tmp_path / "nope" / "deploy.yaml"
    with pytest.raises(FileNotFoundError) as info:
        await load_manifests(missing, recursive=recursive)
    assert info.value.filename == str(missing)
    assert str(missing) in str(info.value)


async def test_files_error_names_the_file(tree: Path) -> None:
    bad = tree / "d" / "f" / "bad.yaml"
    bad.write_text(yaml.safe_dump(cm("ok")) + "---\nkind: Secret\ndata: {token: s3cr3tvalue}\n")
    assert names(await load_manifests(tree)) == ["k", "a1", "a2", "b", "c", "z"]
    with pytest.raises(ManifestError) as info:
        await load_manifests(tree, recursive=True)
    assert str(info.value) == f"{bad}, document 2: 'apiVersion' is missing"
    assert "s3cr3tvalue" not in str(info.value)


async def test_files_syntax_error_has_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("apiVersion: v1\nkind: ConfigMap\ndata:\n  a: [1\n")
    with pytest.raises(ManifestError) as info:
        await load_manifests(tmp_path)
    assert info.value.source == str(bad)
    assert info.value.document == 1
    assert info.value.line is not None


async def test_files_utf16_and_bom(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_bytes(yaml.safe_dump(cm("a")).encode("utf-16"))
    (tmp_path / "b.yaml").write_bytes(b"\xef\xbb\xbf" + yaml.safe_dump(cm("b")).encode())
    assert names(await load_manifests(tmp_path)) == ["a", "b"]


async def test_files_invalid_utf8_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bin.yaml"
    bad.write_bytes(b"apiVersion: v1\nkind: \xff\xfe\n")
    with pytest.raises(ManifestError) as info:
        await load_manifests(bad)
    assert str(info.value) == f"{bad}, line 2: not valid utf-8-sig text"


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
async def test_files_symlinks(tmp_path: Path) -> None:
    real = tmp_path / "real"
    write_yaml(real / "a.yaml", "a")
    top = tmp_path / "top"
    top.mkdir()
    (top / "link.yaml").symlink_to(real / "a.yaml")
    (top / "linkdir").symlink_to(real, target_is_directory=True)
    (top / "loop").symlink_to(top, target_is_directory=True)
    # links to files are read, links to directories are not descended into (no loops)
    assert names(await load_manifests(top, recursive=True)) == ["a"]
    # the given path may itself be a link to a directory
    assert names(await load_manifests(top / "linkdir")) == ["a"]
    # a dangling link with a manifest suffix is an error naming it
    (top / "dangling.yaml").symlink_to(tmp_path / "gone.yaml")
    with pytest.raises(FileNotFoundError):
        await load_manifests(top)


async def test_files_big_file_is_parsed_in_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_files, "INLINE_PARSE_LIMIT", 100)
    calls: list[object] = []
    real_run_sync = trio.to_thread.run_sync

    async def spy(fn: object, *args: object, **kwargs: object) -> object:
        calls.append(fn)
        return await real_run_sync(fn, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(trio.to_thread, "run_sync", spy)
    write_yaml(tmp_path / "small.yaml", "s")
    write_yaml(tmp_path / "zbig.yaml", *[f"b{i}" for i in range(20)])
    objects = await load_manifests(tmp_path)
    assert names(objects) == ["s"] + [f"b{i}" for i in range(20)]
    assert _files._parse_file in calls
    assert calls.count(_files._parse_file) == 1


async def test_files_cancellation(tree: Path) -> None:
    with trio.CancelScope() as scope:
        scope.cancel()
        await load_manifests(tree, recursive=True)
    assert scope.cancelled_caught
