"""From what a user names (``"deploy"``, ``"widgets.example.com"``, a class) to an object class.

Classes are found locally first (`get_class`: built-in and user classes, no I/O); a name no class
knows is looked up in the server's discovery (cached, one fetch per client), which gives the
Kind, plural and scope of custom resources, and a class is made for it (`new_class`). Classes
made by `new_class` without a plural or scope are confirmed against discovery on first use
(`ensure_discovered`), so cluster-scoped custom resources and irregular plurals work (kr8s
guesses ``kind + "s"`` and assumes namespaced).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kr8s_trio._objects._classes import get_class, new_class

if TYPE_CHECKING:
    from kr8s_trio._api import Api
    from kr8s_trio._objects._base import APIObject

__all__ = ["ensure_discovered", "resolve_kind"]


def _qualified(cls: type[APIObject]) -> str:
    group, _, version = cls.version.rpartition("/")
    return f"{cls.kind}.{group}/{version}" if group else f"{cls.kind}.{version}"


async def ensure_discovered(cls: type[APIObject], api: Api) -> None:
    """Take ``cls``'s plural and scope from discovery when `new_class` had to guess them.

    Nothing changes when the server does not serve the kind (the guesses stay, and the request
    gets the server's 404).

    Cancellation:
        Safe.
    """
    try:
        _, plural, namespaced = await api.lookup_kind(_qualified(cls))
    except ValueError:
        return
    cls.plural = cls.endpoint = plural
    cls.namespaced = namespaced
    cls.discover = False


async def resolve_kind(
    kind: str | type[APIObject], api: Api, *, allow_unknown_type: bool = True
) -> type[APIObject]:
    """The class for ``kind``: the class itself, a defined class, or one made from discovery.

    Raises:
        KeyError: no class matches, and discovery does not know the kind either (or
            ``allow_unknown_type`` is false).

    Cancellation:
        Safe.
    """
    if not isinstance(kind, str):
        if kind.discover:
            await ensure_discovered(kind, api)
        return kind
    try:
        cls = get_class(kind)
    except KeyError:
        pass
    else:
        if cls.discover:
            await ensure_discovered(cls, api)
        return cls
    try:
        kind_id, plural, namespaced = await api.lookup_kind(kind)
    except ValueError:
        raise KeyError(f"kind {kind!r} is neither defined nor served by the cluster") from None
    resource = await _discovered(api, kind_id, plural)
    try:
        return get_class(resource["kind"], resource["version"])
    except KeyError:
        if not allow_unknown_type:
            raise KeyError(
                f"kind {kind!r} ({resource['kind']} {resource['version']}) has no class "
                "(allow_unknown_type=True makes one)"
            ) from None
    return new_class(
        resource["kind"], version=resource["version"], namespaced=namespaced, plural=plural
    )


async def _discovered(api: Api, kind_id: str, plural: str) -> dict[str, str]:
    """The discovery entry behind a `Api.lookup_kind` answer: its Kind and group version."""
    group_version = kind_id.partition("/")[2]
    group = kind_id.partition("/")[0].partition(".")[2]
    wanted = f"{group}/{group_version}" if group else group_version
    for res in await api.api_resources():
        if res["name"] == plural and res["version"] == wanted:
            return {"kind": res["kind"], "version": wanted}
    raise KeyError(f"discovery lost {kind_id!r}")  # pragma: no cover (lookup just found it)
