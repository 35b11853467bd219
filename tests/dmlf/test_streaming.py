"""A long DMLF list under ASGI is an asynchronous stream read batch by batch from the
database, complete and in order."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import AsyncClient

from core.models import Membership
from dmlf.models import Sample
from dmlf.viewsets import LIST_BATCH
from tests.conftest import jwt_for
from tests.dmlf import factories as f
from tests.factories import MembershipFactory


def make_samples(count: int) -> str:
    """``count`` samples of a project; a token of a viewer of its organization."""
    types = f.builtin_sample_types()
    project = f.ProjectFactory()
    institute = f.InstituteFactory()
    Sample.objects.bulk_create(
        Sample(
            sample_id=f"2301{i // 1440 % 28 + 1:02d}_{i // 60 % 24:02d}{i % 60:02d}00_010001",
            institute=institute,
            project=project,
            sample_type=types["Battery"],
            name=f"s{i}",
            date_created="2023-01-01",
            sample_info=f"sample_info/{i}.json",
        )
        for i in range(count)
    )
    member = MembershipFactory(organization=project.organization, role=Membership.Role.VIEWER)
    return jwt_for(member.user)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_long_list_streams_asynchronously_under_asgi():
    count = LIST_BATCH + 500
    token = await sync_to_async(make_samples)(count)
    response = await AsyncClient().get(
        "/dmlf/samples/", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert response.is_async is True
    blocks = [block async for block in response.streaming_content]
    assert len(blocks) > 1
    rows = json.loads(b"".join(blocks))
    assert len(rows) == count
    assert [row["sample_id"] for row in rows] == sorted(row["sample_id"] for row in rows)
    # The request's thread keeps its connection otherwise (the test database could not go).
    await sync_to_async(connections.close_all)()
