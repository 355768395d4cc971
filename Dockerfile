# Production image: gunicorn web, Celery worker and beat share it (see docker-compose.yml).
# Two stages: the builder resolves requirements/runtime.txt (pinned, hash-checked) into a virtualenv,
# with a compiler at hand for any package without a wheel; the final image copies only that virtualenv
# and the application. No compiler, no pip cache, no test tools (tests/platform/test_requirements.py).

FROM python:3.11-slim-bookworm AS builder
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
COPY requirements/runtime.txt /tmp/runtime.txt
RUN /opt/venv/bin/pip install --no-cache-dir --require-hashes --no-deps -r /tmp/runtime.txt \
    && /opt/venv/bin/pip uninstall -y pip


FROM python:3.11-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=config.production VAR_DIR=/var/lib/jiupian STATIC_ROOT=/app/staticfiles
WORKDIR /app
RUN useradd --system --uid 10001 --home /app jiupian
COPY --from=builder /opt/venv /opt/venv
COPY . .
# Static files are collected at build time into /app/staticfiles, outside the data volume (VAR_DIR).
# The application is byte-compiled at build time too: with PYTHONDONTWRITEBYTECODE (and /app not writable
# by the app user) every manage.py command would otherwise compile the modules it imports on each start.
RUN DJANGO_SECRET_KEY=build-only DJANGO_ALLOWED_HOSTS=localhost VAR_DIR=/tmp/build-var \
       python manage.py collectstatic --noinput -v 0 \
    && rm -rf /tmp/build-var \
    && python -m compileall -q -x '/(tests|bench)/' /app \
    && mkdir -p /var/lib/jiupian && chown -R jiupian /var/lib/jiupian
USER jiupian
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]
