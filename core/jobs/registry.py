"""Job kinds and periodic functions, registered at import time by the apps that own them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

#: ``app.name``: lower-case letters, digits and underscores around one or more dots.
NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")

KindFunction = Callable[..., dict | None]

_kinds: dict[str, KindFunction] = {}
#: Per kind, ``refusal(job) -> str | None``: why a failed job of the kind may not be retried.
_retry_refusals: dict[str, Callable[..., str | None]] = {}
_periodic: dict[str, Periodic] = {}


@dataclass(frozen=True)
class Periodic:
    name: str
    every: float
    function: Callable[[], object]


def _check_name(name: str) -> None:
    if not NAME.match(name):
        raise ValueError(f"{name!r} is not a job name of the form app.name")


def register(
    kind: str, *, retry_refusal: Callable[..., str | None] | None = None
) -> Callable[[KindFunction], KindFunction]:
    """Decorator: ``function(job, progress) -> dict`` runs jobs of ``kind``.

    ``retry_refusal(job)``, if given, is asked inside the retry's transaction and answers why
    that failed job may not run again (say, a newer job has replaced its work), or None."""
    _check_name(kind)
    if retry_refusal is not None:
        _retry_refusals[kind] = retry_refusal

    def decorator(function: KindFunction) -> KindFunction:
        existing = _kinds.get(kind)
        # The same function imported again (autoreload, a re-imported module) is harmless.
        same = existing is not None and (existing.__module__, existing.__qualname__) == (
            function.__module__,
            function.__qualname__,
        )
        if existing is not None and not same:
            raise ValueError(f"job kind {kind!r} is already registered by {existing}")
        _kinds[kind] = function
        return function

    return decorator


def kind_function(kind: str) -> KindFunction | None:
    return _kinds.get(kind)


def retry_refusal(job) -> str | None:
    """Why ``job`` may not be retried, by its kind's rule; None when it may."""
    refusal = _retry_refusals.get(job.kind)
    return refusal(job) if refusal is not None else None


def kinds() -> list[str]:
    return sorted(_kinds)


def register_periodic(name: str, *, every: float, function: Callable[[], object]) -> None:
    """Run ``function()`` about every ``every`` seconds on one worker at a time."""
    _check_name(name)
    if every <= 0:
        raise ValueError("every must be a positive number of seconds")
    _periodic[name] = Periodic(name, float(every), function)


def unregister_periodic(name: str) -> None:
    _periodic.pop(name, None)


def periodic_functions() -> list[Periodic]:
    return list(_periodic.values())
