"""Where the files the package reads live: in a checkout, ``schemas/`` and ``dags/`` at the
repository's root; installed from the wheel, the same folders inside the package
(``pipelines/_schemas``, ``pipelines/_dags``), put there by the build (pyproject.toml)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[1]


def _folder(name: str, packaged: str) -> Path:
    here = _CHECKOUT / name
    if here.is_dir():
        return here
    installed = Path(str(resources.files("pipelines") / packaged))
    if installed.is_dir():
        return installed
    raise FileNotFoundError(f"{name}/ is neither beside the package nor inside it")


def schemas_dir() -> Path:
    """The project's own XSDs."""
    return _folder("schemas", "_schemas")


def dags_dir() -> Path:
    """The DAG files, for `erzl demo` and for a dags_folder pointed at the installed package."""
    return _folder("dags", "_dags")
