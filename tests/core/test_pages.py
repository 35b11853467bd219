"""The site's web pages: sign up, log in and out, passwords (change and reset by email), profile,
API keys, organizations, error pages, the navigation the apps contribute, and the
Content-Security-Policy of the pages, the API docs and the browsable API."""

from __future__ import annotations

import datetime as dt
import gzip
import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import include, path, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core import services
from core import urls as core_urls
from core.models import Membership, Organization, User, UserAPIKey
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"  # the factories' password
ME = reverse("user-me")


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """``{% static %}`` without a collectstatic manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def web_client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def text_of(response) -> str:
    """The page as a reader sees it: HTML entities decoded."""
    return html.unescape(response.content.decode())


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def logged_in_user_id(client: Client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value is not None else None


def get_me(key: str):
    return APIClient().get(ME, HTTP_AUTHORIZATION=f"User {key}")


# --- Anonymous ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("profile", {}),
        ("api_keys", {}),
        ("organizations", {}),
        ("organization_detail", {"pk": 1}),
        ("password_change", {}),
    ],
)
def test_anonymous_user_is_redirected_to_login(name, kwargs):
    url = reverse(name, kwargs=kwargs)
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_anonymous_post_changes_nothing_and_redirects_to_login(owner, organization):
    response = Client().post(
        reverse("organization_member_add", kwargs={"pk": organization.pk}),
        {"email": "x@example.com", "role": "member"},
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_and_signup_pages_render_with_navigation():
    for name in ("login", "signup"):
        response = Client().get(reverse(name))
        assert response.status_code == 200
        content = response.content.decode()
        assert 'href="/api/docs/"' in content
        assert "site.css" in content
        assert "csrfmiddlewaretoken" in content
    assert "Username or email" in Client().get(reverse("login")).content.decode()


# --- Sign up, log in, log out, password -----------------------------------------------------


def test_signup_creates_a_user_and_logs_in():
    client = Client()
    response = client.post(
        reverse("signup"),
        {
            "username": "ada",
            "email": "Ada@Example.com",
            "password1": "correct-horse-battery-9",
            "password2": "correct-horse-battery-9",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("profile")
    user = User.objects.get(username="ada")
    assert user.email == "Ada@example.com"  # Django normalizes the domain part
    assert user.check_password("correct-horse-battery-9")
    assert logged_in_user_id(client) == user.pk
    assert client.get(reverse("profile")).status_code == 200


def test_signup_with_an_email_taken_in_another_case_is_refused():
    UserFactory(username="grace", email="grace@example.com")
    client = Client()
    response = client.post(
        reverse("signup"),
        {
            "username": "grace2",
            "email": "GRACE@example.COM",
            "password1": "correct-horse-battery-9",
            "password2": "correct-horse-battery-9",
        },
    )
    assert response.status_code == 200
    assert "A user with this email already exists." in text_of(response)
    assert not User.objects.filter(username="grace2").exists()
    assert logged_in_user_id(client) is None


def test_signup_with_mismatched_passwords_is_refused():
    response = Client().post(
        reverse("signup"),
        {
            "username": "alan",
            "email": "alan@example.com",
            "password1": "correct-horse-battery-9",
            "password2": "correct-horse-battery-8",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["password2"]
    assert not User.objects.filter(username="alan").exists()


@pytest.mark.parametrize("login", ["linus", "linus@example.com", "LINUS@Example.com"])
def test_login_by_username_or_email(login):
    user = UserFactory(username="linus", email="linus@example.com")
    client = Client()
    response = client.post(reverse("login"), {"username": login, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("profile")
    assert logged_in_user_id(client) == user.pk


def test_login_with_a_wrong_password_is_refused():
    UserFactory(username="linus")
    client = Client()
    response = client.post(reverse("login"), {"username": "linus", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username or email and password" in text_of(response)
    assert logged_in_user_id(client) is None


def test_logout_is_a_post(member):
    client = web_client(member)
    assert client.get(reverse("logout")).status_code == 405
    assert logged_in_user_id(client) == member.pk
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert logged_in_user_id(client) is None


def test_password_change(member):
    client = web_client(member)
    assert client.get(reverse("password_change")).status_code == 200
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-better-secret-7",
            "new_password2": "a-much-better-secret-7",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    member.refresh_from_db()
    assert member.check_password("a-much-better-secret-7")
    # Still logged in after the change.
    assert client.get(reverse("password_change_done")).status_code == 200


def test_password_change_with_a_wrong_old_password_changes_nothing(member):
    response = web_client(member).post(
        reverse("password_change"),
        {
            "old_password": "wrong",
            "new_password1": "a-much-better-secret-7",
            "new_password2": "a-much-better-secret-7",
        },
    )
    assert response.status_code == 200
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


# --- Profile --------------------------------------------------------------------------------


def test_profile_shows_account_links_and_organizations_with_role(owner, organization):
    other = MembershipFactory(user=owner, role=Membership.Role.VIEWER).organization
    response = web_client(owner).get(reverse("profile"))
    assert response.status_code == 200
    content = text_of(response)
    assert owner.username in content and owner.email in content
    assert reverse("api_keys") in content and reverse("organizations") in content
    assert organization.name in content and other.name in content
    roles = {m.organization_id: m.role for m in response.context["memberships"]}
    assert roles == {organization.pk: "owner", other.pk: "viewer"}


def test_profile_edit_saves_names_and_email(member):
    response = web_client(member).post(
        reverse("profile"),
        {"email": "new@example.com", "first_name": "Marie", "last_name": "Curie"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Your profile has been saved." in messages_of(response)
    member.refresh_from_db()
    assert (member.email, member.first_name, member.last_name) == (
        "new@example.com",
        "Marie",
        "Curie",
    )


def test_profile_edit_refuses_an_email_taken_in_another_case(member, owner):
    old_email = member.email
    response = web_client(member).post(
        reverse("profile"), {"email": owner.email.upper(), "first_name": "", "last_name": ""}
    )
    assert response.status_code == 200
    assert "A user with this email already exists." in text_of(response)
    member.refresh_from_db()
    assert member.email == old_email


def test_profile_edit_keeps_your_own_email_in_another_case(member):
    response = web_client(member).post(
        reverse("profile"), {"email": member.email.upper(), "first_name": "", "last_name": ""}
    )
    assert response.status_code == 302
    local, _, domain = member.email.partition("@")
    member.refresh_from_db()
    assert member.email == f"{local.upper()}@{domain}"


# --- API keys -------------------------------------------------------------------------------


def create_key(client: Client, **data):
    return client.post(reverse("api_keys"), {"name": "laptop", "expiry_date": "", **data})


def create_and_show_key(client: Client, **data):
    """Create a key and follow the redirect to the page that shows it."""
    return client.post(
        reverse("api_keys"), {"name": "laptop", "expiry_date": "", **data}, follow=True
    )


def test_new_api_key_is_shown_once_with_a_curl_command(member):
    client = web_client(member)
    response = create_key(client)
    stored = UserAPIKey.objects.get(user=member)
    shown_at = reverse("api_key_created", kwargs={"prefix": stored.prefix})
    assert response.status_code == 302
    assert response["Location"] == shown_at

    response = client.get(shown_at)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = response.context["key"]
    prefix, _, secret = key.partition(".")
    content = text_of(response)
    assert "Your new API key" in content
    assert key in content
    assert (
        f"curl --header 'Authorization: User {key}' http://testserver/api/v2/organizations/"
        in content
    )

    # Only the hash is stored, and once shown the key is nowhere in the session.
    assert stored.name == "laptop" and stored.prefix == prefix
    assert secret not in stored.hashed_key and secret not in stored.pk
    assert secret not in str(dict(client.session))

    # The next view of the page lists the key by its prefix only.
    page = client.get(reverse("api_keys"))
    assert page.status_code == 200
    assert prefix in page.content.decode()
    assert secret not in page.content.decode()
    assert "active" in page.content.decode()

    # The key that was shown works.
    me = get_me(key)
    assert me.status_code == 200
    assert me.json()["username"] == member.username


def test_new_api_key_waits_in_the_session_only_until_it_is_shown(member):
    client = web_client(member)
    create_key(client)
    stored = UserAPIKey.objects.get(user=member)
    assert stored.prefix in str(dict(client.session))  # between the POST and the GET
    client.get(reverse("api_key_created", kwargs={"prefix": stored.prefix}))
    assert stored.prefix not in str(dict(client.session))


def test_reloading_the_new_key_page_creates_nothing_and_shows_nothing(member):
    client = web_client(member)
    first = create_and_show_key(client)
    key = first.context["key"]
    shown_at = first.redirect_chain[-1][0]

    reload = client.get(shown_at, follow=True)
    assert reload.redirect_chain == [(reverse("api_keys"), 302)]
    content = text_of(reload)
    assert key not in content and key.partition(".")[2] not in content
    assert "was shown once, when it was created, and cannot be shown again" in content
    assert UserAPIKey.objects.filter(user=member).count() == 1


def test_two_new_keys_are_each_shown_once(member):
    client = web_client(member)
    create_key(client, name="first")
    create_key(client, name="second")
    for name in ("first", "second"):
        stored = UserAPIKey.objects.get(user=member, name=name)
        response = client.get(reverse("api_key_created", kwargs={"prefix": stored.prefix}))
        assert response.status_code == 200
        assert response.context["api_key"] == stored
        assert get_me(response.context["key"]).status_code == 200


def test_the_new_key_page_of_someone_elses_key_is_404(member, outsider):
    client = web_client(outsider)
    create_key(client)
    stored = UserAPIKey.objects.get(user=outsider)
    url = reverse("api_key_created", kwargs={"prefix": stored.prefix})
    assert web_client(member).get(url).status_code == 404
    assert client.get(url).status_code == 200


def test_a_head_request_does_not_use_up_the_new_key(member):
    client = web_client(member)
    create_key(client)
    stored = UserAPIKey.objects.get(user=member)
    url = reverse("api_key_created", kwargs={"prefix": stored.prefix})
    assert client.head(url).status_code == 405
    response = client.get(url)
    assert response.status_code == 200
    assert get_me(response.context["key"]).status_code == 200


def test_new_api_key_with_a_future_expiry(member):
    expiry = timezone.now().date() + dt.timedelta(days=30)
    response = create_and_show_key(web_client(member), expiry_date=expiry.isoformat())
    assert response.status_code == 200
    stored = UserAPIKey.objects.get(user=member)
    assert stored.expiry_date.date() == expiry
    assert get_me(response.context["key"]).status_code == 200


def test_new_api_key_with_an_expiry_in_the_past_is_refused(member):
    yesterday = timezone.now().date() - dt.timedelta(days=1)
    response = create_key(web_client(member), expiry_date=yesterday.isoformat())
    assert response.status_code == 200
    assert "key" not in response.context
    assert "The expiry must be in the future." in text_of(response)
    assert not UserAPIKey.objects.filter(user=member).exists()


@pytest.mark.parametrize("name", ["", "x" * 51])
def test_new_api_key_needs_a_name_of_at_most_50_characters(member, name):
    response = create_key(web_client(member), name=name)
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert not UserAPIKey.objects.filter(user=member).exists()


def test_api_keys_page_lists_only_your_keys_with_their_status(member, outsider):
    services.api_key_create(user=member, name="active-one")
    revoked, _ = services.api_key_create(user=member, name="revoked-one")
    services.api_key_revoke(api_key=revoked)
    expired, _ = services.api_key_create(user=member, name="expired-one")
    UserAPIKey.objects.filter(pk=expired.pk).update(
        expiry_date=timezone.now() - dt.timedelta(days=1)
    )
    services.api_key_create(user=outsider, name="not-mine")

    response = web_client(member).get(reverse("api_keys"))
    content = response.content.decode()
    assert {k.name for k in response.context["keys"]} == {
        "active-one",
        "revoked-one",
        "expired-one",
    }
    assert "not-mine" not in content
    for status in ("active", "revoked", "expired"):
        assert f'class="badge {status}"' in content


def test_revoke_an_api_key(member):
    api_key, key = services.api_key_create(user=member, name="laptop")
    assert get_me(key).status_code == 200
    response = web_client(member).post(
        reverse("api_key_revoke", kwargs={"prefix": api_key.prefix}), follow=True
    )
    assert response.status_code == 200
    assert "The API key “laptop” has been revoked." in messages_of(response)
    api_key.refresh_from_db()
    assert api_key.revoked
    assert get_me(key).status_code == 401


def test_revoking_someone_elses_api_key_is_404(member, outsider):
    api_key, key = services.api_key_create(user=outsider, name="theirs")
    response = web_client(member).post(reverse("api_key_revoke", kwargs={"prefix": api_key.prefix}))
    assert response.status_code == 404
    api_key.refresh_from_db()
    assert not api_key.revoked
    assert get_me(key).status_code == 200


def test_revoking_asks_for_confirmation_first(member):
    api_key, key = services.api_key_create(user=member, name="laptop")
    url = reverse("api_key_revoke", kwargs={"prefix": api_key.prefix})
    client = web_client(member)
    assert f'href="{url}"' in client.get(reverse("api_keys")).content.decode()

    response = client.get(url)
    assert response.status_code == 200
    content = text_of(response)
    assert "Revoke the API key “laptop”?" in content
    assert api_key.prefix in content
    assert 'method="post"' in content
    api_key.refresh_from_db()
    assert not api_key.revoked
    assert get_me(key).status_code == 200

    client.post(url)
    api_key.refresh_from_db()
    assert api_key.revoked


def test_revoke_accepts_no_other_method(member):
    api_key, _ = services.api_key_create(user=member, name="laptop")
    url = reverse("api_key_revoke", kwargs={"prefix": api_key.prefix})
    response = web_client(member).put(url)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, POST"
    api_key.refresh_from_db()
    assert not api_key.revoked


# --- Organizations --------------------------------------------------------------------------


def detail_url(organization) -> str:
    return reverse("organization_detail", kwargs={"pk": organization.pk})


def role_url(organization, user) -> str:
    return reverse("organization_member_role", kwargs={"pk": organization.pk, "user_id": user.pk})


def remove_url(organization, user) -> str:
    return reverse("organization_member_remove", kwargs={"pk": organization.pk, "user_id": user.pk})


def add_url(organization) -> str:
    return reverse("organization_member_add", kwargs={"pk": organization.pk})


def role_of(organization, user) -> str | None:
    membership = Membership.objects.filter(organization=organization, user=user).first()
    return membership.role if membership else None


def test_organizations_page_lists_yours_with_your_role(member, organization, other_organization):
    response = web_client(member).get(reverse("organizations"))
    assert response.status_code == 200
    content = text_of(response)
    assert organization.name in content
    assert other_organization.name not in content
    assert [(m.organization_id, m.role) for m in response.context["memberships"]] == [
        (organization.pk, "member")
    ]


def test_create_an_organization_makes_you_its_owner(member):
    response = web_client(member).post(reverse("organizations"), {"name": "Cell Lab"}, follow=True)
    assert response.status_code == 200
    organization = Organization.objects.get(name="Cell Lab")
    assert response.redirect_chain[-1][0] == detail_url(organization)
    assert role_of(organization, member) == "owner"
    assert "Cell Lab" in text_of(response)


def test_create_an_organization_needs_a_name(member, organization):
    response = web_client(member).post(reverse("organizations"), {"name": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert list(Organization.objects.all()) == [organization]


def test_organization_page_lists_members_with_role(owner, member, viewer, organization):
    response = web_client(viewer).get(detail_url(organization))
    assert response.status_code == 200
    content = text_of(response)
    for user in (owner, member, viewer):
        assert user.username in content and user.email in content
    rows = {(m.user.username, m.role) for m in response.context["memberships"]}
    assert rows == {
        (owner.username, "owner"),
        (member.username, "member"),
        (viewer.username, "viewer"),
    }


def test_owner_sees_the_management_forms_and_others_do_not(owner, member, organization):
    owner_page = web_client(owner).get(detail_url(organization)).content.decode()
    member_page = web_client(member).get(detail_url(organization)).content.decode()
    assert add_url(organization) in owner_page and role_url(organization, member) in owner_page
    assert add_url(organization) not in member_page
    assert role_url(organization, member) not in member_page
    assert remove_url(organization, member) not in member_page


def test_non_member_gets_404_for_an_organization_page(outsider, organization):
    assert web_client(outsider).get(detail_url(organization)).status_code == 404


def test_missing_organization_is_404(member):
    assert (
        web_client(member).get(reverse("organization_detail", kwargs={"pk": 999})).status_code
        == 404
    )


def test_staff_may_see_any_organization(staff, owner, organization):
    response = web_client(staff).get(detail_url(organization))
    assert response.status_code == 200
    assert owner.username in text_of(response)


def test_owner_adds_a_member_by_email_with_a_role(owner, organization):
    newcomer = UserFactory(email="new.person@example.com")
    response = web_client(owner).post(
        add_url(organization), {"email": "New.Person@Example.com", "role": "viewer"}, follow=True
    )
    assert response.status_code == 200
    assert role_of(organization, newcomer) == "viewer"
    assert f"{newcomer.username} added as viewer." in messages_of(response)
    assert newcomer.email in text_of(response)


def test_adding_an_unknown_email_shows_an_error(owner, organization):
    response = web_client(owner).post(
        add_url(organization), {"email": "nobody@example.com", "role": "member"}
    )
    assert response.status_code == 200
    assert "No active user has this email." in text_of(response)
    assert Membership.objects.filter(organization=organization).count() == 1


def test_adding_an_existing_member_shows_an_error(owner, member, organization):
    response = web_client(owner).post(
        add_url(organization), {"email": member.email, "role": "owner"}, follow=True
    )
    assert response.status_code == 200
    assert "This user is already a member of the organization." in messages_of(response)
    assert role_of(organization, member) == "member"


def test_owner_changes_a_role(owner, member, organization):
    response = web_client(owner).post(
        role_url(organization, member), {"role": "owner"}, follow=True
    )
    assert response.status_code == 200
    assert role_of(organization, member) == "owner"
    assert f"{member.username} is now owner." in messages_of(response)


def test_an_unknown_role_changes_nothing(owner, member, organization):
    response = web_client(owner).post(role_url(organization, member), {"role": "god"}, follow=True)
    assert response.status_code == 200
    assert role_of(organization, member) == "member"


def test_owner_removes_a_member(owner, member, organization):
    response = web_client(owner).post(remove_url(organization, member), follow=True)
    assert response.status_code == 200
    assert role_of(organization, member) is None
    assert f"{member.username} removed from {organization.name}." in messages_of(response)


def test_demoting_the_last_owner_shows_an_error_and_changes_nothing(owner, member, organization):
    response = web_client(owner).post(
        role_url(organization, owner), {"role": "member"}, follow=True
    )
    assert response.status_code == 200
    assert "An organization must keep at least one owner." in messages_of(response)
    assert role_of(organization, owner) == "owner"


def test_removing_the_last_owner_shows_an_error_and_changes_nothing(owner, organization):
    response = web_client(owner).post(remove_url(organization, owner), follow=True)
    assert response.status_code == 200
    assert "An organization must keep at least one owner." in messages_of(response)
    assert role_of(organization, owner) == "owner"


def test_an_owner_may_leave_when_another_owner_remains(owner, member, organization):
    Membership.objects.filter(organization=organization, user=member).update(role="owner")
    response = web_client(owner).post(remove_url(organization, owner))
    assert response.status_code == 302
    assert response["Location"] == reverse("organizations")
    assert role_of(organization, owner) is None


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_post_from_a_non_owner_is_403_and_changes_nothing(owner, organization, role):
    user = MembershipFactory(organization=organization, role=role).user
    newcomer = UserFactory()
    client = web_client(user)
    assert (
        client.post(add_url(organization), {"email": newcomer.email, "role": "owner"}).status_code
        == 403
    )
    assert client.post(role_url(organization, user), {"role": "owner"}).status_code == 403
    assert client.post(remove_url(organization, owner)).status_code == 403
    assert role_of(organization, newcomer) is None
    assert role_of(organization, user) == role
    assert role_of(organization, owner) == "owner"


def test_post_from_a_non_member_is_404(outsider, owner, organization):
    client = web_client(outsider)
    assert (
        client.post(add_url(organization), {"email": outsider.email, "role": "owner"}).status_code
        == 404
    )
    assert client.post(role_url(organization, owner), {"role": "viewer"}).status_code == 404
    assert client.post(remove_url(organization, owner)).status_code == 404
    assert role_of(organization, outsider) is None
    assert role_of(organization, owner) == "owner"


def test_managing_a_user_who_is_not_a_member_is_404(owner, outsider, organization):
    response = web_client(owner).post(role_url(organization, outsider), {"role": "viewer"})
    assert response.status_code == 404


def test_removing_a_member_asks_for_confirmation_first(owner, member, organization):
    client = web_client(owner)
    url = remove_url(organization, member)
    assert f'href="{url}"' in client.get(detail_url(organization)).content.decode()

    response = client.get(url)
    assert response.status_code == 200
    content = text_of(response)
    assert f"Remove {member.username} from {organization.name}?" in content
    assert 'method="post"' in content
    assert role_of(organization, member) == "member"

    client.post(url)
    assert role_of(organization, member) is None


def test_leaving_asks_for_confirmation_in_your_own_words(owner, member, organization):
    Membership.objects.filter(organization=organization, user=member).update(role="owner")
    response = web_client(owner).get(remove_url(organization, owner))
    assert f"Leave {organization.name}?" in text_of(response)
    assert role_of(organization, owner) == "owner"


@pytest.mark.parametrize(("role", "status"), [("member", 403), ("viewer", 403), (None, 404)])
def test_the_removal_confirmation_is_for_owners_only(owner, organization, role, status):
    user = MembershipFactory(organization=organization, role=role).user if role else UserFactory()
    assert web_client(user).get(remove_url(organization, owner)).status_code == status


# --- The site's own templates for every authentication page ---------------------------------

SITE_HEADING = '<a class="brand" href="/">Battery data platform</a>'


def assert_site_page(response, heading: str) -> str:
    """The page is one of the site's, with its navigation, not the admin's."""
    content = text_of(response)
    assert SITE_HEADING in content
    assert 'class="topbar"' in content and 'href="/api/docs/"' in content
    assert f"<h1>{heading}</h1>" in content
    assert "Django administration" not in content and "breadcrumbs" not in content
    assert 'href="/admin/"' not in content
    return content


def test_password_change_page_is_the_sites_for_a_normal_user(member):
    response = web_client(member).get(reverse("password_change"))
    assert response.status_code == 200
    content = assert_site_page(response, "Change password")
    assert f'href="{reverse("profile")}"' in content  # the signed-in navigation
    assert "not authorized" not in content.lower()
    assert 'name="old_password"' in content and 'name="new_password2"' in content


def test_password_change_done_page_is_the_sites(member):
    response = web_client(member).get(reverse("password_change_done"))
    assert response.status_code == 200
    assert_site_page(response, "Password changed")


@pytest.mark.parametrize(
    ("name", "heading"),
    [
        ("login", "Log in"),
        ("password_reset", "Reset password"),
        ("password_reset_done", "Check your email"),
        ("password_reset_complete", "Password set"),
    ],
)
def test_anonymous_authentication_pages_are_the_sites(name, heading):
    response = Client().get(reverse(name))
    assert response.status_code == 200
    content = assert_site_page(response, heading)
    assert f'href="{reverse("login")}"' in content and f'href="{reverse("signup")}"' in content


def test_logged_out_page_is_the_sites(member, settings):
    settings.LOGOUT_REDIRECT_URL = None
    response = web_client(member).post(reverse("logout"))
    assert response.status_code == 200
    assert_site_page(response, "Logged out")


def test_the_admins_own_password_change_keeps_the_admins_page(staff):
    response = web_client(staff).get(reverse("admin:password_change"))
    assert response.status_code == 200
    assert "Django administration" in text_of(response)


def test_login_page_links_the_password_reset():
    content = text_of(Client().get(reverse("login")))
    assert f'href="{reverse("password_reset")}"' in content


# --- Password reset by email ----------------------------------------------------------------

NEW_PASSWORD = "a-fresh-secret-after-reset-4"


def reset_link_in(message) -> str:
    match = re.search(r"http://testserver(/accounts/password/reset/\S+/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_password_reset_mails_a_link_that_sets_a_new_password(member):
    client = Client()
    response = client.post(reverse("password_reset"), {"email": member.email.upper()})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [member.email]
    assert message.subject == "Reset your password on the battery data platform"
    link = reset_link_in(message)

    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    assert_site_page(form_page, "Choose a new password")
    assert form_page.context["validlink"]
    set_password_url = form_page.redirect_chain[-1][0]

    done = client.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == 302
    assert done["Location"] == reverse("password_reset_complete")

    fresh = Client()
    login = fresh.post(reverse("login"), {"username": member.username, "password": NEW_PASSWORD})
    assert login.status_code == 302
    assert logged_in_user_id(fresh) == member.pk
    refused = Client().post(reverse("login"), {"username": member.username, "password": PASSWORD})
    assert refused.status_code == 200


def test_a_password_reset_link_works_once(member):
    client = Client()
    client.post(reverse("password_reset"), {"email": member.email})
    link = reset_link_in(mail.outbox[0])
    set_password_url = client.get(link, follow=True).redirect_chain[-1][0]
    client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    again = Client().get(link, follow=True)
    assert again.status_code == 200
    content = assert_site_page(again, "Choose a new password")
    assert not again.context["validlink"]
    assert "This link is not valid" in content
    assert 'name="new_password1"' not in content


def test_password_reset_for_an_unknown_email_sends_nothing_and_answers_the_same(member):
    response = Client().post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


def test_password_reset_sends_nothing_to_an_inactive_account(member):
    User.objects.filter(pk=member.pk).update(is_active=False)
    Client().post(reverse("password_reset"), {"email": member.email})
    assert mail.outbox == []


SETTINGS_EMAIL_PROBE = """
import json
from core import settings as s
print(json.dumps({name: getattr(s, name) for name in (
    "EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS", "DEFAULT_FROM_EMAIL")}))
