"""Every factory builds a valid object whose related objects share its organization."""

from __future__ import annotations

import pytest

from tests.batterydb import factories

ALL_FACTORIES = [
    factories.ProjectFactory,
    factories.StoredFileFactory,
    factories.BatteryTypeFactory,
    factories.BatteryFactory,
    factories.EISDeviceFactory,
    factories.EISTestFactory,
    factories.EISDataFactory,
    factories.DBCFileFactory,
    factories.BMSTestFactory,
    factories.BMSResultFactory,
    factories.BMSFileFactory,
    factories.BatteryModelFactory,
    factories.ModelVersionFactory,
    factories.ModelPredictionFactory,
]


@pytest.mark.django_db
@pytest.mark.parametrize("factory", ALL_FACTORIES, ids=lambda f: f.__name__)
def test_factory_builds_within_one_organization(factory):
    obj = factory()
    obj.full_clean()
    for field in obj._meta.concrete_fields:
        if field.is_relation and hasattr(field.related_model, "organization_field"):
            related = getattr(obj, field.name)
            if related is not None and hasattr(related, "organization_id"):
                assert related.organization_id == obj.organization_id, field.name
