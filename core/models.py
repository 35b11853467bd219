"""Identity and tenancy shared by every API: users, organizations, memberships, API keys."""

from __future__ import annotations

import functools

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import connections, models
from django.db.models.functions import Lower
from django.utils.crypto import salted_hmac
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager


class PlatformUserManager(UserManager):
    """Looks users up by username or by email, case-insensitively for the email."""

    def get_by_login(self, login: str) -> User:
        login = (login or "").strip()
        if "@" in login:
            return self.get(email__iexact=login)
        return self.get(username=login)


class User(AbstractUser):
    """A person with one login for all four APIs. Email is unique, ignoring case."""

    email = models.EmailField("email address", help_text="Unique, compared ignoring case.")
    token_generation = models.PositiveIntegerField(
        default=0,
        help_text=(
            "Carried in every JWT issued to the user; raising it (log out everywhere) "
            "ends every token issued before. API keys are not affected."
        ),
    )

    objects = PlatformUserManager()

    REQUIRED_FIELDS = ["email"]

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="core_user_email_ci_unique"),
        ]

    def get_session_auth_hash(self) -> str:
        """Django's session hash, bound to ``token_generation`` as well as to the password:
        logging out everywhere also ends the user's other browser sessions."""
        return self._session_auth_hash(settings.SECRET_KEY)

    def get_session_auth_fallback_hash(self):
        for fallback_secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_auth_hash(fallback_secret)

    def _session_auth_hash(self, secret: str) -> str:
        return salted_hmac(
            "core.User.session_auth_hash",
            f"{self.password}\x00{self.token_generation}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip()
        super().save(*args, **kwargs)


#: The organization's profile: who it is as a manufacturer (a battery passport's manufacturer
#: information, its Catena-X export). Each value is as the Catena-X models accept it.
POSTAL_CODE = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9\- ]{0,10}$",
    "1 to 11 letters, digits, hyphens and spaces, starting with a letter or digit.",
)
COUNTRY_CODE = RegexValidator(
    r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$",
    "An ISO 3166 code in capitals: a country (DE) or a subdivision (DE-BW).",
)
PHONE_NUMBER = RegexValidator(
    r"^\+?[0-9 ]+$", "Digits and spaces, with an optional leading + (+49 30 1234567)."
)


