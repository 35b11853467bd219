#!/bin/sh
# Entry point of the platform image. The WSGI service (command "gunicorn ...") applies the
# database migrations before it serves; other commands (the ASGI service, one-off
# manage.py runs) do not. DJANGO_MIGRATE_ON_START=1 or 0 forces either way.
set -eu

migrate="${DJANGO_MIGRATE_ON_START:-}"
if [ -z "$migrate" ]; then
    case "${1:-}" in
        gunicorn) migrate=1 ;;
        *) migrate=0 ;;
    esac
fi

if [ "$migrate" = "1" ]; then
    echo "entrypoint: applying database migrations" >&2
    python manage.py migrate --noinput
fi

exec "$@"
