# One image for every revotp process; the command picks the process (ingest, matcher, notifier,
# callbacks, or all of them).
FROM python:3.11.7-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    REVOTP_HOST=0.0.0.0 REVOTP_LOG_JSON=1

WORKDIR /app
# Dependencies first, pinned and hash-checked, in a layer of their own: a code change reuses it.
COPY requirements/runtime.txt requirements/runtime.txt
RUN pip install --require-hashes --no-deps -r requirements/runtime.txt
COPY pyproject.toml README.md ./
COPY common ./common
COPY ingest ./ingest
COPY matcher ./matcher
COPY notifier ./notifier
COPY callbacks ./callbacks
COPY revotp ./revotp
RUN pip install --no-deps . && useradd --system --uid 10001 revotp

USER 10001
EXPOSE 8080 8090 8095 8096
# Whichever service runs: each one listening here must answer /readyz with 200 (revotp/healthcheck.py).
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD ["revotp", "healthcheck"]
ENTRYPOINT ["revotp"]
CMD ["all"]
