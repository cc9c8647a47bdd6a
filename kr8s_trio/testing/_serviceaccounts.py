"""kube-controller-manager's service-account controller: a ``default`` ServiceAccount in every
namespace.

On a real cluster every active namespace has a ServiceAccount named ``default`` (pods run as it
unless they name another, ``kubectl create token default`` asks for its token), created right
after the namespace and created again if someone deletes it. A store listener notices new
namespaces and deleted ``default`` accounts and defers the write to the controllers' drain loop
(a listener must not write mid-commit); namespaces being deleted are left alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kr8s_trio._core._exceptions import APIError
from kr8s_trio.testing._rest import WriteContext

if TYPE_CHECKING:
    from kr8s_trio.testing._controllers import Controllers
    from kr8s_trio.testing._resources import ResourceType
    from kr8s_trio.testing._rest import RestStorage
    from kr8s_trio.testing._store import BucketKey, Change, Store

__all__ = ["ServiceAccountController"]

_NAMESPACES: BucketKey = ("", "namespaces")
_SERVICE_ACCOUNTS: BucketKey = ("", "serviceaccounts")
_CTX = WriteContext(manager="kube-controller-manager")
DEFAULT = "default"


class ServiceAccountController:
    """Keeps a ``default`` ServiceAccount in every active namespace of one cluster.

    Args:
        rest, store: the cluster's storage.
        accounts: the ``serviceaccounts`` resource type.
        controllers: the part-1 control loops, whose drain loop runs the writes.
    """

    def __init__(
        self, rest: RestStorage, store: Store, accounts: ResourceType, controllers: Controllers
    ) -> None:
        self._rest, self._store, self._accounts = rest, store, accounts
        self._controllers = controllers
        store.add_listener(self._observe)
        for stored in list(store.bucket(_NAMESPACES).items.values()):
            self.ensure(stored.obj["metadata"]["name"])

    def _observe(self, bucket: BucketKey, change: Change) -> None:
        if bucket == _NAMESPACES and change.type == "ADDED":
            namespace = change.key
        elif (
            bucket == _SERVICE_ACCOUNTS
            and change.type == "DELETED"
            and change.new.obj["metadata"]["name"] == DEFAULT
        ):
            namespace = change.new.obj["metadata"]["namespace"]
        else:
            return
        self._controllers.defer(lambda: self.ensure(namespace))

    def ensure(self, namespace: str) -> None:
        """Create ``namespace``'s ``default`` ServiceAccount unless it exists or the namespace is
        gone or terminating."""
        ns = self._store.get(_NAMESPACES, namespace)
        if ns is None or ns.obj["metadata"].get("deletionTimestamp"):
            return
        if self._store.get(_SERVICE_ACCOUNTS, f"{namespace}/{DEFAULT}") is not None:
            return
        try:
            self._rest.create(self._accounts, namespace, {"metadata": {"name": DEFAULT}}, _CTX)
        except APIError as exc:
            if exc.code not in (403, 409):  # terminating meanwhile, or created meanwhile
                raise
