"""Deleting removes what is deleted, stored files and their bytes included.

An organization goes with every row it owns in every app (found through the models that
refer to ``core.Organization``), table by table in plain ``DELETE`` statements, whatever PROTECT
foreign keys join its rows; the bytes of its files leave the storage after the commit. A BMS
test takes its BMS files and their stored files, a battery model its versions' files.
"""

from __future__ import annotations

import os

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from batterydb.models import (
    Battery,
    BMSFile,
    BMSResult,
    BMSTest,
    DBCFile,
    EISData,
    EISTest,
    ModelVersion,
    StoredFile,
)
from core import deletion
from core.models import Membership, Organization
from tests.batterydb import factories as f
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

FREQUENCIES = [1000.0, 100.0, 10.0]


def org_url(organization) -> str:
    return reverse("organization-detail", args=[organization.pk])


def populate(organization, *, tests: int = 3) -> list[str]:
    """Every kind of BatteryDB object, joined by every kind of foreign key (PROTECT ones
    included); returns the paths of the organization's stored files."""
    project = f.ProjectFactory(organization=organization)
    battery_type = f.BatteryTypeFactory(organization=organization)
    pack = f.BatteryFactory(organization=organization, battery_type=battery_type)
    cell = f.BatteryFactory(organization=organization, battery_type=battery_type, parent=pack)
    cell.projects.add(project)
    device = f.EISDeviceFactory(organization=organization)
    battery_model = f.BatteryModelFactory(organization=organization, battery_type=[battery_type])
    version = f.ModelVersionFactory(
        organization=organization,
        battery_model=battery_model,
        file=f.StoredFileFactory(organization=organization, name="model.onnx"),
    )
    battery_type.default_battery_model = battery_model
    battery_type.default_battery_model_version = version
    battery_type.save()
    eis_tests = [
        f.EISTestFactory(
            organization=organization, battery=cell, device=device, battery_model=battery_model
        )
        for _ in range(tests)
    ]
    rows = []
    for test in eis_tests:
        test.projects.add(project)
        rows.append(EISData(organization=organization, test=test, parameter="ocv", value=3.7))
        for frequency in FREQUENCIES:
            for parameter in ("z_real", "z_imag"):
                rows.append(
                    EISData(
                        organization=organization,
                        test=test,
                        frequency=frequency,
                        parameter=parameter,
                        value=0.01,
                    )
                )
    EISData.objects.bulk_create(rows)
    f.ModelPredictionFactory(
        organization=organization, battery_model_version=version, test=eis_tests[0]
    )
    dbc = f.DBCFileFactory(organization=organization)
    bms_test = f.BMSTestFactory(
        organization=organization,
        battery=cell,
        device=device,
        default_dbc=dbc,
        linked_eis_test=eis_tests[0],
    )
    f.BMSResultFactory.create_batch(5, organization=organization, bms_test=bms_test)
    bms_files = f.BMSFileFactory.create_batch(2, organization=organization, bms_test=bms_test)
    stored = [version.file, dbc.file, *(bms_file.file for bms_file in bms_files)]
    return [s.file.path for s in stored]


def organization_models():
    """Every model with a foreign key to ``Organization``, with that key's name."""
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is Organization:
                yield model, field.name


def rows_of(organization_id) -> dict[str, int]:
    return {
        model._meta.label: model._base_manager.filter(**{name: organization_id}).count()
        for model, name in organization_models()
    }


def test_owner_deletes_an_organization_with_all_its_data_and_files(
    client_for, organization, owner, other_organization, django_capture_on_commit_callbacks
):
    paths = populate(organization)
    other_paths = populate(other_organization)
    others_before = rows_of(other_organization.pk)
    assert all(os.path.exists(path) for path in paths)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).delete(org_url(organization))

    assert response.status_code == 204, response.content
    assert not Organization.objects.filter(pk=organization.pk).exists()
    assert set(rows_of(organization.pk).values()) == {0}
    assert not any(os.path.exists(path) for path in paths)
    # Nothing of the other organization moved.
    assert rows_of(other_organization.pk) == others_before
    assert all(os.path.exists(path) for path in other_paths)
    through = Battery.projects.through
    assert through.objects.count() == 1
    assert through.objects.get().battery.organization_id == other_organization.pk


