# syntax=docker/dockerfile:1
# Three stages: `build` installs the Python packages (CPU-only torch) into a virtualenv; `app` is the image
# that web, worker and beat run; `proxy` is Caddy with the collected static files baked in.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG CADDY_IMAGE=caddy:2.10-alpine

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /venv
ENV PATH=/venv/bin:$PATH
COPY requirements.txt requirements-nodeps.txt /tmp/
# torch first, from the CPU wheel index: the default wheel pulls gigabytes of CUDA libraries that the
# app never uses (generation runs on the TGI GPU server). requirements.txt then finds torch satisfied.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
 && pip install -r /tmp/requirements.txt \
 && pip install --no-deps -r /tmp/requirements-nodeps.txt

FROM ${PYTHON_IMAGE} AS app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/venv/bin:$PATH \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 DJANGO_SETTINGS_MODULE=config.settings
RUN groupadd --gid 1000 faro && useradd --uid 1000 --gid faro --home-dir /app --shell /usr/sbin/nologin faro \
 && mkdir -p /data /adapters && chown faro:faro /data /adapters
COPY --from=build /venv /venv
WORKDIR /app
COPY --chown=faro:faro . .
# Static files are collected here and served by the proxy stage; DEBUG=true only so that settings load
# without production secrets at build time.
RUN DEBUG=true DATA_DIR=/tmp/build-data python manage.py collectstatic --noinput && rm -rf /tmp/build-data
USER faro
VOLUME ["/data"]
EXPOSE 8000
CMD ["daphne", "--bind", "0.0.0.0", "--port", "8000", "--proxy-headers", "config.asgi:application"]

FROM ${CADDY_IMAGE} AS proxy
COPY deploy/Caddyfile /etc/caddy/Caddyfile
COPY --from=app /app/staticfiles /srv/static
