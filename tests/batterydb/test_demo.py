"""The demo data: what ``manage.py setupdemo`` puts into the demo organization, on the first
run and on any later run that finds BatteryDB's data missing there."""

from __future__ import annotations

import io
import itertools
import math

import pytest
from django.core.management import call_command

from batterydb import models
from batterydb.demo import create_demo_data, sweep_frequencies
from core.management.commands.setupdemo import DEMO_ORGANIZATION
from core.models import Organization

pytestmark = pytest.mark.django_db


def test_sweep_has_42_log_spaced_frequencies_from_10_khz_to_100_mhz():
    frequencies = sweep_frequencies()
    assert len(frequencies) == 42 == len(set(frequencies))
    assert frequencies[0] == 10_000 and frequencies[-1] == 0.1
    steps = {round(math.log10(a / b), 4) for a, b in itertools.pairwise(frequencies)}
    assert len(steps) <= 2  # constant ratio, up to rounding


def test_demo_data_is_complete_and_in_one_organization(organization):
    create_demo_data(organization=organization)
    assert models.Project.objects.count() == 1
    assert models.BatteryType.objects.count() == 1
    assert models.Battery.objects.count() == 2
    assert models.EISDevice.objects.count() == 1
    tests = list(models.EISTest.objects.all())
    assert len(tests) == 2
    for test in tests:
        data = models.EISData.objects.filter(test=test)
        assert data.filter(frequency__isnull=False).values("frequency").distinct().count() == 42
        for parameter in ("z_real", "z_imag", "z_mod", "z_phase"):
            assert data.filter(parameter=parameter).count() == 42
        ocv = data.get(frequency__isnull=True, parameter="ocv")
        assert 3.0 < ocv.value < 4.2
        point = {(d.frequency, d.parameter): d.value for d in data.exclude(frequency=None)}
        # Milliohms at 10 kHz; capacitive (negative imaginary part) at 0.1 Hz.
        assert 0.0005 < point[(10_000.0, "z_real")] < 0.01
        assert point[(0.1, "z_imag")] < 0
        middle = sweep_frequencies()[20]
        z = complex(point[(middle, "z_real")], point[(middle, "z_imag")])
        assert math.isclose(point[(middle, "z_mod")], abs(z))
        assert math.isclose(point[(middle, "z_phase")], math.degrees(math.atan2(z.imag, z.real)))
    assert models.BMSTest.objects.count() == 1
    assert models.BMSResult.objects.count() >= 5
    for model in (models.EISData, models.BMSResult, models.Battery, models.ModelPrediction):
        assert set(model.objects.values_list("organization_id", flat=True)) == {organization.pk}


# --- filled whenever BatteryDB's data is missing -------------------------------------------------

BATTERYDB_MODELS = (
    models.Project,
    models.BatteryType,
    models.Battery,
    models.EISDevice,
    models.EISTest,
    models.EISData,
    models.BMSTest,
    models.BMSResult,
    models.BatteryModel,
    models.ModelVersion,
    models.ModelPrediction,
)


def counts(organization) -> dict[str, int]:
    return {
        model.__name__: model.objects.filter(organization=organization).count()
        for model in BATTERYDB_MODELS
    }


@pytest.fixture
def batterydb_alone(settings):
    """Only BatteryDB's demo hook runs: the other apps' data is theirs to test."""
    settings.PLATFORM_APPS = ["batterydb"]


def setupdemo() -> str:
    out = io.StringIO()
    call_command("setupdemo", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def filled(output: str) -> list[str]:
    """The apps whose demo data a run of setupdemo says it added."""
    prefix = "Demo data added for: "
    line = next((line.strip() for line in output.splitlines() if prefix in line), "")
    return line.removeprefix(prefix).rstrip(".").split(", ") if line else []


def demo_organization():
    return Organization.objects.get(name=DEMO_ORGANIZATION)


def test_demo_data_is_created_once_per_organization(organization, other_organization):
    assert create_demo_data(organization=organization) is True
    once = counts(organization)
    assert create_demo_data(organization=organization) is False
    assert counts(organization) == once
    assert all(once.values())
    # Another organization's data does not count as this one's.
    assert create_demo_data(organization=other_organization) is True
    assert counts(other_organization) == once


def test_an_organization_with_any_batterydb_object_gets_no_demo_data(organization):
    models.Project.objects.create(organization=organization, name="Our own")
    assert create_demo_data(organization=organization) is False
    assert models.Battery.objects.count() == 0


def test_setupdemo_twice_creates_nothing_twice(batterydb_alone):
    assert filled(setupdemo()) == ["batterydb"]
    once = counts(demo_organization())
    assert filled(setupdemo()) == []
    assert counts(demo_organization()) == once
    assert models.Battery.objects.count() == 2


def test_setupdemo_brings_back_the_demo_data_after_it_was_removed(batterydb_alone):
    setupdemo()
    organization = demo_organization()
    once = counts(organization)
    for model in reversed(BATTERYDB_MODELS):
        model.objects.filter(organization=organization).delete()
    assert not any(counts(organization).values())
    assert filled(setupdemo()) == ["batterydb"]
    assert counts(organization) == once


def test_batterydb_added_to_an_installation_with_a_demo_organization_gets_its_data(settings):
    settings.PLATFORM_APPS = []
    assert filled(setupdemo()) == []
    assert not any(counts(demo_organization()).values())
    settings.PLATFORM_APPS = ["batterydb"]
    assert filled(setupdemo()) == ["batterydb"]
    assert counts(demo_organization())["EISData"] == 2 * (42 * 4 + 1)
