"""The data the fuzzer runs against: an organization owner with objects of every BatteryDB
resource (measurement rows and stored files included), a passport with a grant, a DMLF project
with a sample and an experiment, a VoltStorage product in a group with a component; spare
objects for the fuzzer's deletes; and an outsider who owns another organization.

:meth:`World.path_keys` names the kind of object each path parameter stands for, whose real
one is in ``World.objects``; :meth:`World.spare_ids` gives, per delete operation, the ids of
an object made to be deleted, so that the owner keeps its data while the deletes run. An API
whose objects are not here is fuzzed with generated ids only: add its objects, and its path
parameters to ``PATH_PARAMETERS``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.db.models import Max, Model
from django.utils import timezone

from core.models import Membership, Organization, User
from core.services import api_key_create
from passport.classes import AccessClass
from passport.models import Passport, PassportGrant
from tests.batterydb.factories import (
    BatteryFactory,
    BatteryModelFactory,
    BatteryTypeFactory,
    BMSFileFactory,
    BMSResultFactory,
    BMSTestFactory,
    DBCFileFactory,
    EISDataFactory,
    EISDeviceFactory,
    EISTestFactory,
    ModelPredictionFactory,
    ModelVersionFactory,
    ProjectFactory,
    StoredFileFactory,
)
from tests.dmlf import factories as dmlf
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.passport.factories import PassportFactory, PassportGrantFactory, full_passport
from tests.voltstorage import factories as voltstorage

# The collection of each path with an ``{id}``, and the world key of its objects.
RESOURCES = {
    **{
        f"/api/v2/{collection}": key
        for collection, key in {
            "projects": "project",
            "types/batteries": "battery_type",
            "batteries/types": "battery_type",
            "batteries": "battery",
            "eis/devices": "eis_device",
            "eis/tests": "eis_test",
            "eis/data": "eis_data",
            "bms/tests": "bms_test",
            "bms/results": "bms_result",
            "bms/files": "bms_file",
            "bms/dbc/files": "dbc_file",
            "models": "battery_model",
            "models/versions": "model_version",
            "models/predictions": "model_prediction",
            "organizations": "organization",
            "users": "user",
        }.items()
    },
    **{
        f"/dmlf/{collection}": f"dmlf_{key}"
        for collection, key in {
            "experiments": "experiment",
            "fundingbodies": "funding_body",
            "institutes": "institute",
            "methods": "method",
            "projects": "project",
            "sampletypes": "sample_type",
        }.items()
    },
    "/voltstorage/rest/groups": "vs_group",
    "/voltstorage/rest/types": "vs_type",
}

FINGERPRINTED_APPS = {"core", *settings.PLATFORM_APPS}

# The other path parameters, by name.
PATH_PARAMETERS = {
    "organization_pk": "organization",
    "user_id": "member",
    "batteryIDDMCCode": "passport",
    "grant_id": "passport_grant",
    "version": "passport_version",
    "sample_id": "dmlf_sample",
    "sample_type_name": "dmlf_sample_type_name",
    "product_id": "vs_product",
    "component_id": "vs_component",
}

EIS_FREQUENCIES = (1000.0, 100.0, 10.0, 1.0, 0.1)
BMS_SECONDS = 5


@dataclass
class World:
    owner: User
    outsider: User
    organization: Organization
    # The owner's data and the objects to delete, their ids by world key.
    objects: dict[str, int | str] = field(default_factory=dict)
    spares: dict[str, int | str] = field(default_factory=dict)
    credentials: dict[str, str] = field(default_factory=dict)  # identity -> Authorization

    def fingerprint(self) -> dict[str, tuple]:
        """The owner's organization and, per table holding its rows, how many there are and
        the latest change among them where the table records one."""
        self.organization.refresh_from_db()
        fingerprint = {"organization": (self.organization.name, self.organization.updated_at)}
        for model in apps.get_models():
            fields = {f.name for f in model._meta.concrete_fields}
            if "organization" not in fields or model._meta.app_label not in FINGERPRINTED_APPS:
                continue
            rows = model.objects.filter(organization=self.organization)
            latest = (
                rows.aggregate(latest=Max("updated_at"))["latest"]
                if "updated_at" in fields
                else None
            )
            fingerprint[model._meta.label] = (rows.count(), latest)
        return fingerprint

    def spare_ids(self, path: str) -> dict[str, int | str]:
        """The path parameters of a ``DELETE`` of ``path``: the last one points at a spare
        object, those before it at the owner's real parents (its organization, passport)."""
        keys = self.path_keys(path)
        last = list(keys)[-1]
        return {
            name: (self.spares if name == last else self.objects)[key] for name, key in keys.items()
        }

    @staticmethod
    def path_keys(path: str) -> dict[str, str]:
        """The world key of each path parameter of ``path`` (``KeyError`` for a path of
        objects the world does not hold)."""
        keys = {}
        for part in path.split("/"):
            if not part.startswith("{"):
                continue
            name = part[1:-1]
            if name == "id":
                keys[name] = RESOURCES[path.split("/{id}")[0]]
            else:
                keys[name] = PATH_PARAMETERS[name]
        return keys


