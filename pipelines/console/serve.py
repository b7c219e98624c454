"""``erzl console``: Airflow's API server over this home, with the console plugin, for a fund
that has no Airflow deployment running yet (the demo, a laptop). A deployment serves the
console from its own API server; this only sets up the environment and runs ``airflow
api-server`` — Airflow itself is the server, its simple auth manager signs the analysts in.

Analysts: ``ERZL_CONSOLE_USERS`` (``name:role,…``, default ``analyst1:user,analyst2:user``,
two, so one can confirm what the other accepted); Airflow writes their generated passwords to
``<home>/airflow/simple_auth_manager_passwords.json.generated`` on first start.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from pipelines import config
from pipelines.resources import dags_dir

DEFAULT_USERS = "analyst1:user,analyst2:user"


def _secret(home: Path, name: str) -> str:
    """A random secret kept under the Airflow home, the same across restarts (tokens and
    sessions survive them) and readable by its owner only."""
    path = home / f".{name}"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def local_airflow(settings: config.Settings) -> dict[str, str]:
    """The Airflow of one data directory, for a machine without a deployment: its home and
    SQLite metadata database under ``<home>/airflow``, this package's DAGs, and the register of
    ``settings``. The demo runs its DAGs in it, and the console is served from it."""
    home = settings.home / "airflow"
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_dir()),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "ERZL_HOME": str(settings.home),
        "ERZL_DATABASE_URL": settings.database_url,
    }


def airflow_env(settings: config.Settings, port: int) -> dict[str, str]:
    home = settings.home / "airflow"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
    env.update(local_airflow(settings))
    env.update(
        {
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": os.environ.get(
                "ERZL_CONSOLE_USERS", DEFAULT_USERS
            ),
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API_AUTH__JWT_SECRET": _secret(home, "jwt_secret"),
            "AIRFLOW__API__SECRET_KEY": _secret(home, "secret_key"),
        }
    )
    return env


def passwords_file(settings: config.Settings) -> Path:
    return settings.home / "airflow" / "simple_auth_manager_passwords.json.generated"


def pid_file(settings: config.Settings) -> Path:
    return settings.home / "airflow" / "console.pid"


def stop(settings: config.Settings) -> bool:
    """Stop a console started in the background for this home; True when one was running."""
    path = pid_file(settings)
    try:
        pid = int(path.read_text())
    except (OSError, ValueError):
        return False
    path.unlink(missing_ok=True)
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    for _ in range(60):
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.5)
    os.killpg(pid, signal.SIGKILL)
    return True


def serve(
    settings: config.Settings, port: int = 8080, *, ready=None, background: bool = False
) -> int:
    """Run the API server; ``ready(url)`` is called once it answers. In the foreground until
    interrupted; in the background it is left running (``stop`` ends it) and this returns."""
    stop(settings)  # one console per home: a second start replaces the first
    env = airflow_env(settings, port)
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    log_path = settings.home / "airflow" / "api-server.log"
    with log_path.open("a") as log:
        migrate = subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"], env=env, stdout=log,
            stderr=subprocess.STDOUT, check=False,
        )  # fmt: skip
        if migrate.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed; see {log_path}")
        server = subprocess.Popen(  # noqa: S603 (our interpreter, our arguments)
            [sys.executable, "-m", "airflow", "api-server", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        pid_file(settings).write_text(str(server.pid))
        url = f"http://127.0.0.1:{port}/erzl/"
        try:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline and server.poll() is None:
                try:
                    urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=2
                    )
                    break
                except OSError:
                    time.sleep(1)
            else:
                raise RuntimeError(f"the API server did not start; see {log_path}")
            if ready is not None:
                ready(url)
            if background:
                return 0
            return server.wait()
        except KeyboardInterrupt:
            return 0
        finally:
            if not background or server.poll() is not None:
                stop(settings)
