"""Who is asking, and may they: the fake's authenticator and authorizer.

Authentication: bearer tokens from a table (revocable, expirable on trio's clock), client
certificates verified by the TLS layer (CN is the user, each O a group), impersonation headers for
users allowed to impersonate, and anonymous requests (allowed or 401, by setting).

Authorization: allow-all by default; once rules are given, a request is allowed only when a rule
matches it (RBAC-like, allow-only), and refused with kube-apiserver's 403 message otherwise.
SelfSubjectAccessReview answers from the same rules.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence

import attrs
import trio

from kr8s_trio.testing._status import GroupResource, forbidden, status_error, unauthorized

__all__ = ["Authenticator", "Authorizer", "Rule", "TokenInfo", "UserInfo"]


@attrs.frozen
class UserInfo:
    """An authenticated identity."""

    username: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"username": self.username, "groups": list(self.groups)}
        if self.uid:
            out["uid"] = self.uid
        if self.extra:
            out["extra"] = {k: list(v) for k, v in self.extra.items()}
        return out


ANONYMOUS = UserInfo("system:anonymous", groups=("system:unauthenticated",))


@attrs.define
class TokenInfo:
    user: UserInfo
    expires_at: float | None = None  # trio time
    revoked: bool = False

    def __repr__(self) -> str:  # never show the token itself (it is the dict key elsewhere)
        return f"TokenInfo(user={self.user.username!r}, revoked={self.revoked})"


def _with_authenticated(user: UserInfo) -> UserInfo:
    if "system:authenticated" in user.groups:
        return user
    return attrs.evolve(user, groups=(*user.groups, "system:authenticated"))


class Authenticator:
    """Maps requests to users."""

    def __init__(self, *, allow_anonymous: bool = False) -> None:
        self.allow_anonymous = allow_anonymous
        self._tokens: dict[str, TokenInfo] = {}

    def add_token(
        self,
        user: UserInfo,
        token: str | None = None,
        *,
        ttl: float | None = None,
    ) -> str:
        """Register a bearer token for ``user`` (a fresh random one unless given); returns it."""
        token = token or secrets.token_urlsafe(24)
        expires = trio.current_time() + ttl if ttl is not None else None
        self._tokens[token] = TokenInfo(_with_authenticated(user), expires)
        return token

    def revoke(self, token: str) -> None:
        self._info(token).revoked = True

    def expire(self, token: str) -> None:
        """Make a token expire now (the next request with it gets 401)."""
        self._info(token).expires_at = -1.0

    def _info(self, token: str) -> TokenInfo:
        try:
            return self._tokens[token]
        except KeyError:
            raise KeyError("no such token is registered with the fake cluster") from None

    def user_for_token(self, token: str) -> UserInfo | None:
        info = self._tokens.get(token)
        if info is None or info.revoked:
            return None
        if info.expires_at is not None and trio.current_time() >= info.expires_at:
            return None
        return info.user

    def authenticate(
        self, headers: Mapping[str, str], peer: tuple[str, Sequence[str]] | None
    ) -> UserInfo:
        """The user of a request.

        Raises:
            APIError: 401 for a bad token, or for anonymous requests when not allowed.
        """
        auth = headers.get("authorization", "")
        user: UserInfo | None
        if peer is not None:
            # kube-apiserver's authenticator union tries client certificates before tokens
            user = _with_authenticated(UserInfo(peer[0], groups=tuple(peer[1])))
        elif auth[:7].lower() == "bearer ":
            user = self.user_for_token(auth[7:].strip())
            if user is None:
                raise unauthorized()
        elif self.allow_anonymous:
            user = ANONYMOUS
        else:
            raise unauthorized()
        return user


@attrs.frozen
class Rule:
    """An allow rule. Empty tuples match everything (like ``*``)."""

    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ()
    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()  # "pods", "pods/log"
    namespaces: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    def matches(self, user: UserInfo, attrs_: RequestAttributes) -> bool:
        if (self.users or self.groups) and (
            user.username not in self.users and not set(self.groups) & set(user.groups)
        ):
            return False
        resource = attrs_.resource + (f"/{attrs_.subresource}" if attrs_.subresource else "")
        return (
            _any(self.verbs, attrs_.verb)
            and _any(self.api_groups, attrs_.group)
            and _any(self.resources, resource)
            and _any(self.namespaces, attrs_.namespace or "")
            and _any(self.names, attrs_.name or "")
        )


def _any(allowed: tuple[str, ...], value: str) -> bool:
    return not allowed or "*" in allowed or value in allowed


@attrs.frozen
class RequestAttributes:
    """What is being asked: the authorizer's view of a request."""

    verb: str
    group: str
    resource: str
    subresource: str = ""
    namespace: str | None = None
    name: str | None = None


#: what the bootstrap ClusterRole ``system:basic-user`` (bound to ``system:authenticated``) lets
#: every authenticated user do whatever the rules say: ask who they are and what they may do
_BASIC_USER = frozenset(
    {
        ("authentication.k8s.io", "selfsubjectreviews"),
        ("authorization.k8s.io", "selfsubjectaccessreviews"),
        ("authorization.k8s.io", "selfsubjectrulesreviews"),
    }
)


class Authorizer:
    """Allow-all until rules are set; then allow-only (plus ``system:basic-user``)."""

    def __init__(self) -> None:
        self.rules: list[Rule] | None = None

    def set_rules(self, rules: Iterable[Rule] | None) -> None:
        """Replace the rule table (None: allow everything again)."""
        self.rules = None if rules is None else list(rules)

    def allowed(self, user: UserInfo, request: RequestAttributes) -> bool:
        if self.rules is None or "system:masters" in user.groups:
            return True
        if (
            request.verb == "create"
            and (request.group, request.resource) in _BASIC_USER
            and "system:authenticated" in user.groups
        ):
            return True
        return any(rule.matches(user, request) for rule in self.rules)

    def check(self, user: UserInfo, request: RequestAttributes) -> None:
        """Raises the real 403 when ``user`` may not do ``request``."""
        if self.allowed(user, request):
            return
        resource = request.resource + (f"/{request.subresource}" if request.subresource else "")
        where = (
            f'in the namespace "{request.namespace}"'
            if request.namespace
            else "at the cluster scope"
        )
        reason = (
            f'User "{user.username}" cannot {request.verb} resource "{resource}" in API group '
            f'"{request.group}" {where}'
        )
        raise forbidden(GroupResource(request.group, request.resource), request.name, reason)


def impersonation_forbidden(user: UserInfo, target: str) -> Exception:
    return status_error(
        403,
        "Forbidden",
        f'users "{target}" is forbidden: User "{user.username}" cannot impersonate resource '
        '"users" in API group "" at the cluster scope',
        {"name": target, "kind": "users"},
    )