def build_world(name: str) -> World:
    """Commit the owner's organization with its data, the spares and the outsider; ``name``
    tells the users and passports of several worlds apart."""
    organization = OrganizationFactory(name=f"{name} lab")
    owner = _member(organization, Membership.Role.OWNER, f"{name}-owner")
    member = _member(organization, Membership.Role.MEMBER, f"{name}-member")
    spare_member = _member(organization, Membership.Role.VIEWER, f"{name}-spare-member")
    outsider_organization = OrganizationFactory(name=f"{name} elsewhere")
    outsider = _member(outsider_organization, Membership.Role.OWNER, f"{name}-outsider")
    BatteryFactory(organization=outsider_organization)

    world = World(owner=owner, outsider=outsider, organization=organization)
    objects = _resources(organization, owner)
    passport = _passport(organization, owner, f"{name.upper()}-0001")
    world.objects = {
        **{key: obj.pk for key, obj in objects.items()},
        "organization": organization.pk,
        "member": member.pk,
        "user": member.pk,
        "passport": passport.battery_id,
        "passport_grant": _grant(passport, member).pk,
        "passport_version": str(passport.version),
        **_dmlf(organization, owner),
        **_voltstorage(organization, owner),
    }
    spare_passport = _passport(organization, owner, f"{name.upper()}-SPARE")
    world.spares = {
        **{key: obj.pk for key, obj in _spares(organization, owner, objects).items()},
        "organization": _spare_organization(owner).pk,
        "member": spare_member.pk,
        "user": spare_member.pk,
        "passport": spare_passport.battery_id,
        "passport_grant": _grant(passport, spare_member).pk,
        **_dmlf_spares(organization, owner),
        **_voltstorage_spares(organization, name, world.objects),
    }
    # API keys: a JWT would end when the fuzzer calls "log out everywhere" for its user.
    world.credentials = {
        identity: f"User {api_key_create(user=user, name='fuzzer')[1]}"
        for identity, user in (("owner", owner), ("outsider", outsider))
    }
    return world


def _member(organization: Organization, role: str, username: str) -> User:
    user = UserFactory(username=username)
    MembershipFactory(organization=organization, user=user, role=role)
    return user


def _resources(organization: Organization, owner: User) -> dict[str, Model]:
    """One object of every resource, linked as in real use, with data rows and files."""
    org = {"organization": organization}
    project = ProjectFactory(**org)
    battery_type = BatteryTypeFactory(**org)
    battery = BatteryFactory(**org, battery_type=battery_type)
    BatteryFactory(**org, battery_type=battery_type, parent=battery)
    device = EISDeviceFactory(**org, build_date=dt.date(2024, 5, 1))
    test = EISTestFactory(
        **org, battery=battery, device=device, created_by=owner, completed_at=timezone.now()
    )
    rows = [EISDataFactory(test=test, frequency=f, parameter="z_real") for f in EIS_FREQUENCIES]
    EISDataFactory(test=test, frequency=None, parameter="ocv", value=3.7)
    bms_test = BMSTestFactory(**org, battery=battery, device=device, linked_eis_test=test)
    start = timezone.now().replace(microsecond=0)
    results = [
        BMSResultFactory(bms_test=bms_test, timestamp=start + dt.timedelta(seconds=s))
        for s in range(BMS_SECONDS)
    ]
    bms_file = BMSFileFactory(**org, bms_test=bms_test)
    dbc_file = DBCFileFactory(**org)
    model = BatteryModelFactory(**org, created_by=owner, battery_type=[battery_type])
    version = ModelVersionFactory(
        **org,
        battery_model=model,
        created_by=owner,
        file=StoredFileFactory(**org, name="model.onnx", content=b"\x08\x01model"),
    )
    prediction = ModelPredictionFactory(
        **org, battery_model_version=version, test=test, created_by=owner
    )
    for obj in (battery_type, battery, device, test, bms_test, bms_file, dbc_file, model):
        obj.projects.add(project)
    return {
        "project": project,
        "battery_type": battery_type,
        "battery": battery,
        "eis_device": device,
        "eis_test": test,
        "eis_data": rows[0],
        "bms_test": bms_test,
        "bms_result": results[0],
        "bms_file": bms_file,
        "dbc_file": dbc_file,
        "battery_model": model,
        "model_version": version,
        "model_prediction": prediction,
    }


