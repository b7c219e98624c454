"""The analysts' console as an analyst meets it: Airflow's real API server with the console
plugin, signed in through Airflow's own login page in a real (headless) Chromium.

One deployment serves every console test of the session: a home filled by ``erzl demo
--no-airflow`` (plus one births file with records held for review), and a second home with a
different data set (ROGDZP pushes and РСВ reports of another seed, through ``erzl ingest``),
each served by its own ``airflow api-server`` — the environment is ``erzl console``'s
(:func:`pipelines.console.serve.airflow_env`), with a passwords file written here for
analyst1, analyst2 (role user) and viewer1 (role viewer). One browser session drives them.

These run on the SQLite pass of the suite only (the test module skips itself otherwise): the
PostgreSQL pass has its own deployment test (tests/deploy), and the console's server is the same
whatever the register is.

Screenshots go to ``$ERZL_SCREENSHOTS`` or ``<repo>/var/screenshots``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from pipelines import config
from pipelines.console.serve import airflow_env
from pipelines.demo import rsv_gen, zags_gen
from tests.conftest import BACKEND, REPO

BIN = Path(sys.executable).parent
SEED = 2026
ROLES = {"analyst1": "user", "analyst2": "user", "viewer1": "viewer"}
START_TIMEOUT = 180
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = Path(os.environ.get("ERZL_SCREENSHOTS") or REPO / "var" / "screenshots")
_saved_shots: list[Path] = []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _register_url(base: Path) -> str:
    # the console tests run on the SQLite pass only (see the module docstring): the register is
    # the suite's backend, SQLite, in the deployment's directory
    assert BACKEND == "sqlite", BACKEND
    return f"sqlite:///{base / 'register.sqlite3'}"


class Deployment:
    """One ERZL home, its register, and the Airflow API server that serves its console."""

    def __init__(self, name: str, base: Path, extra_env: dict[str, str] | None = None) -> None:
        self.name = name
        self.base = base
        self.home = base / "home"
        self.home.mkdir(parents=True)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("ERZL_", "AIRFLOW"))},
            "ERZL_HOME": str(self.home),
            "ERZL_DATABASE_URL": _register_url(base),
            # the files written here are whole when written: no settle interval to wait out
            "ERZL_SETTLE_SECONDS": "0",
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        self.settings = config.load({k: v for k, v in self.env.items() if k.startswith("ERZL_")})
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.passwords = {user: uuid.uuid4().hex[:16] for user in ROLES}
        self.inputs: list[Path] = []  # the files of the data set, beside the archive
        self.server: subprocess.Popen | None = None
        self.log_path = self.home / "airflow" / "api-server.log"
        self._tokens: dict[str, str] = {}

    # --- the command line -------------------------------------------------------------------

    def erzl(self, *args: str, check: bool = True, timeout: float = 300):
        done = subprocess.run(
            [BIN / "erzl", *args], env=self.env, capture_output=True, text=True,
            timeout=timeout, check=False,
        )  # fmt: skip
        if check:
            assert done.returncode == 0, (
                f"erzl {' '.join(args)} exited {done.returncode}: {done.stderr[-3000:]}"
            )
        return done

    def erzl_start(self, *args: str) -> subprocess.Popen:
        log = (self.base / f"erzl-{args[0]}.log").open("w")
        return subprocess.Popen(
            [BIN / "erzl", *args], env=self.env, stdout=log, stderr=subprocess.STDOUT
        )

    def records(self) -> list[dict]:
        return [json.loads(line) for line in self.erzl("records", "export").stdout.splitlines()]

    def persons(self) -> list[dict]:
        return [json.loads(line) for line in self.erzl("register", "export").stdout.splitlines()]

    def run_reports(self) -> dict[str, dict]:
        """Each run's own report (outbox/reports/report_<run>.json), by run id."""
        out = {}
        for path in (self.home / "outbox" / "reports").glob("report_*.json"):
            report = json.loads(path.read_text("utf-8"))
            out[report["run_id"]] = report
        return out

    # --- Airflow ----------------------------------------------------------------------------

    def airflow_env(self) -> dict[str, str]:
        env = airflow_env(self.settings, self.port)
        # what `erzl console` would see: this home's settings and nothing of the outer shell's
        env = {k: v for k, v in env.items() if not k.startswith("ERZL_")}
        env.update({k: v for k, v in self.env.items() if k.startswith("ERZL_")})
        passwords = self.base / "passwords.json"
        passwords.write_text(json.dumps(self.passwords), "utf-8")
        env.update(
            {
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(
                    f"{user}:{role}" for user, role in ROLES.items()
                ),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
                "AIRFLOW__API_AUTH__JWT_SECRET": uuid.uuid4().hex,
                "AIRFLOW__API__SECRET_KEY": uuid.uuid4().hex,
            }
        )
        self._airflow_env = env
        return env

    def migrate(self) -> subprocess.Popen:
        env = self.airflow_env()
        Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
        log = (self.base / "airflow-db-migrate.log").open("w")
        return subprocess.Popen(
            [BIN / "airflow", "db", "migrate"], env=env, stdout=log, stderr=subprocess.STDOUT
        )

    def metadata_like(self, other: Deployment) -> None:
        """The metadata database of ``other``, freshly migrated, copied: one `airflow db
        migrate` for both servers (it costs seconds of CPU on this small machine)."""
        env = self.airflow_env()
        Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(other.home / "airflow" / "airflow.db", self.home / "airflow" / "airflow.db")

    def start(self) -> None:
        log = self.log_path.open("w")
        self.server = subprocess.Popen(
            [BIN / "airflow", "api-server", "--port", str(self.port)], env=self._airflow_env,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.server.poll() is None, f"api-server exited: {self.log()[-3000:]}"
            try:
                if httpx.get(f"{self.url}/api/v2/monitor/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"the API server did not answer in time: {self.log()[-3000:]}")

    def stop(self) -> None:
        if self.server is None or self.server.poll() is not None:
            return
        os.killpg(self.server.pid, signal.SIGTERM)
        try:
            self.server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.server.pid, signal.SIGKILL)
            self.server.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace") if self.log_path.exists() else ""

    # --- HTTP -------------------------------------------------------------------------------

    def token(self, user: str) -> str:
        """A bearer token from Airflow's ``POST /auth/token``, as an API client gets one."""
        if user not in self._tokens:
            answer = httpx.post(
                f"{self.url}/auth/token",
                json={"username": user, "password": self.passwords[user]},
                timeout=30,
            )
            assert answer.status_code in (200, 201), answer.text
            self._tokens[user] = answer.json()["access_token"]
        return self._tokens[user]

    def client(self, user: str | None = None, token: str | None = None) -> httpx.Client:
        """An HTTP client of this server: as ``user`` (a bearer token), with the ``token``
        given, or anonymous."""
        headers = {}
        if user is not None:
            token = self.token(user)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.Client(base_url=self.url, headers=headers, timeout=120)


# --- the data sets ----------------------------------------------------------------------------


def extra_births(folder: Path, as_of: date) -> Path:
    """A births file for the demo home: two records whose status code is not in the fund's
    mapping (held as Z007, acceptable) and one ordinary record. Act serials from 1001 on, so
    no act record of the demo is met again."""
    specs = zags_gen.random_birth_specs(
        random.Random(SEED + 1), 3, act_date=as_of - timedelta(days=1), start_serial=1001,
        stillborn_rate=0, partial_date_rate=0, no_mother_rate=0, bad_mother_snils_rate=0,
        twins_rate=0,
    )  # fmt: skip
    specs[0] = dataclasses.replace(specs[0], status_code="9999")
    specs[1] = dataclasses.replace(specs[1], status_code="9999")
    folder.mkdir(parents=True, exist_ok=True)
    return zags_gen.write_rogdinf(folder / "ROGDINF_extra_0001.xml", specs)


def second_data_set(folder: Path, as_of: date) -> tuple[list[Path], list[Path]]:
    """Another generator's files: ROGDZP pushes (a 4.0.1 envelope, a bare 4.0.0 message) and
    three years of РСВ reports of another seed."""
    specs = zags_gen.random_birth_specs(
        random.Random(4242), 10, act_date=as_of - timedelta(days=1), start_serial=7001,
        stillborn_rate=0, partial_date_rate=0, no_mother_rate=0, twins_rate=0,
    )  # fmt: skip
    specs[3] = dataclasses.replace(specs[3], stillborn=True)
    births = folder / "births"
    births.mkdir(parents=True)
    pushes = [
        zags_gen.write_rogdzp(births / "ROGDZP_second_0001.xml", specs[:6], messages=[2, 2, 2]),
        zags_gen.write_rogdzp(
            births / "ROGDZP_second_0002.xml", specs[6:], version="4.0.0", envelope=False
        ),
    ]
    rsv = folder / "rsv"
    rsv.mkdir()
    reports = rsv_gen.random_rsv_reports(random.Random(77), years=(2023, 2024, 2025), employers=3)
    return pushes, [rsv_gen.write_rsv(rsv, spec) for spec in reports]


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def deployments(tmp_path_factory):
    """Both homes, filled and served. The steps that can run side by side do: the two Airflow
    metadata databases and servers start while the data sets are being processed (the console
    reads the register on each request only)."""
    base = tmp_path_factory.mktemp("console")
    demo = Deployment("demo", base / "demo")
    # a lowered contribution threshold: three years of reports enrol some workers
    second = Deployment("second", base / "second", {"ERZL_FOREIGN_MIN_MONTHS": "3"})
    started = time.monotonic()
    try:
        migration = demo.migrate()
        filling = demo.erzl_start("demo", "--no-airflow", "--seed", str(SEED))
        as_of = date.today()
        pushes, reports = second_data_set(second.base / "drops", as_of)
        assert migration.wait(timeout=300) == 0, (demo.base / "airflow-db-migrate.log").read_text()
        second.metadata_like(demo)
        demo.start()
        second.start()
        second.erzl("ingest", "--as-of", as_of.isoformat(), *map(str, pushes))
        second.erzl("ingest", "--as-of", as_of.isoformat(), *map(str, reports))
        assert filling.wait(timeout=300) == 0, (demo.base / "erzl-demo.log").read_text()
        # the demo holds two records; a third file adds two more, so the queue can be worked
        # from the console and from the command line
        extra = extra_births(demo.home / "inbox" / "zags_births", as_of)
        demo.erzl("ingest", "--as-of", as_of.isoformat(), str(extra))
        demo.wait_until_up()
        second.wait_until_up()
        print(f"\nconsole deployments ready in {time.monotonic() - started:.1f} s: "
              f"{demo.url} ({demo.home}), {second.url} ({second.home})")  # fmt: skip
        yield {"demo": demo, "second": second}
    finally:
        demo.stop()
        second.stop()


@pytest.fixture(scope="session")
def demo(deployments) -> Deployment:
    return deployments["demo"]


@pytest.fixture(scope="session")
def second(deployments) -> Deployment:
    return deployments["second"]


class Browser:
    """The one Chromium of the session, signed in through Airflow's login page."""

    def __init__(self, driver, shots: Path) -> None:
        self.driver = driver
        self.shots = shots
        self.user: str | None = None
        self.deployment: Deployment | None = None

    def login(self, deployment: Deployment, user: str) -> None:
        """Airflow's simple auth manager's form: ``input[name=username]``,
        ``input[name=password]``, ``button[type=submit]``; it sets the ``_token`` cookie and
        goes on to ``next``."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait

        driver = self.driver
        driver.get(f"{deployment.url}/auth/login/?next=/erzl/")
        driver.delete_all_cookies()  # the cookies of the host, whoever was signed in before
        driver.get(f"{deployment.url}/auth/login/?next=/erzl/")
        wait = WebDriverWait(driver, 60)
        name = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "input[name='username']")))
        name.send_keys(user)
        driver.find_element(By.CSS_SELECTOR, "input[name='password']").send_keys(
            deployment.passwords[user]
        )
        wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "button[type='submit']"))).click()
        wait.until(lambda d: d.get_cookie("_token"))
        wait.until(lambda d: urlparse(d.current_url).path.startswith("/erzl/"))
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "header .who"))
        self.user, self.deployment = user, deployment

    def logout(self) -> None:
        """Signing out, as far as the console is concerned: the browser forgets the cookie."""
        if self.driver.current_url.startswith("http"):
            self.driver.delete_all_cookies()
        self.user = None

    def open(self, path: str) -> None:
        assert self.deployment is not None, "sign in first"
        self.driver.get(self.deployment.url + path)

    def css(self, selector: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def one(self, selector: str):
        found = self.css(selector)
        assert found, f"{selector} not on {self.driver.current_url}"
        return found[0]

    def shot(self, name: str) -> Path:
        self.shots.mkdir(parents=True, exist_ok=True)
        path = self.shots / f"{name}.png"
        self.driver.save_screenshot(str(path))
        _saved_shots.append(path)
        return path


@pytest.fixture(scope="session")
def browser(deployments):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1800"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(120)
    print(f"\nconsole screenshots: {SCREENSHOTS}")
    try:
        yield Browser(driver, SCREENSHOTS)
    finally:
        driver.quit()


def pytest_terminal_summary(terminalreporter) -> None:
    if _saved_shots:
        terminalreporter.write_line(
            f"console screenshots: {len(_saved_shots)} saved under {SCREENSHOTS}"
        )


# The console's server is the same whatever the register, so it is driven once, on the SQLite
# pass; the PostgreSQL pass has its own deployment test (tests/deploy). Not collected there.
if BACKEND != "sqlite":
    collect_ignore_glob = ["test_*.py"]