def test_the_files_stay_until_the_deletion_commits(
    client_for, organization, owner, django_capture_on_commit_callbacks
):
    paths = populate(organization)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(owner).delete(org_url(organization))
    assert response.status_code == 204
    assert all(os.path.exists(path) for path in paths)
    for callback in callbacks:
        callback()
    assert not any(os.path.exists(path) for path in paths)


def test_measurement_rows_go_in_batches_of_tests(
    client_for, organization, owner, monkeypatch, django_capture_on_commit_callbacks
):
    populate(organization, tests=7)
    monkeypatch.setattr(deletion, "PARENT_BATCH", 2)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).delete(org_url(organization))
    assert response.status_code == 204
    assert not EISData.objects.exists() and not BMSResult.objects.exists()
    assert not EISTest.objects.exists()


def delete_queries(client, organization) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.delete(org_url(organization))
    assert response.status_code == 204
    return len(queries)


def test_the_number_of_statements_does_not_grow_with_the_data(client_for, owner, organization):
    small = organization
    large = MembershipFactory(user=owner, role=Membership.Role.OWNER).organization
    populate(small, tests=1)
    populate(large, tests=40)
    for _ in range(3):
        populate(large)
    client = client_for(owner)
    assert delete_queries(client, small) == delete_queries(client, large)


def test_no_model_instance_is_loaded_and_no_signal_is_sent(
    client_for, organization, owner, monkeypatch
):
    populate(organization)
    loaded = []
    for model in (EISTest, EISData, BMSFile, StoredFile, Battery):
        original = model.from_db.__func__

        def spy(cls, db, field_names, values, original=original):
            loaded.append(cls.__name__)
            return original(cls, db, field_names, values)

        monkeypatch.setattr(model, "from_db", classmethod(spy))
    response = client_for(owner).delete(org_url(organization))
    assert response.status_code == 204
    assert loaded == []


def test_a_reference_from_another_organization_is_cleared_when_it_may_be(
    client_for, organization, owner, other_organization, django_capture_on_commit_callbacks
):
    """A SET_NULL foreign key from another organization's row (only staff can make one, in the
    admin) is cleared, as Django would."""
    populate(organization)
    theirs = f.BMSTestFactory(
        organization=other_organization, default_dbc=DBCFile.objects.get(), status="kept"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).delete(org_url(organization))
    assert response.status_code == 204
    theirs.refresh_from_db()
    assert theirs.default_dbc is None and theirs.status == "kept"


def test_a_protected_reference_from_another_organization_is_409_and_deletes_nothing(
    client_for, organization, owner, other_organization, django_capture_on_commit_callbacks
):
    paths = populate(organization)
    f.EISTestFactory(organization=other_organization, battery=Battery.objects.first())
    before = rows_of(organization.pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).delete(org_url(organization))
    assert response.status_code == 409
    assert "EIS tests" in response.json()["detail"]
    assert rows_of(organization.pk) == before
    assert all(os.path.exists(path) for path in paths)


def test_every_model_that_refers_to_organizations_is_in_the_deletion_plan():
    planned = {entry.model for entry in deletion.deletion_plan()}
    assert {model for model, _ in organization_models()} <= planned
    measurement = {entry.model: entry for entry in deletion.deletion_plan()}
    # The measurement tables have no index on their organization: they go through their test.
    assert measurement[EISData].parent.name == "test"
    assert measurement[BMSResult].parent.name == "bms_test"


# --- deleting one object -------------------------------------------------------------------------


def test_deleting_a_bms_test_deletes_its_files_rows_and_bytes(
    client_for, organization, owner, django_capture_on_commit_callbacks
):
    bms_test = f.BMSTestFactory(organization=organization)
    bms_files = f.BMSFileFactory.create_batch(2, organization=organization, bms_test=bms_test)
    f.BMSResultFactory.create_batch(3, organization=organization, bms_test=bms_test)
    kept = f.BMSFileFactory(organization=organization)
    paths = [bms_file.file.file.path for bms_file in bms_files]
    url = reverse("batterydb:bms-test-detail", args=[bms_test.pk])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(owner).delete(url)
    assert response.status_code == 204
    assert list(BMSFile.objects.all()) == [kept]
    assert list(StoredFile.objects.all()) == [kept.file]
    assert not BMSResult.objects.exists()
    assert all(os.path.exists(path) for path in paths)  # not before the commit
    for callback in callbacks:
        callback()
    assert not any(os.path.exists(path) for path in paths)
    assert os.path.exists(kept.file.file.path)


