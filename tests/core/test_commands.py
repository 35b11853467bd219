"""Management commands: createapikey, setupdemo, broadcast."""

import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from core.models import User, UserAPIKey

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def authenticates(key: str) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"User {key}")
    return client.get("/api/v2/users/me/").status_code == 200


@pytest.mark.parametrize("login", ["username", "email"])
def test_createapikey_prints_a_working_key_once(member, login):
    key = run(
        "createapikey",
        getattr(member, login).upper() if login == "email" else member.username,
        "--name",
        "device 7",
        "--expires",
        "2999-12-31",
    )
    assert authenticates(key)
    api_key = UserAPIKey.objects.get(user=member)
    assert api_key.name == "device 7"
    assert api_key.expiry_date.year == 2999
    assert key.partition(".")[2] not in api_key.hashed_key


@pytest.mark.parametrize(
    "args",
    [
        ["nobody", "--name", "x"],
        ["{user}", "--name", ""],
        ["{user}", "--name", "x" * 51],
        ["{user}", "--name", "x", "--expires", "tomorrow"],
        ["{user}", "--name", "x", "--expires", "2000-01-01"],
    ],
)
def test_createapikey_refuses_bad_arguments(member, args):
    args = [a.replace("{user}", member.username) for a in args]
    with pytest.raises(CommandError):
        run("createapikey", *args)
    assert not UserAPIKey.objects.exists()


def test_setupdemo_creates_data_once_and_rotates_credentials():
    first = run("setupdemo")
    second = run("setupdemo")
    user = User.objects.get(username="demo")
    assert user.organizations.count() == 1
    keys = [
        line.split(": ", 1)[1]
        for out in (first, second)
        for line in out.splitlines()
        if "Demo API key" in line
    ]
    assert len(keys) == 2 and keys[0] != keys[1]
    assert not authenticates(keys[0])
    assert authenticates(keys[1])
    password = next(line for line in second.splitlines() if "password:" in line).split()[-1]
    assert user.__class__.objects.get(pk=user.pk).check_password(password)
