# The vcdb-stream image for docker-compose.yml (production). Dependencies pinned by constraints.txt.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml constraints.txt README.md alembic.ini ./
COPY schemas ./schemas
COPY streams ./streams
COPY ledger ./ledger
COPY producers ./producers
COPY ledger ./ledger
COPY consumers ./consumers
COPY simulator ./simulator
COPY vcdb ./vcdb
COPY web ./web
COPY bench ./bench
COPY alembic ./alembic
RUN pip install --no-cache-dir -c constraints.txt -e .  # editable: migrations run from /app/alembic
USER nobody
ENTRYPOINT []
