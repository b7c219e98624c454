"""The console's pages: Jinja2 templates over :mod:`pipelines.console.data`, in English and
Russian side by side (the fund's analysts read both; receipts are bilingual too).

One :class:`Site` renders every page, live under the Airflow API server (links like
``/erzl/runs/<id>``) or as static files (``runs/<id>.html``) for ``erzl report``; the pages are
the same either way, only the links differ. Templates autoescape: every value is text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from pipelines.console import charts
from pipelines.emit import safe_name
from pipelines.emit.model import OUTCOME_KEYS

LABELS: dict[str, tuple[str, str]] = {
    "console": ("Fund analysts' console", "Консоль аналитика фонда"),
    "runs": ("Runs", "Запуски"),
    "run": ("Run", "Запуск"),
    "file": ("File", "Файл"),
    "files": ("Files", "Файлы"),
    "senders": ("Senders", "Отправители"),
    "sender": ("Sender", "Отправитель"),
    "rules": ("Rules", "Правила"),
    "rule": ("Rule", "Правило"),
    "review": ("Review queue", "Очередь на рассмотрение"),
    "person": ("Person", "Застрахованное лицо"),
    "received": ("Received", "Получено"),
    "accepted": ("Accepted", "Принято"),
    "rejected": ("Rejected", "Отклонено"),
    "duplicate": ("Duplicate", "Дубликат"),
    "not_applicable": ("Not applicable", "Не применимо"),
    "enrolled": ("Enrolled", "Включено в регистр"),
    "status": ("Status", "Статус"),
    "duration": ("Duration", "Длительность"),
    "started": ("Started", "Начат"),
    "as_of": ("Processing date", "Дата обработки"),
    "trend": ("Records by outcome over time", "Записи по результатам во времени"),
    "enrolments": ("Enrolments and policies issued", "Включения и выданные полисы"),
    "assignments": ("Insurer assignments", "Назначения СМО"),
    "events": ("Insurer notifications", "Уведомления СМО"),
    "renewal": ("Renewals and lapses", "Продления и прекращения"),
    "data_docs": ("Data Docs", "Data Docs"),
    "receipt": ("Receipt", "Квитанция"),
    "why": ("Why this person is in the register", "Почему лицо включено в регистр"),
    "history": ("Every change and where it came from", "Все изменения и их источники"),
    "policies": ("Policies", "Полисы"),
    "code": ("Code", "Код"),
    "meaning": ("Meaning", "Значение"),
    "count": ("Count", "Количество"),
    "find_person": ("Find a person by ЕНП", "Найти лицо по ЕНП"),
    "quarters": (
        "By reporting quarter: the reports in force (a correction replaces the one before)",
        "По отчётным кварталам: действующие расчёты (корректировка заменяет предыдущий)",
    ),
}
OUTCOME_SERIES = OUTCOME_KEYS  # the chart's series and the pages' columns, in this order


def plain(key: str) -> str:
    """A label as plain text, both languages: for a page's title."""
    en, ru = LABELS.get(key, (key, key))
    return en if en == ru else f"{en} · {ru}"


def label(key: str) -> Markup:
    """A label in English with its Russian beside it (styled apart, class ``ru``)."""
    en, ru = LABELS.get(key, (key, key))
    if en == ru:
        return Markup.escape(en)
    return Markup('{} <span class="ru">{}</span>').format(en, ru)


@dataclass(frozen=True)
class Links:
    """Where each page lives: under the console's prefix, or as a static file tree."""

    prefix: str = "/erzl"
    static: bool = False
    depth: int = 0  # static pages: how deep the page being rendered is

    def _static(self, path: str) -> str:
        return "../" * self.depth + path

    def home(self) -> str:
        return self._static("index.html") if self.static else f"{self.prefix}/"

    def run(self, run_id: str) -> str:
        if self.static:
            return self._static(f"runs/{safe_name(run_id)}.html")
        return f"{self.prefix}/runs/{quote(run_id, safe='')}"

    def file(self, file_id: int) -> str:
        if self.static:
            return self._static(f"files/{file_id}.html")
        return f"{self.prefix}/files/{file_id}"

    def sender(self, sender: str) -> str:
        if self.static:
            return self._static(f"senders/{safe_name(sender)}.html")
        return f"{self.prefix}/senders/{quote(sender, safe='')}"

    def senders(self) -> str:
        return self._static("senders.html") if self.static else f"{self.prefix}/senders"

    def rule(self, code: str) -> str:
        if self.static:
            return self._static(f"rules/{safe_name(code)}.html")
        return f"{self.prefix}/rules/{quote(code, safe='')}"

    def rules(self) -> str:
        return self._static("rules.html") if self.static else f"{self.prefix}/rules"

    def review(self) -> str:
        return self._static("review.html") if self.static else f"{self.prefix}/review"

    def person(self, enp: str) -> str | None:
        if self.static:
            return None  # person pages are served live only: one per insured person
        return f"{self.prefix}/persons/{quote(enp, safe='')}"

    def data_docs(self, run_id: str, file_id: int) -> str:
        if self.static:
            return self._static(f"data_docs/{safe_name(run_id)}/{file_id}.html")
        return f"{self.prefix}/data-docs/{quote(run_id, safe='')}/{file_id}"

    def nested(self, depth: int) -> Links:
        return Links(self.prefix, self.static, depth)


