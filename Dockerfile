# The project's image: Airflow 3, dbt, GX and the zhaoshang package, installed from requirements.lock
# (exact versions, hashes checked). Every Airflow service in docker-compose.yml runs it.
FROM python:3.11-slim-bookworm

# Bytecode is compiled once at build (below), never written at run time by several processes.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    TZ=UTC \
    AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/zhaoshang/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    GX_ANALYTICS_ENABLED=false \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false \
    ZHAOSHANG_RAW_DIR=/data/raw \
    ZHAOSHANG_STATE_DIR=/data/state \
    ZHAOSHANG_WAREHOUSE=/data/warehouse/zhaoshang.duckdb \
    ZHAOSHANG_OUTPUT_DIR=/data/output

# tini forwards signals so a stopping Celery worker finishes (warm shutdown) instead of dying;
# the report's charts refuse to draw Chinese labels without a CJK font (zhaoshang.report.charts).
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --uid 50000 --gid 0 --home-dir /opt/airflow --create-home zhaoshang

WORKDIR /opt/zhaoshang
COPY requirements.lock ./
RUN pip install --no-deps --require-hashes -r requirements.lock

COPY pyproject.toml README.md ./
COPY src ./src
COPY dags ./dags
COPY dbt_project ./dbt_project
COPY expectations ./expectations
COPY deploy ./deploy
# Editable, as `make install` does: the package finds dbt_project/ and expectations/ beside src/.
RUN pip install --no-deps --no-build-isolation -e . \
    && python -m compileall -q -j 0 /usr/local/lib/python3.11 /opt/zhaoshang/src /opt/zhaoshang/dags \
    && pip check

# Named volumes start with the ownership of these folders, so the services can write them.
RUN mkdir -p /data/raw /data/state /data/warehouse /data/output /opt/airflow/logs \
    && chown -R 50000:0 /data /opt/airflow /opt/zhaoshang/dbt_project /opt/zhaoshang/expectations

USER 50000
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["airflow", "version"]