def test_deleting_a_battery_model_deletes_its_versions_files(
    client_for, organization, owner, django_capture_on_commit_callbacks
):
    version = f.ModelVersionFactory(
        organization=organization, file=f.StoredFileFactory(organization=organization)
    )
    path = version.file.file.path
    url = reverse("batterydb:model-detail", args=[version.battery_model_id])
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).delete(url)
    assert response.status_code == 204
    assert not ModelVersion.objects.exists() and not StoredFile.objects.exists()
    assert not os.path.exists(path)


def test_deleting_a_dbc_file_deletes_its_stored_file(
    client_for, organization, owner, django_capture_on_commit_callbacks
):
    dbc = f.DBCFileFactory(organization=organization)
    path = dbc.file.file.path
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).delete(reverse("batterydb:dbc-file-detail", args=[dbc.pk]))
    assert response.status_code == 204
    assert not StoredFile.objects.exists()
    assert not os.path.exists(path)


def test_a_deletion_that_is_refused_keeps_the_files(
    client_for, organization, owner, django_capture_on_commit_callbacks
):
    """A BMS test still used by nothing else goes; its battery, which a BMS test protects,
    answers 409 and keeps its tests' files."""
    bms_file = f.BMSFileFactory(organization=organization)
    battery = BMSTest.objects.get().battery
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).delete(reverse("batterydb:battery-detail", args=[battery.pk]))
    assert response.status_code == 409
    assert StoredFile.objects.filter(pk=bms_file.file_id).exists()
    assert os.path.exists(bms_file.file.file.path)


def lookup_by_test_plan(test_id: int) -> str:
    table = EISData._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Only an index that can serve the lookup avoids the (penalized) sequential scan.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN SELECT 1 FROM {table} WHERE test_id = %s", [test_id])
        else:
            cursor.execute(
                f"EXPLAIN QUERY PLAN SELECT 1 FROM {table} WHERE test_id = %s", [test_id]
            )
        return " ".join(str(row[-1]) for row in cursor.fetchall())


def test_eis_data_is_found_by_test_alone_through_an_index(organization):
    """The database's check of the test foreign key looks EIS data up by test alone for each
    deleted test; the partial unique indexes cannot serve it, and a scan of the table per test
    made deleting an organization of a million rows outlast the server's timeout."""
    test = f.EISTestFactory(organization=organization)
    plan = lookup_by_test_plan(test.pk)
    assert "Seq Scan" not in plan and "SCAN " + EISData._meta.db_table not in plan, plan
    assert "Index" in plan or "INDEX" in plan, plan


def test_staff_delete_an_organization_in_the_admin_with_all_its_data(
    organization, django_capture_on_commit_callbacks
):
    from django.test import Client

    from tests.factories import UserFactory

    paths = populate(organization)
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:core_organization_delete", args=[organization.pk])
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "everything it owns" in text and "EIS data" in text
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Organization.objects.filter(pk=organization.pk).exists()
    assert set(rows_of(organization.pk).values()) == {0}
    assert not any(os.path.exists(path) for path in paths)


def test_the_admin_refuses_a_protected_deletion_with_a_message(organization, other_organization):
    from django.test import Client

    from tests.factories import UserFactory

    f.BatteryTypeFactory(organization=organization)
    blocker = f.BatteryFactory(organization=other_organization)
    type_elsewhere = f.BatteryTypeFactory(organization=organization)
    Battery.objects.filter(pk=blocker.pk).update(battery_type=type_elsewhere)
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:core_organization_delete", args=[organization.pk])
    response = client.post(url, {"post": "yes"}, follow=True)
    assert Organization.objects.filter(pk=organization.pk).exists()
    assert "Not deleted" in response.content.decode()
