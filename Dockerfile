# The portal's image, used by docker-compose.yml for the web process, the worker and beat.
# Bookworm pinned: the Debian package names below are those of that release.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# libmagic tells evidence files' types from their bytes. WeasyPrint lays out the approval PDF
# and the dossier with Pango (HarfBuzz's subsetter embeds only the glyphs used), and the slim
# image has no font at all: DejaVu is the one the PDFs are drawn in. openssl checks the RFC 3161
# time-stamp tokens of the audit chain's checkpoints (integrity_verify, `openssl ts -verify`).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libmagic1 libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core openssl \
    && rm -rf /var/lib/apt/lists/*
# Dependencies before the code, so a code change reuses this layer: the project installs no
# package of its own ([tool.setuptools] packages = []), the code runs from /app.
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir . && useradd --create-home portal
COPY . .
# The translations (suppliers' languages), compiled from locale/*/LC_MESSAGES/django.po.
RUN python scripts/compile_messages.py
# The media, integrity and static volumes take their owner from these directories when first mounted.
RUN mkdir -p /data/media /data/integrity /app/staticfiles \
    && chown portal /data/media /data/integrity /app/staticfiles
USER portal
# Fail the build, not the first approval PDF: native libraries load and a page renders.
RUN python scripts/image_check.py
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]
