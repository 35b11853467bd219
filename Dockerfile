# The platform image: one image for the WSGI service (gunicorn, the default command) and the
# ASGI service (uvicorn, for WebSockets). See docker-compose.yml for the production shape.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=core.settings \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    DJANGO_MEDIA_ROOT=/app/media

WORKDIR /app

# The dependencies first, read from pyproject.toml alone, so that a code change reuses this
# layer. Every dependency ships wheels for linux (psycopg[binary], orjson, uvloop...), so the
# slim image needs no compiler.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself; static files are collected at build time (WhiteNoise serves them with
# hashed names). The secret here only lets settings import; it is not in the final environment.
COPY . .
RUN pip install . \
    && rm -rf build ./*.egg-info \
    && DJANGO_SECRET_KEY=collectstatic-at-build-time-only python manage.py collectstatic --noinput \
    && chmod 0755 deploy/entrypoint.sh \
    && useradd --system --uid 10001 --user-group --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app \
    && mkdir -p /app/media \
    && chown app:app /app/media

# Uploaded files: a volume in production (its content and owner come from this directory).
VOLUME ["/app/media"]

USER app
EXPOSE 8000 8001

ENTRYPOINT ["/app/deploy/entrypoint.sh"]
CMD ["gunicorn", "core.wsgi:application", "--config", "deploy/gunicorn.conf.py"]

HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "deploy/healthcheck.py", "8000"]
