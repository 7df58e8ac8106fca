# Multi-stage: build a wheel with the toolchain, run it from a slim image as a non-root
# user. Production needs DATABASE_URL and VCM_KEYRING (mounted read-only, mode 0600/0400).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN pip install --no-cache-dir --upgrade pip build \
    && python -m build --wheel --outdir /wheels \
    && pip wheel --no-cache-dir --wheel-dir /wheels /wheels/*.whl

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VCM_ENV=production \
    VCM_HOST=0.0.0.0 \
    VCM_DATA_DIR=/var/lib/vcm
RUN groupadd --system vcm && useradd --system --gid vcm --home-dir /app --shell /usr/sbin/nologin vcm \
    && mkdir -p /var/lib/vcm && chown vcm:vcm /var/lib/vcm
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
WORKDIR /app
# Alembic's script directory is read from the source tree layout next to the package.
COPY --chown=vcm:vcm alembic.ini ./
COPY --chown=vcm:vcm migrations ./migrations
USER vcm
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health').status == 200 else 1)"
ENTRYPOINT ["vcm"]
CMD ["serve"]
