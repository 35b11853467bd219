"""Authentication backend: log in with a username or an email address, with lockouts.

Every password check of the platform (``/api/token/``, the site's and the admin's login
forms, and any later login endpoint that calls ``django.contrib.auth.authenticate()``) goes
through this backend, so every one of them is protected by ``core.throttling.LoginGuard``.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from core.throttling import LoginGuard


class UsernameOrEmailBackend(ModelBackend):
    """Accepts the username or the email (any case) in the ``username`` credential.

    Before the password is checked, a locked account, address or pair of both raises
    ``core.throttling.CredentialLockout`` (429); each wrong password is counted, and a right
    one resets the count of its account and address.
    """

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
            user = None
        account = f"user:{user.pk}" if user is not None else f"login:{login.strip().lower()}"
        guard = LoginGuard(request, account)
        guard.check()
        if user is None:
            # Run the hasher once anyway, so timing does not tell whether the user exists.
            user_model().set_password(password)
        elif user.check_password(password) and self.user_can_authenticate(user):
            guard.succeeded()
            return user
        guard.failed()
        return None
