"""factory_boy factories for every BatteryDB model.

Related objects default to the same organization as the object being built, so that a
factory never makes a cross-organization link by accident.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import factory
from django.core.files.base import ContentFile
from django.utils import timezone

from batterydb.models import (
    Battery,
    BatteryModel,
    BatteryType,
    BMSFile,
    BMSResult,
    BMSTest,
    DBCFile,
    EISData,
    EISDevice,
    EISTest,
    ModelPrediction,
    ModelVersion,
    Project,
    StoredFile,
)
from tests.factories import OrganizationFactory

SAMPLE_DBC = """VERSION ""

NS_ :

BS_:

BU_: BMS

BO_ 256 PackStatus: 8 BMS
 SG_ PackVoltage : 0|16@1+ (0.01,0) [0|655.35] "V" Vector__XXX
 SG_ PackCurrent : 16|16@1- (0.1,0) [-3276.8|3276.7] "A" Vector__XXX

BO_ 257 CellTemps: 8 BMS
 SG_ MaxCellTemp : 0|8@1- (1,0) [-128|127] "degC" Vector__XXX
"""


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"project{n}")


class StoredFileFactory(factory.django.DjangoModelFactory):
    """A stored file with real bytes in the (temporary) media folder."""

    class Meta:
        model = StoredFile
        exclude = ["content"]

    organization = factory.SubFactory(OrganizationFactory)
    content = b"time,voltage\n0,3.7\n"
    name = factory.Sequence(lambda n: f"file{n}.csv")
    file = factory.LazyAttribute(lambda o: ContentFile(o.content, name=o.name))
    size = factory.LazyAttribute(lambda o: len(o.content))
    content_type = "text/csv"
    sha256 = factory.LazyAttribute(lambda o: hashlib.sha256(o.content).hexdigest())


class BatteryTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BatteryType

    organization = factory.SubFactory(OrganizationFactory)
    model = factory.Sequence(lambda n: f"model-{n}")
    classification = BatteryType.Classification.CELL
    chemistry = "NMC"


class BatteryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Battery

    organization = factory.SubFactory(OrganizationFactory)
    battery_id = factory.Sequence(lambda n: f"BAT-{n:05d}")
    battery_type = factory.SubFactory(
        BatteryTypeFactory, organization=factory.SelfAttribute("..organization")
    )


class EISDeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EISDevice

    organization = factory.SubFactory(OrganizationFactory)
    device_id = factory.Sequence(lambda n: f"{1020300 + n}")
    status = "active"


class EISTestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EISTest

    organization = factory.SubFactory(OrganizationFactory)
    battery = factory.SubFactory(
        BatteryFactory, organization=factory.SelfAttribute("..organization")
    )
    device = factory.SubFactory(
        EISDeviceFactory, organization=factory.SelfAttribute("..organization")
    )
    status = "completed"
    start_frequency = 10_000.0
    end_frequency = 0.1
    points_per_decade = 7


class EISDataFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EISData

    test = factory.SubFactory(EISTestFactory)
    organization = factory.LazyAttribute(lambda o: o.test.organization)
    frequency = factory.Sequence(lambda n: 1000.0 / (n + 1))
    parameter = "z_real"
    value = 0.012


class DBCFileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DBCFile

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"bms{n}.dbc")
    file = factory.SubFactory(
        StoredFileFactory,
        organization=factory.SelfAttribute("..organization"),
        content=SAMPLE_DBC.encode(),
        name="bms.dbc",
        content_type="application/octet-stream",
    )
    summary = factory.LazyFunction(
        lambda: {
            "message_count": 2,
            "signal_count": 3,
            "nodes": ["BMS"],
            "message_names": ["PackStatus", "CellTemps"],
            "message_names_truncated": False,
        }
    )


class BMSTestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BMSTest

    organization = factory.SubFactory(OrganizationFactory)
    battery = factory.SubFactory(
        BatteryFactory, organization=factory.SelfAttribute("..organization")
    )
    device = factory.SubFactory(
        EISDeviceFactory, organization=factory.SelfAttribute("..organization")
    )
    status = "running"


class BMSResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BMSResult

    bms_test = factory.SubFactory(BMSTestFactory)
    organization = factory.LazyAttribute(lambda o: o.bms_test.organization)
    timestamp = factory.Sequence(
        lambda n: timezone.now().replace(microsecond=0) + dt.timedelta(seconds=n)
    )
    parameter = "pack_voltage"
    value = 396.5


class BMSFileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BMSFile

    organization = factory.SubFactory(OrganizationFactory)
    bms_test = factory.SubFactory(
        BMSTestFactory, organization=factory.SelfAttribute("..organization")
    )
    file = factory.SubFactory(
        StoredFileFactory, organization=factory.SelfAttribute("..organization")
    )


class BatteryModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BatteryModel
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"soh-model-{n}")

    @factory.post_generation
    def battery_type(self, create, extracted, **kwargs):
        if create and extracted:
            self.battery_type.set(extracted)


class ModelVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelVersion

    organization = factory.SubFactory(OrganizationFactory)
    battery_model = factory.SubFactory(
        BatteryModelFactory, organization=factory.SelfAttribute("..organization")
    )
    version = factory.Sequence(lambda n: f"1.{n}")


class ModelPredictionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelPrediction

    organization = factory.SubFactory(OrganizationFactory)
    battery_model_version = factory.SubFactory(
        ModelVersionFactory, organization=factory.SelfAttribute("..organization")
    )
    test = factory.SubFactory(EISTestFactory, organization=factory.SelfAttribute("..organization"))
    soh_prediction = 0.93
    capacity_prediction = 61.2
    grading_prediction = "A"
    confidence_score = 0.88
