"""docker-compose.yml and the Dockerfile describe the deployment the issue asks for. No Docker
engine here: the file is read as Compose reads it; tests/distributed/test_celery_night.py runs
its commands for real."""

from __future__ import annotations

import re

import pytest

from tests.distributed import compose
from tests.distributed.compose import ROOT, MissingVariable

SECRETS = {
    "AIRFLOW_FERNET_KEY": "fernet",
    "AIRFLOW_JWT_SECRET": "jwt",
    "AIRFLOW_API_SECRET_KEY": "api",
}
AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker-1",
    "airflow-worker-2",
}
DATA_MOUNTS = {"/data/raw", "/data/state", "/data/warehouse", "/data/output"}


@pytest.fixture(scope="module")
def services() -> dict:
    return compose.load(SECRETS)["services"]


def test_every_component_of_a_celery_deployment_is_a_service(services):
    assert set(services) == AIRFLOW_SERVICES | {"postgres", "redis", "web"}
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    commands = {name: services[name]["command"] for name in AIRFLOW_SERVICES}
    assert commands["airflow-apiserver"][:2] == ["airflow", "api-server"]
    assert commands["airflow-scheduler"] == ["airflow", "scheduler"]
    assert commands["airflow-dag-processor"] == ["airflow", "dag-processor"]
    assert commands["airflow-triggerer"] == ["airflow", "triggerer"]
    names = set()
    for worker in ("airflow-worker-1", "airflow-worker-2"):
        command = commands[worker]
        assert command[:3] == ["airflow", "celery", "worker"]
        names.add(command[command.index("--celery-hostname") + 1])
    assert len(names) == 2  # two distinct Celery nodes
    assert services["web"]["command"] == [
        "python",
        "-m",
        "zhaoshang",
        "web",
        "--host",
        "0.0.0.0",
        "--port",
        "8000",
    ]


def test_airflow_services_share_one_image_one_environment_and_the_data_volumes(services):
    images = {services[name]["image"] for name in AIRFLOW_SERVICES | {"web"}}
    assert images == {"zhaoshang-warehouse:latest"}
    assert services["airflow-init"]["build"] == "."  # built once, from the Dockerfile
    for name in AIRFLOW_SERVICES | {"web"}:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
        assert "@postgres:5432/" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0"
        assert env["AIRFLOW__CORE__FERNET_KEY"] == "fernet"
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == "jwt"
        assert env["AIRFLOW__API__SECRET_KEY"] == "api"
        assert env["ZHAOSHANG_STATE_DIR"] == "/data/state"
        assert env["ZHAOSHANG_WAREHOUSE"].startswith("/data/warehouse/")
        assert services[name]["env_file"] == [{"path": ".env", "required": False}]
        mounts = {v.split(":")[1]: v for v in services[name]["volumes"]}
        assert set(mounts) >= DATA_MOUNTS
        assert mounts["/data/raw"].endswith(":ro")  # the clerks' inbox is only read
        # DuckDB files on named (local) volumes, never a host or network path
        assert mounts["/data/state"].startswith("zhaoshang-state:")
        assert mounts["/data/warehouse"].startswith("zhaoshang-warehouse:")


def test_secrets_are_required_not_defaulted():
    for missing in SECRETS:
        with pytest.raises(MissingVariable, match=missing):
            compose.load({k: v for k, v in SECRETS.items() if k != missing})
    with pytest.raises(MissingVariable):
        compose.load(SECRETS | {"AIRFLOW_JWT_SECRET": ""})


def test_services_wait_for_health_and_for_the_init(services):
    for name in AIRFLOW_SERVICES - {"airflow-init"}:
        service = services[name]
        assert service["healthcheck"]["test"][0] in {"CMD", "CMD-SHELL"}, name
        assert service["depends_on"]["airflow-init"] == {
            "condition": "service_completed_successfully"
        }
        assert service["depends_on"]["postgres"] == {"condition": "service_healthy"}
        assert service["depends_on"]["redis"] == {"condition": "service_healthy"}
    for worker in ("airflow-worker-1", "airflow-worker-2"):
        assert services[worker]["depends_on"]["airflow-apiserver"]["condition"] == (
            "service_healthy"
        )
    assert services["airflow-init"]["restart"] == "no"
    assert services["airflow-init"]["command"] == [
        "bash",
        "/opt/zhaoshang/deploy/airflow-init.sh",
    ]


def test_the_init_script_migrates_creates_the_writer_pool_and_unpauses_the_dag():
    script = (ROOT / "deploy" / "airflow-init.sh").read_text(encoding="utf-8")
    assert "set -euo pipefail" in script
    lines = [line for line in script.splitlines() if line.startswith("airflow ")]
    assert lines[0] == "airflow db migrate"
    assert any(re.match(r'airflow pools set "\$WRITER_POOL" 1 ', line) for line in lines)
    assert 'airflow dags unpause "$DAG_ID"' in lines
    dag_source = (ROOT / "dags" / "zhaoshang_nightly.py").read_text(encoding="utf-8")
    pool = re.search(r"^WRITER_POOL=(\S+)", script, re.M).group(1)
    assert f'WRITER_POOL = "{pool}"' in dag_source
    assert re.search(r"^DAG_ID=zhaoshang_nightly$", script, re.M)


def test_the_image_installs_the_lock_and_compiles_bytecode_at_build():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-", dockerfile, re.M)
    assert "pip install --no-deps --require-hashes -r requirements.lock" in dockerfile
    assert "PYTHONDONTWRITEBYTECODE=1" in dockerfile
    assert "python -m compileall" in dockerfile
    assert re.search(r"^USER 50000$", dockerfile, re.M)  # services do not run as root
    from zhaoshang.report import charts

    assert "fonts-noto-cjk" in dockerfile and "fonts-noto-cjk" in charts.__doc__
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", ".env", "raw", "warehouse", "output"} <= set(ignored)


def test_env_example_names_every_variable_the_compose_file_reads():
    text = compose.COMPOSE_FILE.read_text(encoding="utf-8")
    used = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)", text))
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^([A-Z0-9_]+)=", example, re.M))
    assert used <= documented, used - documented
