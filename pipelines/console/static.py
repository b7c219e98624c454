"""The console's pages as static HTML, for use without Airflow: ``erzl report``, and the pages
each run writes for itself under ``outbox/reports/`` (its run page, its files, the index).

The tree: ``index.html`` (runs), ``runs/<run>.html``, ``files/<id>.html``, ``senders.html``,
``senders/<sender>.html``, ``rules.html``, ``rules/<code>.html``, ``review.html`` and the Data
Docs pages under ``data_docs/<run>/<file id>.html``. Person pages are served live only (one per
insured person); the static pages give the ЕНП, which the live console finds.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipelines.config import Settings
from pipelines.console.pages import Links, Site, data_docs_file
from pipelines.emit import safe_name, write_atomic
from pipelines.register.models import ReceivedFile, Run


def _write(path: Path, html: str | None) -> Path | None:
    if html is None:
        return None
    return write_atomic(path, html.encode("utf-8"), kind="report")


def _site() -> Site:
    return Site(Links(static=True))


def _run_and_files(
    session: Session, settings: Settings, pages: Site, run_id: str, out: Path
) -> list[Path | None]:
    """A run's page and a page per file it processed, with their Data Docs."""
    written = [_write(out / "runs" / f"{safe_name(run_id)}.html",
                      pages.run_page(session, settings, run_id, static=True))]  # fmt: skip
    for file_id, received_by in session.execute(
        select(ReceivedFile.id, ReceivedFile.run_id).where(ReceivedFile.owner_run_id == run_id)
    ):
        written.append(
            _write(out / "files" / f"{file_id}.html",
                   pages.file_page(session, settings, file_id, static=True))
        )  # fmt: skip
        docs = data_docs_file(settings, received_by, file_id)
        if docs is not None:
            target = out / "data_docs" / safe_name(received_by) / f"{file_id}.html"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(docs, target)
            written.append(target)
    return written


def write_run_pages(session: Session, settings: Settings, run_id: str, out: Path) -> list[Path]:
    """The run's page, a page per file it processed (with its Data Docs), and the index."""
    pages = _site()
    written = _run_and_files(session, settings, pages, run_id, out)
    written.append(_write(out / "index.html", pages.runs_page(session, static=True)))
    return [p for p in written if p is not None]


def write_site(session: Session, settings: Settings, out: Path) -> list[Path]:
    """Every page of the console (but the person pages) under ``out``."""
    from pipelines.console import data

    pages = _site()
    written: list[Path | None] = []
    for run_id in session.scalars(select(Run.id).order_by(Run.started_at.desc())):
        written += _run_and_files(session, settings, pages, run_id, out)
    written.append(_write(out / "index.html", pages.runs_page(session, static=True)))
    written.append(_write(out / "senders.html", pages.senders_page(session, static=True)))
    for sender in data.senders(session):
        name = sender["sender"]
        written.append(
            _write(out / "senders" / f"{safe_name(name)}.html",
                   pages.sender_page(session, name, static=True))
        )  # fmt: skip
    written.append(_write(out / "rules.html", pages.rules_page(session, static=True)))
    for rule in data.rule_counts(session, ReceivedFile.id.is_not(None)):
        written.append(
            _write(out / "rules" / f"{safe_name(rule['code'])}.html",
                   pages.rule_page(session, rule["code"], static=True))
        )  # fmt: skip
    written.append(_write(out / "review.html", pages.review_page(session, settings, static=True)))
    return list(dict.fromkeys(p for p in written if p is not None))