"""
EMAIL_VARIABLES = (
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "DEFAULT_FROM_EMAIL",
)


def email_settings(**env: str) -> dict:
    """The email settings ``core.settings`` makes of ``env``, in a fresh interpreter."""
    clean = {k: v for k, v in os.environ.items() if k not in EMAIL_VARIABLES}
    clean.pop("DJANGO_SETTINGS_MODULE", None)
    clean["DJANGO_SECRET_KEY"] = "settings-probe-" + "x" * 50
    completed = subprocess.run(
        [sys.executable, "-c", SETTINGS_EMAIL_PROBE],
        env={**clean, **env},
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_mail_goes_to_the_console_without_an_email_host():
    assert email_settings()["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


def test_mail_goes_over_smtp_when_the_environment_names_a_server():
    values = email_settings(
        EMAIL_HOST="smtp.example.org",
        EMAIL_PORT="2525",
        EMAIL_HOST_USER="platform",
        EMAIL_HOST_PASSWORD="secret",
        EMAIL_USE_TLS="0",
        DEFAULT_FROM_EMAIL="Lab <lab@example.org>",
    )
    assert values == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.org",
        "EMAIL_PORT": 2525,
        "EMAIL_HOST_USER": "platform",
        "EMAIL_HOST_PASSWORD": "secret",
        "EMAIL_USE_TLS": False,
        "DEFAULT_FROM_EMAIL": "Lab <lab@example.org>",
    }


# --- Error pages ----------------------------------------------------------------------------


def assert_error_page(response, status: int, title: str) -> str:
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    content = text_of(response)
    assert SITE_HEADING in content and 'class="topbar"' in content
    assert f"Error {status}" in content and f"<h1>{title}</h1>" in content
    return content


def test_404_is_a_site_page_with_the_navigation(member):
    response = web_client(member).get("/no-such-page/")
    content = assert_error_page(response, 404, "Page not found")
    assert "There is no page at /no-such-page/" in content
    assert f'href="{reverse("api_keys")}"' in content  # the signed-in navigation


def test_403_is_a_site_page_with_its_reason(owner, member, organization):
    response = web_client(member).post(
        add_url(organization), {"email": "x@example.com", "role": "member"}
    )
    content = assert_error_page(response, 403, "Not allowed")
    assert "Only owners can manage members." in content


def test_405_is_a_site_page_with_the_allowed_methods(member):
    response = web_client(member).get(reverse("logout"))
    content = assert_error_page(response, 405, "Method not allowed")
    assert response["Allow"] == "OPTIONS, POST"
    assert "does not accept GET requests" in content


def test_405_of_a_function_view_is_a_site_page(owner, organization):
    response = web_client(owner).get(add_url(organization))
    assert_error_page(response, 405, "Method not allowed")
    assert response["Allow"] == "POST"


def test_csrf_failure_is_a_site_page_with_its_reason(member):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": member.username, "password": PASSWORD})
    content = assert_error_page(response, 403, "Form expired or not sent from this site")
    assert "CSRF cookie not set" in content
    assert logged_in_user_id(client) is None


def _boom(request):
    raise RuntimeError("boom")


# A URL configuration with a page that fails, and core's error handlers.
urlpatterns = [path("boom/", _boom), path("api/v2/boom/", _boom), path("", include("core.urls"))]
handler403 = core_urls.handler403
handler404 = core_urls.handler404
handler500 = core_urls.handler500


def test_500_is_a_site_page_with_the_navigation(member, settings):
    settings.ROOT_URLCONF = __name__
    client = web_client(member)
    client.raise_request_exception = False
    content = assert_error_page(client.get("/boom/"), 500, "Server error")
    assert f'href="{reverse("login")}"' in content  # rendered without the request's user
    assert "boom" not in content


def test_errors_under_the_api_prefixes_stay_json(member, settings):
    settings.ROOT_URLCONF = __name__
    client = web_client(member)
    client.raise_request_exception = False
    assert client.get("/api/v2/boom/").json() == {"detail": "Internal server error."}
    assert client.get("/api/v2/no-such-thing/").json() == {"detail": "Not found."}


# --- Navigation: the apps contribute their links --------------------------------------------

BASE_TEMPLATE = Path(__file__).resolve().parents[2] / "core" / "templates" / "core" / "base.html"


def test_the_base_template_names_no_app():
    source = BASE_TEMPLATE.read_text()
    for app in settings.PLATFORM_APPS:
        assert app not in source.lower()


def test_batterydb_contributes_its_eis_tests_link_for_signed_in_users(member):
    link = f'<a href="{reverse("batterydb-pages:eis-test-list")}">EIS tests</a>'
    assert link in web_client(member).get(reverse("profile")).content.decode()
    assert link not in Client().get(reverse("login")).content.decode()


def test_an_app_adds_a_link_by_declaring_it_on_its_app_config(member, monkeypatch):
    config = apps.get_app_config("dmlf")
    monkeypatch.setattr(
        config,
        "nav_links",
        [("Samples", "organizations"), ("Not mounted", "dmlf:no-such-page")],
        raising=False,
    )
    content = web_client(member).get(reverse("profile")).content.decode()
    assert f'<a href="{reverse("organizations")}">Samples</a>' in content
    assert "Not mounted" not in content
    # In the order of INSTALLED_APPS: BatteryDB's link before DMLF's.
    assert content.index(">EIS tests<") < content.index(">Samples<")


# --- Content-Security-Policy ----------------------------------------------------------------


def csp_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


STRICT = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def assert_no_inline_script_or_style(content: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", content)
    assert not re.search(r"\son[a-z]+\s*=", content)  # event handler attributes
    assert "javascript:" not in content
    assert "<style" not in content and " style=" not in content


@pytest.mark.parametrize(
    "name", ["login", "signup", "profile", "api_keys", "organizations", "password_change"]
)
def test_site_pages_carry_the_strict_policy_and_need_no_more(owner, organization, name):
    client = web_client(owner) if name not in ("login", "signup") else Client()
    response = client.get(reverse(name))
    assert response.status_code == 200
    policy = csp_of(response)
    assert {name: policy.get(name) for name in STRICT} == STRICT
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert_no_inline_script_or_style(response.content.decode())


def test_error_pages_carry_the_strict_policy(member):
    response = web_client(member).get("/no-such-page/")
    assert csp_of(response)["script-src"] == ["'self'"]
    assert_no_inline_script_or_style(response.content.decode())


def test_swagger_ui_has_no_inline_script_and_only_data_images_more(member):
    client = web_client(member)
    response = client.get(reverse("swagger-ui"))
    assert response.status_code == 200
    policy = csp_of(response)
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    content = response.content.decode()
    assert_no_inline_script_or_style(content)
    script_url = re.search(r'<script src="([^"]*\?script=[^"]*)"', content).group(1)

    script = client.get(html.unescape(script_url))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()
    assert reverse("schema") in script.content.decode()


def test_redoc_has_no_inline_script_nor_third_party_resources(member):
    client = web_client(member)
    response = client.get(reverse("redoc"))
    assert response.status_code == 200
    policy = csp_of(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["worker-src"] == ["blob:"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]  # styled-components
    content = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", content)
    assert "googleapis" not in content and "https://" not in content
    assert f'<script src="{reverse("redoc-bundle")}"></script>' in content
    assert f'spec-url="{reverse("schema")}"' in content


def test_the_redoc_bundle_is_served_without_the_third_party_logo():
    client = Client()
    plain = client.get(reverse("redoc-bundle"))
    assert plain.status_code == 200
    assert plain["Content-Type"].startswith("text/javascript")
    body = plain.content
    assert b"Redoc" in body and len(body) > 500_000
    assert b"cdn.redoc.ly" not in body

    compressed = client.get(reverse("redoc-bundle"), HTTP_ACCEPT_ENCODING="gzip, br")
    assert compressed["Content-Encoding"] == "gzip"
    assert gzip.decompress(compressed.content) == body
    assert "Accept-Encoding" in compressed["Vary"]

    unchanged = client.get(reverse("redoc-bundle"), HTTP_IF_NONE_MATCH=plain["ETag"])
    assert unchanged.status_code == 304


def test_the_browsable_api_may_use_inline_styles_but_no_inline_script(member, organization):
    client = web_client(member)
    page = client.get(reverse("organization-list"), HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    policy = csp_of(page)
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["script-src"] == ["'self'"]

    as_json = client.get(reverse("organization-list"), HTTP_ACCEPT="application/json")
    assert csp_of(as_json)["style-src"] == ["'self'"]


def test_the_admin_carries_the_strict_policy(staff):
    response = web_client(staff).get(reverse("admin:index"))
    assert response.status_code == 200
    assert {name: csp_of(response).get(name) for name in STRICT} == STRICT