def _spares(organization: Organization, owner: User, objects: dict[str, Model]) -> dict[str, Model]:
    """One object of every resource that nothing else refers to, to be deleted."""
    org = {"organization": organization}
    linked = {"battery": objects["battery"], "device": objects["eis_device"]}
    version = ModelVersionFactory(**org, battery_model=objects["battery_model"])
    return {
        "project": ProjectFactory(**org),
        "battery_type": BatteryTypeFactory(**org),
        "battery": BatteryFactory(**org, battery_type=objects["battery_type"]),
        "eis_device": EISDeviceFactory(**org),
        "eis_test": EISTestFactory(**org, **linked),
        "eis_data": EISDataFactory(test=objects["eis_test"], frequency=5.0),
        "bms_test": BMSTestFactory(**org, **linked),
        "bms_result": BMSResultFactory(bms_test=objects["bms_test"], timestamp=timezone.now()),
        "bms_file": BMSFileFactory(**org, bms_test=objects["bms_test"]),
        "dbc_file": DBCFileFactory(**org),
        "battery_model": BatteryModelFactory(**org, created_by=owner),
        "model_version": version,
        "model_prediction": ModelPredictionFactory(
            **org, battery_model_version=version, test=objects["eis_test"]
        ),
    }


def _passport(organization: Organization, owner: User, battery_id: str) -> Passport:
    """A complete passport of the owner's organization."""
    document = full_passport(battery_id)
    document.pop("batteryIDDMCCode")
    return PassportFactory(
        organization=organization, battery_id=battery_id, document=document, created_by=owner
    )


def _grant(passport: Passport, user: User) -> PassportGrant:
    return PassportGrantFactory(passport=passport, user=user, access=AccessClass.AUTHORITIES)


def _dmlf(organization: Organization, owner: User) -> dict[str, int | str]:
    """A DMLF project of the owner's organization with a sample and its experiment, and the
    catalogues they name."""
    sample_type = dmlf.builtin_sample_types()["Battery"]
    experiment = dmlf.ExperimentFactory(
        sample=dmlf.SampleFactory(
            project=dmlf.ProjectFactory(organization=organization),
            user=owner,
            sample_type=sample_type,
        ),
    )
    sample, project, method = experiment.sample, experiment.sample.project, experiment.method
    return {
        "dmlf_experiment": experiment.pk,
        "dmlf_sample": sample.sample_id,
        "dmlf_project": project.pk,
        "dmlf_funding_body": project.funding_body_id,
        "dmlf_institute": method.institute_id,
        "dmlf_method": method.pk,
        "dmlf_sample_type": sample_type.pk,
        "dmlf_sample_type_name": sample_type.name,
    }


def _dmlf_spares(organization: Organization, owner: User) -> dict[str, int | str]:
    project = dmlf.ProjectFactory(organization=organization)
    return {
        "dmlf_experiment": dmlf.ExperimentFactory(sample__project=project).pk,
        "dmlf_sample": dmlf.SampleFactory(project=project, user=owner).sample_id,
    }


def _voltstorage(organization: Organization, owner: User) -> dict[str, int]:
    """A VoltStorage product of the owner's organization in one of its groups, owned by the
    owner, with a component."""
    group = voltstorage.GroupFactory(organization=organization)
    product = voltstorage.ProductFactory(organization=organization, group=group, owner=owner)
    return {
        "vs_type": product.type_id,
        "vs_group": group.pk,
        "vs_product": product.pk,
        "vs_component": voltstorage.ComponentFactory(product=product).pk,
    }


def _voltstorage_spares(
    organization: Organization, name: str, objects: dict[str, int | str]
) -> dict[str, int]:
    return {
        "vs_type": voltstorage.ProductTypeFactory(name=f"{name} spare type").pk,
        "vs_group": voltstorage.GroupFactory(organization=organization).pk,
        "vs_product": voltstorage.ProductFactory(organization=organization).pk,
        "vs_component": voltstorage.ComponentFactory(product_id=objects["vs_product"]).pk,
    }


def _spare_organization(owner: User) -> Organization:
    """An organization of the owner's with data of its own, for the organization delete."""
    organization = OrganizationFactory(name="Spare lab")
    MembershipFactory(organization=organization, user=owner, role=Membership.Role.OWNER)
    test = EISTestFactory(organization=organization)
    EISDataFactory(test=test)
    BMSFileFactory(organization=organization)
    return organization
