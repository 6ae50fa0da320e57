"""A docker-compose deployment without Docker: PostgreSQL and Redis from Debian's packages on
loopback, and the compose file's own Airflow commands and environment as local processes.

Only what a container would give differently is changed: host names become 127.0.0.1 with free
ports, container paths become folders under a temporary directory, and each Celery worker gets
its own log-server port and host name (in Docker each has its own network namespace).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.distributed import compose

PG_BIN = Path("/usr/lib/postgresql/15/bin")
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ProcessExited(RuntimeError):
    """A service this cluster started has stopped: waiting longer cannot help."""


def wait_until(check, timeout: float, what: str, interval: float = 1.0):
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except ProcessExited:
            raise
        except Exception as exc:  # the check may fail until it is ready
            last_error = exc
        time.sleep(interval)
    raise TimeoutError(f"{what} not ready after {timeout:.0f}s (last error: {last_error})")


@dataclass
class Cluster:
    base: Path
    pg_port: int = field(default_factory=free_port)
    redis_port: int = field(default_factory=free_port)
    api_port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    services: dict = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    pg_data: Path | None = None

    # --- the two servers the compose file takes from images ---------------------------------

    def _as_postgres_user(self, argv: list[str]) -> list[str]:
        """initdb refuses root; as root, run the server as Debian's postgres user."""
        return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv

    def start_postgres(self, user: str, password: str, database: str) -> None:
        # Its own world-traversable temp dir: the postgres user cannot enter pytest's tmp_path.
        self.pg_data = Path(tempfile.mkdtemp(prefix="zhaoshang-pg-"))
        self.pg_data.chmod(0o755)
        cluster_dir = self.pg_data / "data"
        cluster_dir.mkdir()
        pwfile = self.pg_data / "pw"
        pwfile.write_text(password)
        if os.geteuid() == 0:
            shutil.chown(self.pg_data, "postgres")
            shutil.chown(cluster_dir, "postgres")
            shutil.chown(pwfile, "postgres")
        subprocess.run(
            self._as_postgres_user(
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(cluster_dir),
                    "-U",
                    user,
                    "--pwfile",
                    str(pwfile),
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.pg_port} "
            f"-c unix_socket_directories={self.pg_data} "
            # a test cluster: durability is not what is under test
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        subprocess.run(
            self._as_postgres_user(
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(cluster_dir),
                    "-l",
                    str(self.pg_data / "postgres.log"),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "120",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        import psycopg2

        con = psycopg2.connect(
            host="127.0.0.1", port=self.pg_port, user=user, password=password, dbname="postgres"
        )
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(f'create database "{database}"')
        con.close()

    def start_redis(self) -> None:
        self._spawn(
            "redis",
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.redis_port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            os.environ.copy(),
        )
        wait_until(
            lambda: (
                subprocess.run(
                    ["redis-cli", "-p", str(self.redis_port), "ping"],
                    capture_output=True,
                    text=True,
                ).stdout.strip()
                == "PONG"
            ),
            60,
            "redis",
            0.3,
        )

    # --- the compose file, made local ---------------------------------------------------------

    def localise(self, value: str) -> str:
        replacements = {
            "@postgres:5432/": f"@127.0.0.1:{self.pg_port}/",
            "redis://redis:6379/": f"redis://127.0.0.1:{self.redis_port}/",
            "http://airflow-apiserver:8080/": f"http://127.0.0.1:{self.api_port}/",
            "http://localhost:8080/": f"http://127.0.0.1:{self.api_port}/",
            "/opt/zhaoshang/": f"{compose.ROOT}/",
            "/data/": f"{self.base}/data/",
        }
        for container, local in replacements.items():
            value = value.replace(container, local)
        return value

    def load_compose(self, variables: dict[str, str]) -> None:
        self.services = compose.load(variables)["services"]
        common = self.services["airflow-scheduler"]["environment"]
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "ZHAOSHANG"))},
            **{k: self.localise(str(v)) for k, v in common.items()},
            "AIRFLOW_HOME": str(self.base / "airflow_home"),
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(compose.ROOT),
            # The scheduler's health server, on a port nobody else on this machine uses.
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(free_port()),
            **{k: v for k, v in variables.items() if k.startswith("ZHAOSHANG_")},
            # The test triggers its own night rather than have the scheduler start today's.
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            # One api-server process instead of four: this machine has two shared cores.
            "AIRFLOW__API__WORKERS": "1",
        }
        for folder in ("raw", "state", "warehouse", "output"):
            (self.base / "data" / folder).mkdir(parents=True, exist_ok=True)

    def command(self, service: str) -> list[str]:
        argv = [self.localise(str(a)) for a in self.services[service]["command"]]
        if service == "airflow-apiserver":
            argv[argv.index("--port") + 1] = str(self.api_port)
        return argv

    def worker_env(self, service: str) -> dict[str, str]:
        return self.env | {
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            # Each container has its own host name; here each worker names itself.
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tests.distributed.hostname.from_env",
            "ZHAOSHANG_TEST_HOSTNAME": service,
        }

    def run_once(self, service: str, timeout: float) -> subprocess.CompletedProcess:
        log = self.base / f"{service}.log"
        with log.open("w") as out:
            proc = subprocess.run(
                self.command(service),
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        if proc.returncode != 0:
            raise RuntimeError(f"{service} failed ({proc.returncode}):\n{self.tail(service)}")
        return proc

    def start(self, service: str, env: dict[str, str] | None = None) -> None:
        self._spawn(service, self.command(service), env or self.env)

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        log = (self.base / f"{name}.log").open("w")
        self.processes[name] = subprocess.Popen(
            argv,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.base,
            start_new_session=True,  # its own process group: stopped with all its children
        )
        log.close()

    def healthcheck(self, service: str, hostname: str) -> bool:
        """Run the service's own compose health check (CMD or CMD-SHELL) once."""
        kind, *argv = self.services[service]["healthcheck"]["test"]
        env = self.env | {"HOSTNAME": hostname}
        if kind == "CMD-SHELL":
            argv = ["bash", "-c", self.localise(argv[0])]
        else:
            argv = [self.localise(a) for a in argv]
        if service == "airflow-scheduler":
            port = self.env["AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT"]
            argv = [a.replace("localhost:8974", f"127.0.0.1:{port}") for a in argv]
        return subprocess.run(argv, env=env, capture_output=True, timeout=120).returncode == 0

    def assert_running(self) -> None:
        for name, proc in self.processes.items():
            if proc.poll() is not None:
                raise ProcessExited(f"{name} exited ({proc.returncode}):\n{self.tail(name)}")

    def tail(self, name: str, lines: int = 40) -> str:
        log = self.base / f"{name}.log"
        if not log.exists():
            return ""
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """Every process group this cluster started, then PostgreSQL; safe to call twice."""
        for proc in self.processes.values():
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            _signal_group(proc, signal.SIGKILL)  # whatever of the group is left
            proc.wait(timeout=10)
        self.processes.clear()
        if self.pg_data is not None:
            subprocess.run(
                self._as_postgres_user(
                    [
                        str(PG_BIN / "pg_ctl"),
                        "-D",
                        str(self.pg_data / "data"),
                        "-m",
                        "immediate",
                        "stop",
                    ]
                ),
                capture_output=True,
                check=False,
            )
            shutil.rmtree(self.pg_data, ignore_errors=True)
            self.pg_data = None


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone already
        os.killpg(proc.pid, sig)
