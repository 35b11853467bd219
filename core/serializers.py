"""Serializers of the platform's own endpoints: users, organizations, members."""

from __future__ import annotations

from rest_framework import serializers

from core.models import Membership, Organization, User


class UserSerializer(serializers.ModelSerializer):
    """A user as other members of their organizations see them."""

    organizations = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "organizations"]
        read_only_fields = ["id", "username", "email", "organizations"]

    def get_organizations(self, user) -> list[int]:
        return [m.organization_id for m in user.memberships.all()]


class CurrentUserSerializer(UserSerializer):
    """The requesting user, who may change names and email."""

    class Meta(UserSerializer.Meta):
        read_only_fields = ["id", "username", "organizations"]

    def validate_email(self, value: str) -> str:
        clash = User.objects.filter(email__iexact=value).exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError("A user with this email already exists.")
        return value


class OrganizationSerializer(serializers.ModelSerializer):
    """An organization with the requesting user's role in it."""

    role = serializers.SerializerMethodField()

    class Meta:
        model = Organization
        fields = ["id", "name", "role", "created_at", "updated_at"]
        read_only_fields = ["id", "role", "created_at", "updated_at"]

    def get_role(self, organization) -> str | None:
        roles = self.context.get("roles", {})
        return roles.get(organization.pk)


class MembershipSerializer(serializers.ModelSerializer):
    """A member of an organization; create by ``email`` with a ``role``."""

    user_id = serializers.IntegerField(source="user.id", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.EmailField(source="user.email")

    class Meta:
        model = Membership
        fields = ["user_id", "username", "email", "role", "created_at"]
        read_only_fields = ["user_id", "username", "created_at"]

    def validate_email(self, value: str) -> str:
        if self.instance is not None:
            raise serializers.ValidationError("The member's email cannot be changed here.")
        if not User.objects.filter(email__iexact=value, is_active=True).exists():
            raise serializers.ValidationError("No active user has this email.")
        return value


class MembershipUpdateSerializer(serializers.ModelSerializer):
    """Change a member's role."""

    class Meta:
        model = Membership
        fields = ["role"]
