# One image for every revotp process; the command picks the process (ingest, matcher, notifier).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    REVOTP_HOST=0.0.0.0 REVOTP_LOG_JSON=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY common ./common
COPY ingest ./ingest
COPY matcher ./matcher
COPY notifier ./notifier
COPY revotp ./revotp
RUN pip install . && useradd --system --uid 10001 revotp

USER revotp
EXPOSE 8080 8090 8095
# /readyz answers 200 only when the process reaches RabbitMQ and Redis.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import os,urllib.request as u; u.urlopen('http://127.0.0.1:%s/readyz' % os.environ['REVOTP_HEALTH_PORT'], timeout=2)"
ENTRYPOINT ["revotp"]
CMD ["all"]