def _when(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _short(name: str, width: int = 18) -> str:
    """A file name short enough for a chart's axis: its end, where names differ."""
    stem = name.rsplit(".", 1)[0]
    return stem if len(stem) <= width else "…" + stem[-(width - 1) :]


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


class Site:
    """Renders every page of the console with one set of templates."""

    def __init__(self, links: Links | None = None) -> None:
        self.links = links or Links()
        self.env = Environment(
            loader=PackageLoader("pipelines.console", "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(
            label=label,
            plain=plain,
            LABELS=LABELS,
            OUTCOMES=list(OUTCOME_SERIES),
            when=_when,
            percent=_percent,
        )

    def render(self, template: str, *, depth: int = 0, **values: Any) -> str:
        links = self.links.nested(depth) if self.links.static else self.links
        return self.env.get_template(template).render(links=links, **values)

    @staticmethod
    def outcome_chart(periods, title: str) -> str:
        names = {k: LABELS[k][0] for k in OUTCOME_SERIES}
        return charts.stacked_bars(periods, OUTCOME_SERIES, title=title, labels=names)

    @staticmethod
    def count_chart(periods: list[tuple[str, int]], title: str) -> str:
        return charts.stacked_bars(
            [(p, {"count": n}) for p, n in periods], ("count",), title=title,
            labels={"count": "records"},
        )  # fmt: skip

    # --- the pages ------------------------------------------------------------------------
    # Each takes an open session and returns the page, or None when what it names is unknown.

    def runs_page(self, session, **extra: Any) -> str:
        from pipelines.console import data

        runs = data.runs(session)
        chart = self.outcome_chart(
            [(r.id[-16:], r.counts) for r in reversed(runs[:40]) if r.counts["received"]],
            "Records by outcome, latest runs · Записи по результатам, последние запуски",
        )
        return self.render("runs.html", runs=runs, chart=chart, **extra)

    def run_page(self, session, settings, run_id: str, **extra: Any) -> str | None:
        from pipelines.console import data

        page = data.run_page(session, run_id)
        if page is None:
            return None
        chart = self.outcome_chart(
            [(_short(f.name), f.counts) for f in page.files if f.counts["received"]][:60],
            "Records by outcome, per file · Записи по результатам, по файлам",
        )
        docs = {f.id for f in page.files if data_docs_file(settings, f.received_run_id, f.id)}
        return self.render("run.html", depth=1, page=page, chart=chart, docs=docs, **extra)

    def file_page(self, session, settings, file_id: int, **extra: Any) -> str | None:
        from pipelines.console import data

        page = data.file_page(session, file_id)
        if page is None:
            return None
        docs = data_docs_file(settings, page.file.received_run_id, file_id) is not None
        return self.render("file.html", depth=1, page=page, docs=docs, **extra)

    def senders_page(self, session, **extra: Any) -> str:
        from pipelines.console import data

        return self.render("senders.html", senders=data.senders(session), **extra)

    def sender_page(self, session, sender: str, **extra: Any) -> str | None:
        from pipelines.console import data

        page = data.sender_page(session, sender)
        if page is None:
            return None
        trend = self.outcome_chart(page.trend, "Records by outcome, per month received")
        quarters = self.outcome_chart(
            page.quarters, "Records of the reports in force, per reporting quarter"
        )
        return self.render(
            "sender.html", depth=1, page=page, trend_chart=trend, quarter_chart=quarters, **extra
        )

    def rules_page(self, session, **extra: Any) -> str:
        from pipelines.console import data
        from pipelines.register.models import ReceivedFile

        rules = data.rule_counts(session, ReceivedFile.id.is_not(None))
        return self.render("rules.html", rules=rules, **extra)

    def rule_page(self, session, code: str, **extra: Any) -> str | None:
        from pipelines.console import data

        page = data.rule_page(session, code)
        if page is None:
            return None
        chart = self.count_chart(page.trend, f"{code}, per month received · по месяцам")
        return self.render("rule.html", depth=1, page=page, chart=chart, **extra)

    def review_page(self, session, settings, **extra: Any) -> str:
        from pipelines.console import data
        from pipelines.review import list_decisions, list_held

        held = []
        for h in list_held(session, settings):
            item = h.to_json()
            item["codes"] = [data.rule_text(c if isinstance(c, str) else c["code"])
                             for c in item["codes"]]  # fmt: skip
            held.append(item)
        return self.render(
            "review.html",
            held=held,
            decided=list_decisions(session, limit=50),
            confirm_accept=settings.review_confirm_accept,
            **extra,
        )

    def person_page(self, session, enp: str, **extra: Any) -> str | None:
        from pipelines.console import data

        page = data.person_page(session, enp)
        if page is None:
            return None
        return self.render("person.html", depth=1, page=page, **extra)

    def error_page(self, status: str, text_en: str, text_ru: str, **extra: Any) -> str:
        return self.render("error.html", status=status, text_en=text_en, text_ru=text_ru, **extra)


def data_docs_file(settings, run_id: str, file_id: int):
    """The Data Docs page of a validated file, or None when there is none. ``run_id`` is the
    run that received the file (validate.docs keeps the page there, whoever applied it)."""
    from pipelines.validate.docs import data_docs_path

    path = data_docs_path(settings, run_id, file_id)
    return path if path.is_file() else None