class Organization(models.Model):
    """A group of users that owns data. Every BatteryDB object belongs to one. Its profile
    (address and contact, all optional) is the manufacturer information of its battery
    passports."""

    name = models.CharField(max_length=200, help_text="Display name of the organization.")
    street = models.CharField(
        max_length=200, blank=True, default="", help_text="Street of the postal address."
    )
    house_number = models.CharField(
        max_length=20, blank=True, default="", help_text="House number in the street."
    )
    postal_code = models.CharField(
        max_length=11, blank=True, default="", validators=[POSTAL_CODE], help_text="Postcode."
    )
    city = models.CharField(max_length=100, blank=True, default="", help_text="City.")
    country = models.CharField(
        max_length=6,
        blank=True,
        default="",
        validators=[COUNTRY_CODE],
        help_text="ISO 3166 code: a country (DE) or a subdivision (DE-BW).",
    )
    contact_email = models.EmailField(blank=True, default="", help_text="Contact email address.")
    contact_phone = models.CharField(
        max_length=30,
        blank=True,
        default="",
        validators=[PHONE_NUMBER],
        help_text="Contact phone number with country code (+49 30 1234567).",
    )
    website = models.URLField(blank=True, default="", help_text="Website (https://...).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    members = models.ManyToManyField(
        User, through="Membership", related_name="organizations", blank=True
    )

    #: The profile's fields, in the order forms show them.
    PROFILE_FIELDS = (
        "street",
        "house_number",
        "postal_code",
        "city",
        "country",
        "contact_email",
        "contact_phone",
        "website",
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in an organization: owner > member > viewer."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Member"
        VIEWER = "viewer", "Viewer"

    RANK = {Role.VIEWER: 1, Role.MEMBER: 2, Role.OWNER: 3}

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(
        max_length=10,
        choices=Role.choices,
        default=Role.MEMBER,
        help_text="owner: everything; member: create and update; viewer: read only.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization_id", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="core_membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"

    @classmethod
    def rank(cls, role: str | None) -> int:
        return cls.RANK.get(role, 0)


class OrganizationChangeError(ValueError):
    """An object's organization was changed after create; it never moves."""


class OrganizationOwnedModel(models.Model):
    """Base of every object that belongs to an organization.

    ``organization_field`` is the lookup path to the organization; ``core.tenancy`` uses it
    to scope querysets and to check that foreign keys stay inside one organization.

    The organization is fixed after create, everywhere (the API refuses a change, the admin
    shows it read-only, and ``save()`` refuses one): rows elsewhere copy it (the measurement
    rows of a test carry their test's organization), and a copy must never go stale.
    """

    organization_field = "organization"

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="%(app_label)s_%(class)s_set",
        help_text="The organization this object belongs to; fixed after create.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["id"]

    def save(self, *args, **kwargs):
        loaded = getattr(self, "_loaded_organization_id", None)
        if loaded is not None and self.organization_id != loaded:
            raise OrganizationChangeError(
                f"{self._meta.verbose_name} {self.pk}: the organization cannot change after "
                f"create ({loaded} -> {self.organization_id})."
            )
        super().save(*args, **kwargs)
        self._loaded_organization_id = self.organization_id

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_organization_id = instance.__dict__.get("organization_id")
        return instance


class UserAPIKeyManager(BaseAPIKeyManager):
    def get_with_user(self, prefix: str) -> UserAPIKey | None:
        """The key with ``prefix`` and its user, in one statement compiled once per process.

        Authentication runs on every request, and building the ORM query costs about twice
        what running it does; Django's own converters still apply to every column.
        """
        connection = connections[self.db]
        sql, columns = _api_key_lookup(self.db)
        with connection.cursor() as cursor:
            cursor.execute(sql, [prefix])
            row = cursor.fetchone()
        if row is None:
            return None
        values = [
            _convert(value, converters, expression, connection)
            for value, (converters, expression) in zip(row, columns, strict=True)
        ]
        key_fields = [f.attname for f in self.model._meta.concrete_fields]
        user_fields = [f.attname for f in User._meta.concrete_fields]
        api_key = self.model.from_db(self.db, key_fields, values[: len(key_fields)])
        api_key.user = User.from_db(self.db, user_fields, values[len(key_fields) :])
        return api_key


@functools.cache
def _api_key_lookup(alias: str) -> tuple[str, list]:
    connection = connections[alias]
    quote = connection.ops.quote_name
    key_meta, user_meta = UserAPIKey._meta, User._meta
    columns, selected = [], []
    for alias, meta in (("k", key_meta), ("u", user_meta)):
        for field in meta.concrete_fields:
            expression = field.get_col(alias)
            converters = connection.ops.get_db_converters(expression)
            converters += expression.get_db_converters(connection)
            columns.append((converters, expression))
            selected.append(f"{alias}.{quote(field.column)}")
    sql = (
        f"SELECT {', '.join(selected)} FROM {quote(key_meta.db_table)} k "
        f"JOIN {quote(user_meta.db_table)} u ON u.{quote('id')} = k.{quote('user_id')} "
        f"WHERE k.{quote('prefix')} = %s"
    )
    return sql, columns


def _convert(value, converters, expression, connection):
    for converter in converters:
        value = converter(value, expression, connection)
    return value


class UserAPIKey(AbstractAPIKey):
    """A personal API key (``Authorization: User <prefix>.<secret>``); only its hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")

    objects = UserAPIKeyManager()

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "user API key"
        verbose_name_plural = "user API keys"
        indexes = [models.Index(fields=["user", "-created"], name="core_apikey_user_created")]


# Background jobs (core.jobs): their models live beside their code.
from core.jobs.models import Job, JobLease  # noqa: E402, F401
