"""System checks of the platform.

``manage.py check --deploy`` refuses a secret key that is not a secret: a published placeholder
(``.env.example``'s, which a test keeps listed here), one with a placeholder's wording, Django's
``django-insecure-`` development keys, and keys too short or too uniform to resist guessing.
Django itself only warns about the last two (``security.W009``); here they are errors, so a
deployment pipeline that runs ``check --deploy`` stops. Registered in ``CoreConfig.ready()``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register

#: Secret keys published as examples.
PLACEHOLDER_SECRET_KEYS = frozenset(
    {"change-me-to-50-or-more-random-characters-from-a-secret-generator"}
)
#: Words of placeholders, compared ignoring case.
PLACEHOLDER_WORDS = ("change-me", "changeme", "change_me", "replace-me", "your-secret")
INSECURE_PREFIX = "django-insecure"
MIN_LENGTH = 50
MIN_UNIQUE_CHARACTERS = 5
HINT = (
    "Set DJANGO_SECRET_KEY to 50 or more random characters, e.g. from "
    'python -c "import secrets; print(secrets.token_urlsafe(50))".'
)


def secret_key_problem(key: str | bytes) -> str | None:
    """Why ``key`` is no secret, or None when it may be one."""
    if isinstance(key, bytes):
        key = key.decode("utf-8", errors="replace")
    lowered = key.lower()
    if key in PLACEHOLDER_SECRET_KEYS or any(word in lowered for word in PLACEHOLDER_WORDS):
        return "is a published placeholder"
    if lowered.startswith(INSECURE_PREFIX):
        return f"is a development key (it starts with {INSECURE_PREFIX!r})"
    if len(key) < MIN_LENGTH or len(set(key)) < MIN_UNIQUE_CHARACTERS:
        return (
            f"is too weak: fewer than {MIN_LENGTH} characters or fewer than "
            f"{MIN_UNIQUE_CHARACTERS} different ones"
        )
    return None


@register(Tags.security, deploy=True)
def check_secret_key(app_configs=None, **kwargs) -> list[Error]:
    """``core.E001``: the secret key, ``core.E002``: a fallback key, is no secret."""
    errors = []
    problem = secret_key_problem(settings.SECRET_KEY)
    if problem:
        errors.append(Error(f"SECRET_KEY {problem}.", hint=HINT, id="core.E001"))
    for index, fallback in enumerate(getattr(settings, "SECRET_KEY_FALLBACKS", []) or []):
        problem = secret_key_problem(fallback)
        if problem:
            errors.append(
                Error(f"SECRET_KEY_FALLBACKS[{index}] {problem}.", hint=HINT, id="core.E002")
            )
    return errors
