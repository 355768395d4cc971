"""Run docker-compose.yml's services natively: each service's own command and health check, with the
container's fixed names (postgres:5432, redis:6379, /var/lib/jiupian, port 8000, /etc/nginx/certs) mapped
to this machine's PostgreSQL, Redis, a temporary folder and free ports. No container engine is needed.

Used by tests/platform/test_compose_stack.py; the mapping is the only thing that differs from a
`docker compose up`, so a command or health check that cannot work in the stack fails here too.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / "deploy" / "env.example"
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
PUBLIC_HOST = "jiupian.example.gov.cn"


def load_compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))  # resolves the x-app merge keys


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def free_port() -> int:
    """A free local port; JIUPIAN_TEST_PORTS=8800-8899 keeps a developer's servers in their own range."""
    span = os.environ.get("JIUPIAN_TEST_PORTS")
    candidates = range(*(int(p) + i for i, p in enumerate(span.split("-")))) if span else [0]
    for port in candidates:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            chosen = sock.getsockname()[1]
            if chosen not in _taken:
                _taken.add(chosen)
                return chosen
    raise RuntimeError(f"no free port in {span}")


_taken: set[int] = set()


def database_url_beside(url: str, suffix: str) -> str:
    """The URL of a database named <name><suffix> on the same server as `url`."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "jiupian"
    return urlunsplit(parts._replace(path=f"/{name}{suffix}"))


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')


@dataclass
class NativeStack:
    """The compose services as local processes."""

    run_dir: Path
    database_url: str
    broker_url: str
    web_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    https_port: int = field(default_factory=free_port)
    compose: dict = field(default_factory=load_compose)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for sub in ("var", "static", "tmp", "certs", "logs"):
            (self.run_dir / sub).mkdir(parents=True, exist_ok=True)

    # -- mapping container names to this machine ---------------------------------------------------
    def translate(self, text: str) -> str:
        replacements = {
            "/var/lib/jiupian": str(self.run_dir / "var"),
            "/app/staticfiles": str(self.run_dir / "static"),
            "/tmp/": f"{self.run_dir / 'tmp'}/",
            "/etc/nginx/certs": str(self.run_dir / "certs"),
            "0.0.0.0:8000": f"127.0.0.1:{self.web_port}",
            "127.0.0.1:8000": f"127.0.0.1:{self.web_port}",
            "http://web:8000": f"http://127.0.0.1:{self.web_port}",
            "https://127.0.0.1/": f"https://127.0.0.1:{self.https_port}/",
            "$$": "$",  # compose's escape for a literal $
        }
        pattern = re.compile("|".join(re.escape(old) for old in sorted(replacements, key=len, reverse=True)))
        return pattern.sub(lambda match: replacements[match.group(0)], text)  # one pass: no re-replacing

    def env(self, service: str) -> dict[str, str]:
        spec = self.compose["services"][service]
        dotenv = read_env_file(ENV_EXAMPLE)
        dotenv["DJANGO_SECRET_KEY"] = "native-compose-smoke-" + os.urandom(24).hex()
        env = {
            "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": os.environ.get("HOME", "/root"),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "HOSTNAME": socket.gethostname(),  # what Docker sets in a container
            **dotenv,
        }
        for key, value in (spec.get("environment") or {}).items():
            env[key] = self.translate(str(value))
        env["DATABASE_URL"] = self.database_url  # postgres:5432 → the local server
        env["CELERY_BROKER_URL"] = self.broker_url  # redis:6379 → the local server
        return env

    def command(self, service: str) -> list[str]:
        return shlex.split(self.translate(self.compose["services"][service]["command"]))

    def healthcheck(self, service: str) -> list[str]:
        test = self.compose["services"][service]["healthcheck"]["test"]
        kind, *rest = test
        if kind == "CMD-SHELL":
            return ["sh", "-c", self.translate(rest[0])]
        assert kind == "CMD", test
        return [self.translate(part) for part in rest]

    # -- running -----------------------------------------------------------------------------------
    def run_once(self, service: str, *, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.command(service), cwd=ROOT, env=self.env(service), capture_output=True, text=True, timeout=timeout
        )

    def collectstatic(self) -> subprocess.CompletedProcess:
        """The Dockerfile's build step (`collectstatic` into STATIC_ROOT, outside the data volume)."""
        env = self.env("web")
        return subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    def start(self, service: str, argv: list[str] | None = None, env: dict | None = None) -> None:
        log = (self.run_dir / "logs" / f"{service}.log").open("wb")
        self.processes[service] = subprocess.Popen(
            argv or self.command(service), cwd=ROOT, env=env or self.env(service),
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def log(self, service: str) -> str:
        path = self.run_dir / "logs" / f"{service}.log"
        return path.read_text(encoding="utf-8", errors="replace")[-4000:] if path.exists() else ""

    def wait_healthy(self, service: str, argv: list[str] | None = None, timeout: float = 90) -> float:
        """Run the health check until it passes; returns the seconds it took."""
        argv = argv or self.healthcheck(service)
        env = self.env(service) if service in self.compose["services"] else None
        started = time.monotonic()
        last = None
        while time.monotonic() - started < timeout:
            process = self.processes.get(service)
            if process is not None and process.poll() is not None:
                raise AssertionError(f"{service} exited with {process.returncode}:\n{self.log(service)}")
            last = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
            if last.returncode == 0:
                return time.monotonic() - started
            time.sleep(0.5)
        raise AssertionError(
            f"{service} not healthy after {timeout:.0f} s: {argv}\n{last.stdout if last else ''}"
            f"{last.stderr if last else ''}\n{self.log(service)}"
        )

    # -- nginx -------------------------------------------------------------------------------------
    def write_certificate(self) -> None:
        certs = self.run_dir / "certs"
        subprocess.run(
            ["openssl", "req", "-x509", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-keyout", str(certs / "privkey.pem"), "-out", str(certs / "fullchain.pem"), "-days", "1",
             "-subj", f"/CN={PUBLIC_HOST}"],
            check=True, capture_output=True,
        )  # fmt: skip

    def nginx_config(self) -> Path:
        """deploy/nginx.conf as the image's conf.d/default.conf, inside a minimal main config."""
        site = self.translate(NGINX_CONF.read_text(encoding="utf-8"))
        site = site.replace("listen 80;", f"listen 127.0.0.1:{self.http_port};")
        site = site.replace("listen 443 ", f"listen 127.0.0.1:{self.https_port} ")
        (self.run_dir / "default.conf").write_text(site, encoding="utf-8")
        tmp = self.run_dir / "nginx-tmp"
        tmp.mkdir(exist_ok=True)
        tmp.chmod(0o777)
        main = self.run_dir / "nginx.conf"
        main.write_text(
            f"""daemon off;
worker_processes 1;
pid {self.run_dir}/nginx.pid;
error_log {self.run_dir}/logs/nginx-error.log warn;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    access_log {self.run_dir}/logs/nginx-access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {self.run_dir}/default.conf;
}}
""",
            encoding="utf-8",
        )
        return main

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
