"""Authentication backend: log in with a username or an email address."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class UsernameOrEmailBackend(ModelBackend):
    """Accepts the username or the email (any case) in the ``username`` credential."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user_model = get_user_model()
        login = username if username is not None else kwargs.get(user_model.USERNAME_FIELD)
        if kwargs.get("email") and not login:
            login = kwargs["email"]
        if not login or password is None:
            return None
        try:
            user = user_model.objects.get_by_login(login)
        except user_model.DoesNotExist:
            # Run the hasher once anyway, so timing does not tell whether the user exists.
            user_model().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
