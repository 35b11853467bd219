"""Access policies (``core.access``) beyond organization membership: owner users and their
groups' owners (unions), grants, public reads, creator rules, organizations reached through a
path. Throwaway models are created for these tests, on SQLite and on PostgreSQL; the viewsets
are the platform's own base with nothing but a declared policy."""

from __future__ import annotations

import pytest
from django.db import connection, models
from django.test.utils import isolate_apps
from rest_framework import serializers
from rest_framework.test import APIRequestFactory, force_authenticate

from core.access import (
    AccessPolicy,
    Anyone,
    CreatorOrRole,
    Granted,
    Members,
    UserField,
)
from core.models import Membership, Organization, User
from core.tenancy import OrganizationScopedSerializerMixin, Role
from core.viewsets import OrganizationScopedModelViewSet
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def throwaway_models():
    with isolate_apps("core"):

        class Group(models.Model):
            organization_field = "organization"
            organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
            owner = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")

            class Meta:
                app_label = "core"
                db_table = "test_access_group"

            def __str__(self) -> str:
                return str(self.pk)

        class Product(models.Model):
            organization_field = "organization"
            organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
            group = models.ForeignKey(Group, null=True, on_delete=models.SET_NULL)
            owner = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
            name = models.CharField(max_length=50)

            class Meta:
                app_label = "core"
                db_table = "test_access_product"

            def __str__(self) -> str:
                return self.name

        class ProductGrant(models.Model):
            product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="grants")
            user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
            active = models.BooleanField(default=True)

            class Meta:
                app_label = "core"
                db_table = "test_access_grant"

            def __str__(self) -> str:
                return str(self.pk)

        class Note(models.Model):
            """Reaches its organization through its product; ``user`` is its creator."""

            organization_field = "product__organization"
            product = models.ForeignKey(Product, on_delete=models.CASCADE)
            user = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
            text = models.CharField(max_length=50)

            class Meta:
                app_label = "core"
                db_table = "test_access_note"

            def __str__(self) -> str:
                return self.text

        yield {"Group": Group, "Product": Product, "ProductGrant": ProductGrant, "Note": Note}


@pytest.fixture
def tables(throwaway_models):
    order = ["Group", "Product", "ProductGrant", "Note"]
    with connection.schema_editor() as editor:
        for name in order:
            editor.create_model(throwaway_models[name])
    yield throwaway_models
    with connection.schema_editor() as editor:
        for name in reversed(order):
            editor.delete_model(throwaway_models[name])


def viewset_for(model, policy: AccessPolicy, fields: list[str]):
    class Serializer(OrganizationScopedSerializerMixin, serializers.ModelSerializer):
        class Meta:
            pass

    Serializer.Meta.model = model
    Serializer.Meta.fields = ["id", *fields]

    class ViewSet(OrganizationScopedModelViewSet):
        queryset = model.objects.all()
        serializer_class = Serializer
        access = policy
        filter_backends: list = []

    return ViewSet


def call(viewset, user, method: str, pk=None, data=None):
    actions = {"get": "retrieve" if pk else "list", "post": "create", "patch": "partial_update"}
    actions["delete"] = "destroy"
    view = viewset.as_view({method: actions[method]})
    factory = APIRequestFactory()
    request = getattr(factory, method)("/x/", data, format="json")
    if user is not None:
        force_authenticate(request, user=user)
    response = view(request, pk=pk) if pk else view(request)
    response.render()
    return response


@pytest.fixture
def world(tables):
    """An organization with an owner, a member and a viewer; a homeowner who owns one product,
    a group owner whose group holds another, a grantee, an outsider."""
    organization = OrganizationFactory()
    people = {
        role: MembershipFactory(organization=organization, role=role).user
        for role in (Role.OWNER, Role.MEMBER, Role.VIEWER)
    }
    people["homeowner"] = UserFactory()
    people["group_owner"] = UserFactory()
    people["grantee"] = UserFactory()
    people["outsider"] = MembershipFactory(role=Role.OWNER).user
    people["loner"] = UserFactory()
    Group, Product = tables["Group"], tables["Product"]
    group = Group.objects.create(organization=organization, owner=people["group_owner"])
    products = {
        "owned": Product.objects.create(
            organization=organization, owner=people["homeowner"], name="owned"
        ),
        "grouped": Product.objects.create(organization=organization, group=group, name="grouped"),
        "plain": Product.objects.create(organization=organization, name="plain"),
    }
    tables["ProductGrant"].objects.create(product=products["plain"], user=people["grantee"])
    tables["ProductGrant"].objects.create(
        product=products["grouped"], user=people["grantee"], active=False
    )
    return {"organization": organization, "people": people, "products": products, **tables}


UNION = AccessPolicy(
    readers=[
        Members(),
        UserField("owner"),
        UserField("group__owner"),
        Granted("grants", active=models.Q(active=True)),
    ]
)


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        (Role.OWNER, {"owned", "grouped", "plain"}),
        (Role.VIEWER, {"owned", "grouped", "plain"}),
        ("homeowner", {"owned"}),
        ("group_owner", {"grouped"}),
        ("grantee", {"plain"}),  # the other grant is inactive
        ("outsider", set()),
    ],
)
def test_a_union_of_readers_lists_exactly_what_each_may_see(world, who, sees):
    viewset = viewset_for(world["Product"], UNION, ["organization", "name"])
    response = call(viewset, world["people"][who], "get")
    assert response.status_code == 200
    assert {row["name"] for row in response.data["results"]} == sees


