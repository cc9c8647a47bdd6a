"""Build a one-container Pod manifest, like kr8s's ``Pod.gen`` (and ``kubectl run``), sans-IO.

The result is a plain dict ready to be created; nothing is sent. Arguments are checked early, with
the apiserver's rules where they are cheap to apply (names, ports, enum fields), so that a typo
fails at the call site with a message naming the argument rather than as a 422 later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ._names import dns_label_errors, dns_subdomain_errors

__all__ = ["IMAGE_PULL_POLICIES", "RESTART_POLICIES", "pod_manifest"]

RESTART_POLICIES = ("Always", "OnFailure", "Never")
IMAGE_PULL_POLICIES = ("Always", "IfNotPresent", "Never")


def pod_manifest(
    *,
    name: str | None = None,
    generate_name: str | None = None,
    image: str,
    namespace: str | None = None,
    annotations: Mapping[str, str] | None = None,
    command: Sequence[str] | None = None,
    env: Mapping[str, str | int] | Sequence[Mapping[str, object]] | None = None,
    resources: Mapping[str, object] | None = None,
    image_pull_policy: str | None = None,
    labels: Mapping[str, str] | None = None,
    ports: int | Sequence[int | Mapping[str, object]] | None = None,
    restart: str = "Always",
) -> dict[str, object]:
    """A ``v1`` Pod manifest with one container, as kr8s's ``Pod.gen`` builds it.

    Args:
        name: the Pod name; exactly one of ``name`` and ``generate_name`` is required.
        generate_name: a name prefix the apiserver completes with a random suffix.
        image: the container image (required, non-empty).
        namespace: ``metadata.namespace``; omitted when None (the client's default applies).
        annotations: ``metadata.annotations`` (copied).
        command: the container's ``command`` (argv list; a plain string is refused because the
            apiserver would take it as a list, and ``"sleep 10"`` is not one argument).
        env: ``{"NAME": "value"}`` (becomes ``[{"name": "NAME", "value": "value"}]``; int values
            are turned into their decimal text) or a list of ``EnvVar`` dicts (copied as given,
            each must have a ``name``).
        resources: the container's ``resources`` (copied).
        image_pull_policy: ``Always``, ``IfNotPresent`` or ``Never``.
        labels: ``metadata.labels`` (copied).
        ports: a port number, or a list of port numbers and/or ``ContainerPort`` dicts; numbers
            become ``{"containerPort": n}``.
        restart: ``spec.restartPolicy``: ``Always`` (default), ``OnFailure`` or ``Never``.

    Returns:
        The manifest. Fields whose argument is None are left out. The container is named after
        the Pod, or ``"container"`` with ``generate_name`` or when the Pod name is not a valid
        container name (a DNS-1123 label: no dots, at most 63 characters).

    Raises:
        ValueError: a required argument is missing, both names are given, or an argument is
            malformed; the message names the argument.
        TypeError: an argument has the wrong type (the message names it; env values are never
            shown).
    """
    if (name is None) == (generate_name is None):
        raise ValueError("exactly one of name and generate_name is required")
    if name is not None:
        _check_name("name", name, dns_subdomain_errors(name))
    if generate_name is not None:
        if not generate_name:
            raise ValueError("generate_name: must not be empty")
        # Like the apiserver (maskTrailingDash): a trailing "-" is fine in a prefix, "." is not.
        masked = generate_name[:-1] + "a" if generate_name.endswith("-") else generate_name
        _check_name("generate_name", generate_name, dns_subdomain_errors(masked))
    if not isinstance(image, str) or not image.strip():
        raise ValueError("image: a non-empty image reference is required")
    if restart not in RESTART_POLICIES:
        raise ValueError(f"restart: {restart!r} is not one of {', '.join(RESTART_POLICIES)}")
    if image_pull_policy is not None and image_pull_policy not in IMAGE_PULL_POLICIES:
        raise ValueError(
            f"image_pull_policy: {image_pull_policy!r} is not one of "
            + ", ".join(IMAGE_PULL_POLICIES)
        )
    container_name = "container"
    if name is not None and not dns_label_errors(name):
        container_name = name
    container: dict[str, object] = {"name": container_name, "image": image}
    if command is not None:
        container["command"] = _command(command)
    if env is not None:
        container["env"] = _env(env)
    if resources is not None:
        container["resources"] = _copy_map(resources)
    if image_pull_policy is not None:
        container["imagePullPolicy"] = image_pull_policy
    if ports is not None:
        container["ports"] = _ports(ports)
    metadata: dict[str, object] = {}
    if name is not None:
        metadata["name"] = name
    if generate_name is not None:
        metadata["generateName"] = generate_name
    if namespace is not None:
        _check_name("namespace", namespace, dns_label_errors(namespace))
        metadata["namespace"] = namespace
    if labels is not None:
        metadata["labels"] = _string_map("labels", labels)
    if annotations is not None:
        metadata["annotations"] = _string_map("annotations", annotations)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {"containers": [container], "restartPolicy": restart},
    }


def _check_name(argument: str, value: object, errors: list[str]) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{argument}: expected a string, got {type(value).__name__}")
    if errors:
        raise ValueError(f"{argument}: {value!r} is invalid: {'; '.join(errors)}")


def _copy(value: object) -> object:
    """A deep copy of JSON-like data (mappings become dicts, sequences lists)."""
    if isinstance(value, Mapping):
        return _copy_map(value)
    if isinstance(value, list | tuple):
        return [_copy(v) for v in value]
    return value


def _copy_map(value: Mapping[str, object]) -> dict[str, object]:
    return {k: _copy(v) for k, v in value.items()}


def _string_map(argument: str, value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise TypeError(f"{argument}: expected a mapping, got {type(value).__name__}")
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise TypeError(f"{argument}: key {key!r}: keys and values must be strings")
    return dict(value)


def _command(command: object) -> list[str]:
    if isinstance(command, str) or not isinstance(command, Sequence):
        raise TypeError(f"command: expected a list of strings (argv), got {type(command).__name__}")
    for i, part in enumerate(command):
        if not isinstance(part, str):
            raise TypeError(f"command[{i}]: expected a string, got {type(part).__name__}")
    return list(command)


def _env(env: object) -> list[dict[str, object]]:
    if isinstance(env, Mapping):
        out: list[dict[str, object]] = []
        for key, value in env.items():
            if not isinstance(key, str) or not key:
                raise ValueError(f"env: variable name {key!r} must be a non-empty string")
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if not isinstance(value, str):
                # The value is not shown: environment variables often carry secrets.
                raise TypeError(
                    f"env: variable {key!r}: value must be a string, got {type(value).__name__}"
                )
            out.append({"name": key, "value": value})
        return out
    if isinstance(env, str) or not isinstance(env, Sequence):
        raise TypeError(
            f"env: expected a mapping or a list of EnvVar dicts, got {type(env).__name__}"
        )
    items: list[dict[str, object]] = []
    for i, item in enumerate(env):
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise TypeError(f"env[{i}]: expected an EnvVar dict with a string 'name'")
        items.append(_copy_map(item))
    return items


def _port_number(where: str, port: object) -> int:
    if not isinstance(port, int) or isinstance(port, bool):
        raise TypeError(f"{where}: expected a port number, got {type(port).__name__}")
    if not 1 <= port <= 65535:
        raise ValueError(f"{where}: {port} is not a valid port number (1-65535)")
    return port


def _ports(ports: object) -> list[dict[str, object]]:
    if isinstance(ports, int) and not isinstance(ports, bool):
        return [{"containerPort": _port_number("ports", ports)}]
    if isinstance(ports, str) or not isinstance(ports, Sequence):
        raise TypeError(f"ports: expected a port number or a list, got {type(ports).__name__}")
    out: list[dict[str, object]] = []
    for i, port in enumerate(ports):
        if isinstance(port, Mapping):
            if port.get("containerPort") is None:
                raise ValueError(f"ports[{i}].containerPort: required in a ContainerPort dict")
            _port_number(f"ports[{i}].containerPort", port.get("containerPort"))
            out.append(_copy_map(port))
        else:
            out.append({"containerPort": _port_number(f"ports[{i}]", port)})
    return out
