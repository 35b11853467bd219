"""The demo hook of the stand-in app: records the organization of each call and fills it only
the first time, as an app's hook does when its data is already there."""

from __future__ import annotations

calls: list[int] = []


def create_demo_data(*, organization) -> bool:
    calls.append(organization.pk)
    return calls.count(organization.pk) == 1
