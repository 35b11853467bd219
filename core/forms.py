"""Forms of the web pages: sign up, log in, profile, API keys, organizations and members."""

from __future__ import annotations

import datetime as dt
import functools

from django import forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.utils import timezone

from core.models import Membership, Organization, User

EMAIL_TAKEN = "A user with this email already exists."


def _check_email_free(email: str, *, exclude: User | None = None) -> str:
    """The email, stripped, unless another user has it in any case."""
    email = (email or "").strip()
    clash = User.objects.filter(email__iexact=email)
    if exclude is not None and exclude.pk is not None:
        clash = clash.exclude(pk=exclude.pk)
    if clash.exists():
        raise forms.ValidationError(EMAIL_TAKEN, code="email_taken")
    return email


class SignUpForm(UserCreationForm):
    """A new account: username, email (unique ignoring case) and the password twice."""

    email = forms.EmailField(label="Email", help_text="Must not belong to another account.")

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def clean_email(self) -> str:
        return _check_email_free(self.cleaned_data["email"])


class LoginForm(AuthenticationForm):
    """Django's login form, with the username field also accepting an email address."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Please enter a correct username or email and password. "
        "The password is case-sensitive.",
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        field = self.fields["username"]
        field.label = "Username or email"
        # Room for an email address, which can be longer than a username.
        field.max_length = 254
        field.widget.attrs["maxlength"] = "254"
        field.widget.attrs["autocomplete"] = "username"


class ProfileForm(forms.ModelForm):
    """Your own names and email; the username is fixed, as in the API."""

    class Meta:
        model = User
        fields = ("email", "first_name", "last_name")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.fields["email"].help_text = "Must not belong to another account."

    def clean_email(self) -> str:
        return _check_email_free(self.cleaned_data["email"], exclude=self.instance)


class APIKeyCreateForm(forms.Form):
    """A name for a new personal API key and an optional last day of validity."""

    name = forms.CharField(
        max_length=50, help_text="Where the key is used, e.g. “laptop” (50 characters max)."
    )
    expiry_date = forms.DateField(
        label="Expires after",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional. The key stays valid through the end of this day (UTC).",
    )

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean_expiry_date(self) -> dt.date | None:
        value = self.cleaned_data.get("expiry_date")
        if value is not None and value < timezone.now().astimezone(dt.UTC).date():
            raise forms.ValidationError("The expiry must be in the future.", code="past")
        return value


class OrganizationForm(forms.ModelForm):
    """A new organization; you become its owner."""

    class Meta:
        model = Organization
        fields = ("name",)


class OrganizationProfileForm(forms.ModelForm):
    """An organization's address and contact (owners): the manufacturer information of its
    battery passports."""

    class Meta:
        model = Organization
        fields = Organization.PROFILE_FIELDS
        # A text box styled like the others; the URL field still checks the value.
        widgets = {"website": forms.TextInput(attrs={"inputmode": "url"})}
        field_classes = {"website": functools.partial(forms.URLField, assume_scheme="https")}


class MemberAddForm(forms.Form):
    """Add an existing user to an organization by email."""

    email = forms.EmailField(help_text="The email of an existing account.")
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)

    user: User | None = None

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        self.user = User.objects.filter(email__iexact=email, is_active=True).first()
        if self.user is None:
            raise forms.ValidationError("No active user has this email.", code="unknown")
        return email


class MemberRoleForm(forms.Form):
    """A member's new role."""

    role = forms.ChoiceField(choices=Membership.Role.choices)
