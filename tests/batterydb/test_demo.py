"""The demo data: what ``manage.py setupdemo`` puts into the demo organization."""

from __future__ import annotations

import itertools
import math

import pytest

from batterydb import models
from batterydb.demo import create_demo_data, sweep_frequencies

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
