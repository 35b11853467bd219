"""The account web pages: sign up, log in and out, password, profile, API keys, organizations."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core import services
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


def test_new_api_key_is_shown_once_with_a_curl_command(member):
    client = web_client(member)
    response = create_key(client)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = response.context["key"]
    prefix, _, secret = key.partition(".")
    content = text_of(response)
    assert key in content
    assert (
        f"curl --header 'Authorization: User {key}' http://testserver/api/v2/organizations/"
        in content
    )

    # Only the hash is stored, and the key is nowhere in the session.
    stored = UserAPIKey.objects.get(user=member)
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


def test_new_api_key_with_a_future_expiry(member):
    expiry = timezone.now().date() + dt.timedelta(days=30)
    response = create_key(web_client(member), expiry_date=expiry.isoformat())
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


def test_revoke_is_a_post(member):
    api_key, _ = services.api_key_create(user=member, name="laptop")
    url = reverse("api_key_revoke", kwargs={"prefix": api_key.prefix})
    assert web_client(member).get(url).status_code == 405
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
