"""The verbs that edit metadata: labels, annotations and owner references (a base of
`APIObject`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from kr8s_trio._core._exceptions import ConflictError
from kr8s_trio._core._selectorbuild import merge_patch_for, parse_label_edits
from kr8s_trio._objects._data import ObjectData

__all__ = ["MetadataVerbs"]

#: how often an ownerReferences edit is retried after losing a race (409 Conflict)
_OWNER_RETRIES = 5


class MetadataVerbs(ObjectData):
    """`label`, `remove_label`, `annotate`, `set_owner`, `adopt` (patches through `APIObject`)."""

    __slots__ = ()

    if TYPE_CHECKING:  # provided by APIObject

        async def patch(self, patch: Mapping[str, Any]) -> None: ...

        async def refresh(self) -> None: ...

    async def label(self, *labels: Mapping[str, str | None] | str, **kwargs: str) -> None:
        """Set or remove labels: ``label({"app": "web"})``, ``label(app="web")``,
        ``label("app=web", "tier-")`` (kubectl's syntax: ``key-`` removes).

        Raises:
            SelectorError (a ValueError): no labels, or an invalid key or value.

        Cancellation:
            The labels may or may not have been changed.
        """
        await self.patch(merge_patch_for(_edits(labels, kwargs, "labels"), "labels"))

    async def remove_label(self, *keys: str) -> None:
        """Remove labels by key (missing keys are ignored).

        Cancellation:
            The labels may or may not have been removed.
        """
        await self.patch(merge_patch_for(_edits([dict.fromkeys(keys)], {}, "labels"), "labels"))

    async def annotate(
        self,
        annotations: Mapping[str, str | None] | str | Iterable[str] | None = None,
        **kwargs: str,
    ) -> None:
        """Set or remove annotations: a dict, keyword arguments, or kubectl's ``"key=value"`` /
        ``"key-"`` strings (kr8s has no removal syntax).

        Raises:
            SelectorError (a ValueError): no annotations, or an invalid key.

        Cancellation:
            The annotations may or may not have been changed.
        """
        items: list[Mapping[str, str | None] | str] = []
        if isinstance(annotations, Mapping | str):
            items.append(annotations)
        elif annotations is not None:
            items.extend(annotations)
        await self.patch(merge_patch_for(_edits(items, kwargs, "annotations"), "annotations"))

    async def set_owner(self, owner: ObjectData, *, controller: bool = True) -> None:
        """Add ``owner`` to ``metadata.ownerReferences`` (kept: kr8s replaces the whole list),
        so that the garbage collector deletes this object with its owner.

        Raises:
            ValueError: ``owner`` has no uid (create or refresh it first), or another
                controller already owns this object.

        Cancellation:
            The reference may or may not have been added.
        """
        from kr8s_trio._core._objectedits import owner_reference, owner_references_patch

        ref = owner_reference(owner.raw, controller=controller)
        if not self._raw.get("metadata", {}).get("resourceVersion"):
            await self.refresh()  # never fetched: start from the server's references
        for attempt in range(_OWNER_RETRIES):
            try:
                await self.patch(owner_references_patch(self._raw, ref))
            except ConflictError:
                if attempt == _OWNER_RETRIES - 1:
                    raise
                await self.refresh()
            else:
                return

    async def adopt(self, child: MetadataVerbs) -> None:
        """Make this object an owner of ``child`` (``child.set_owner(self)``).

        Cancellation:
            As `set_owner`.
        """
        await child.set_owner(self)


def _edits(
    items: Iterable[Mapping[str, str | None] | str],
    kwargs: Mapping[str, str],
    field: Literal["labels", "annotations"],
) -> dict[str, str | None]:
    """One edit dict from dicts, ``key=value`` / ``key-`` strings and keyword arguments."""
    edits: dict[str, str | None] = {}
    strings: list[str] = []
    for item in items:
        if isinstance(item, str):
            strings.append(item)
        else:
            edits.update(parse_label_edits(dict(item), field=field))
    if strings:
        edits.update(parse_label_edits(strings, field=field))
    if kwargs:
        edits.update(parse_label_edits(dict(kwargs), field=field))
    if not edits:
        parse_label_edits([], field=field)  # raises the "no edits" error
    return edits
