"""The package as an Airflow image installs it: built into a wheel, installed into a clean
virtual environment outside the checkout, it ingests a file and passes `erzl check`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import BACKEND, REPO
from tests.scenarios import births_scenario

UV = Path(sys.executable).parent / "uv"

if BACKEND == "sqlite":  # the wheel is the same on either backend: built and tried once

    def test_the_wheel_installed_outside_the_checkout_ingests_a_file(tmp_path):
        dist = tmp_path / "dist"
        subprocess.run(
            [UV, "build", "--wheel", "--quiet", "-o", dist, REPO], check=True, cwd=tmp_path
        )
        [wheel] = dist.glob("erzl_ingest-*.whl")
        venv = tmp_path / "venv"
        subprocess.run([UV, "venv", "--quiet", "--python", sys.executable, venv], check=True)
        python = venv / "bin" / "python"
        # the locked versions of the dependencies, then the wheel itself
        subprocess.run(
            [UV, "pip", "install", "--quiet", "--python", python,
             "-r", REPO / "requirements.lock"],
            check=True,
        )  # fmt: skip
        subprocess.run(
            [UV, "pip", "install", "--quiet", "--no-deps", "--python", python, wheel], check=True
        )

        work = tmp_path / "elsewhere"
        scenario = births_scenario(work / "in")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("ERZL_", "PYTHON"))},
            "ERZL_HOME": str(work / "home"),
            "ERZL_SETTLE_SECONDS": "0",
        }
        erzl = venv / "bin" / "erzl"

        def run(*argv: str) -> subprocess.CompletedProcess:
            return subprocess.run(
                [erzl, *argv], cwd=work, env=env, capture_output=True, text=True, check=False
            )

        where = subprocess.run(
            [python, "-c", "import pipelines.resources as r; print(r.schemas_dir())"],
            cwd=work, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert "site-packages" in where.stdout and str(REPO) not in where.stdout
        assert run("register", "load", str(scenario.register_csv)).returncode == 0
        done = run("ingest", "--as-of", "2026-03-02", *map(str, scenario.files))
        assert done.returncode == 0, done.stderr
        assert "4 enrolled" in done.stdout
        assert len(list((work / "home" / "outbox" / "receipts").rglob("*.xml"))) == 3
        assert run("check").returncode == 0