def test_the_union_is_one_query_whatever_the_readers(world, django_assert_num_queries):
    viewset = viewset_for(world["Product"], UNION, ["organization", "name"])
    with django_assert_num_queries(2):  # count and page; memberships and grants are subqueries
        response = call(viewset, world["people"]["homeowner"], "get")
    assert response.data["count"] == 1


@pytest.mark.parametrize(
    ("who", "product", "status"),
    [
        ("homeowner", "owned", 403),  # sees it, may not change it
        ("group_owner", "grouped", 403),
        ("grantee", "plain", 403),
        ("homeowner", "plain", 404),  # does not see it
        ("outsider", "owned", 404),
        (Role.VIEWER, "owned", 403),
        (Role.MEMBER, "owned", 200),
    ],
)
def test_readers_beyond_members_may_not_write(world, who, product, status):
    viewset = viewset_for(world["Product"], UNION, ["organization", "name"])
    pk = world["products"][product].pk
    response = call(viewset, world["people"][who], "patch", pk=pk, data={"name": "renamed"})
    assert response.status_code == status


def test_public_reads_admit_anonymous_safe_methods_only(world):
    policy = AccessPolicy(readers=[Members(), Anyone()])
    viewset = viewset_for(world["Product"], policy, ["organization", "name"])
    listed = call(viewset, None, "get")
    assert listed.status_code == 200 and listed.data["count"] == 3
    pk = world["products"]["plain"].pk
    assert call(viewset, None, "patch", pk=pk, data={"name": "x"}).status_code == 401
    assert call(viewset, world["people"]["outsider"], "get", pk=pk).status_code == 200
    assert call(viewset, world["people"]["outsider"], "delete", pk=pk).status_code == 403


def test_creator_rules_any_member_reads_the_creator_or_an_owner_edits(world):
    Note = world["Note"]
    people = world["people"]
    policy = AccessPolicy(
        organization="product__organization",
        update=CreatorOrRole("user", Role.OWNER),
        delete=CreatorOrRole("user", Role.OWNER),
    )
    viewset = viewset_for(Note, policy, ["product", "text", "user"])
    product = world["products"]["plain"]
    mine = Note.objects.create(product=product, user=people[Role.MEMBER], text="mine")
    another_member = MembershipFactory(organization=world["organization"], role=Role.MEMBER).user
    assert call(viewset, people[Role.VIEWER], "get", pk=mine.pk).status_code == 200
    assert call(viewset, another_member, "patch", pk=mine.pk, data={"text": "x"}).status_code == 403
    assert (
        call(viewset, people[Role.MEMBER], "patch", pk=mine.pk, data={"text": "y"}).status_code
        == 200
    )
    assert (
        call(viewset, people[Role.OWNER], "patch", pk=mine.pk, data={"text": "z"}).status_code
        == 200
    )
    assert call(viewset, people["outsider"], "get", pk=mine.pk).status_code == 404
    assert call(viewset, another_member, "delete", pk=mine.pk).status_code == 403
    assert call(viewset, people[Role.MEMBER], "delete", pk=mine.pk).status_code == 204


def test_a_path_organization_gets_the_create_role_check(world):
    """A viewer may not create a note on a product of their organization (the organization is
    reached through ``product``); a member may."""
    Note = world["Note"]
    policy = AccessPolicy(organization="product__organization")
    viewset = viewset_for(Note, policy, ["product", "text"])
    body = {"product": world["products"]["plain"].pk, "text": "t"}
    assert call(viewset, world["people"][Role.VIEWER], "post", data=body).status_code == 403
    assert Note.objects.count() == 0
    assert call(viewset, world["people"][Role.MEMBER], "post", data=body).status_code == 201


def test_a_path_organization_cannot_change_either(world):
    """Moving a note to a product of another organization would move the note there: refused
    like a change of ``organization`` itself (400), whatever the user's roles."""
    Note, Product = world["Note"], world["Product"]
    people = world["people"]
    other = OrganizationFactory()
    Membership.objects.create(user=people[Role.MEMBER], organization=other, role=Role.OWNER)
    elsewhere = Product.objects.create(organization=other, name="elsewhere")
    note = Note.objects.create(product=world["products"]["plain"], text="n")
    policy = AccessPolicy(organization="product__organization")
    viewset = viewset_for(Note, policy, ["product", "text"])
    response = call(
        viewset, people[Role.MEMBER], "patch", pk=note.pk, data={"product": elsewhere.pk}
    )
    assert response.status_code == 400
    assert "same organization" in response.data["product"][0]
    note.refresh_from_db()
    assert note.product_id == world["products"]["plain"].pk


def test_a_user_without_any_membership_creates_nothing(world):
    viewset = viewset_for(world["Product"], AccessPolicy(), ["organization", "name"])
    body = {"organization": world["organization"].pk, "name": "n"}
    response = call(viewset, world["people"]["loner"], "post", data=body)
    assert response.status_code == 403
    assert "member role in an organization" in response.data["detail"]


def test_a_member_elsewhere_may_not_create_through_a_path_where_only_a_viewer(world):
    """The create role is checked in the organization the path leads to, not just anywhere."""
    Note = world["Note"]
    viewer = world["people"][Role.VIEWER]
    Membership.objects.create(user=viewer, organization=OrganizationFactory(), role=Role.OWNER)
    viewset = viewset_for(
        Note, AccessPolicy(organization="product__organization"), ["product", "text"]
    )
    body = {"product": world["products"]["plain"].pk, "text": "t"}
    assert call(viewset, viewer, "post", data=body).status_code == 403
    assert Note.objects.count() == 0
