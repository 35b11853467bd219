"""factory_boy factories of VoltStorage's models."""

import datetime as dt

import factory

from tests.factories import OrganizationFactory
from voltstorage.models import Component, Group, Product, ProductType


class ProductTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductType
        django_get_or_create = ("name",)

    name = "VoltStorage SMART"
    start_of_production = dt.date(2018, 8, 20)
    base_type = "storage"


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Site {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    organization = factory.SubFactory(OrganizationFactory)
    serial_number = factory.Sequence(lambda n: f"AA{n:04d}")
    hardware_version = "5.4"
    manufacturing_date = dt.date(2019, 5, 21)
    timezone = "Europe/Berlin"
    type = factory.SubFactory(ProductTypeFactory)


class ComponentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Component

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Module {n}")
    kind = "battery-module"
