"""Settings, read from the environment once per call site: no module-level side effects.

Every domain assumption the code makes has a setting here; docs/architecture.md lists them.
"""

from __future__ import annotations

import calendar
import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

DEFAULT_REGION = "45"

# (first processing date the rule applies to, minimum months of ВП contributions), DOMAIN.md §3.
# The fund extends it with ERZL_FOREIGN_RULES="2026-01-01:60,2028-01-01:72"; ERZL_FOREIGN_MIN_MONTHS
# overrides every row.
DEFAULT_FOREIGN_RULES: tuple[tuple[date, int], ...] = (
    (date(1900, 1, 1), 36),
    (date(2026, 1, 1), 60),
)

# КодСостСтат (СОСТАГС reference book, ROGDINF) and СтатусЗаписи/@КодСтатус (ROGDZP: 01, 02, 03,
# 07) → what to do with a record. Neither reference book is public. *Assumption*: the codes below
# (for ROGDZP only 01, which a public sample pairs with «запись акта первичная»; 02, 03 and 07 are
# held for review until the fund says what they mean); ERZL_ZAGS_STATUS_CODES="code:action,..."
# replaces the table. Unknown codes are held for review.
DEFAULT_ZAGS_STATUSES: dict[str, str] = {
    "0001": "enrol",  # актуальная запись (record in force)
    "0002": "enrol",  # запись с исправлениями/изменениями (corrected, still in force)
    "0003": "not_applicable",  # запись аннулирована (annulled)
    "0004": "not_applicable",  # запись признана недействительной (voided by a court)
    "01": "enrol",  # ROGDZP: запись акта первичная (the act record as first drawn up)
}


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    region: str
    insurers_csv: Path | None
    foreign_rules: tuple[tuple[date, int], ...]
    foreign_min_months_override: int | None
    zags_statuses: dict[str, str] = field(default_factory=dict)
    max_file_bytes: int = 2 * 1024**3  # a larger file is quarantined (F007)
    # a foreign worker's policy term: "calendar_year" (to 31 December of the year it starts) or
    # "months:N" (N months from its start); ERZL_FOREIGN_POLICY_TERM
    foreign_policy_term: str = "calendar_year"
    newborn_insurer_rule: str = "mother"  # "mother" first, else shares; "shares" ignores mother
    # a file in the inbox whose size or mtime changed this recently is left for the next run
    settle_seconds: float = 10.0
    # how long a run's claim on its files holds without renewal; then another run takes over
    lease_seconds: float = 600.0
    # how long a run waits for a file another live run is applying before reporting it in flight
    wait_seconds: float = 60.0
    # plausibility bounds of the birth rules (Z014, Z015, Z016)
    earliest_birth_year: int = 1900
    min_parent_age: int = 12
    max_birth_order: int = 10
    # maker-checker: an analyst's acceptance of a held record takes effect only when a second
    # analyst confirms it (ERZL_REVIEW_CONFIRM_ACCEPT); a rejection applies at once
    review_confirm_accept: bool = True

    @property
    def inbox(self) -> Path:
        return self.home / "inbox"

    def feed_inbox(self, feed: str) -> Path:
        return self.inbox / feed

    @property
    def archive(self) -> Path:
        return self.home / "archive"

    @property
    def quarantine(self) -> Path:
        return self.home / "quarantine"

    @property
    def work(self) -> Path:
        return self.home / "work"

    @property
    def outbox(self) -> Path:
        return self.home / "outbox"

    def foreign_min_months(self, on: date) -> int:
        """The threshold in force on a processing date (the dated rule table, or the override)."""
        if self.foreign_min_months_override is not None:
            return self.foreign_min_months_override
        months = self.foreign_rules[0][1]
        for since, value in sorted(self.foreign_rules):
            if on >= since:
                months = value
        return months

    def foreign_policy_end(self, start: date) -> date:
        """The last day of a foreign worker's policy term that starts on ``start``."""
        if self.foreign_policy_term == "calendar_year":
            return date(start.year, 12, 31)
        months = int(self.foreign_policy_term.split(":", 1)[1])
        year, month0 = divmod(start.month - 1 + months, 12)
        year, month = start.year + year, month0 + 1
        last = calendar.monthrange(year, month)[1]
        if start.day > last:  # 31 January + 1 month: the term ends with February
            return date(year, month, last)
        return date(year, month, start.day) - timedelta(days=1)

    def foreign_rule_label(self, on: date) -> str:
        if self.foreign_min_months_override is not None:
            return f"ERZL_FOREIGN_MIN_MONTHS={self.foreign_min_months_override}"
        since = max(s for s, _ in self.foreign_rules if s <= on)
        return f"326-FZ art.10 p.1.1: {self.foreign_min_months(on)} months (in force from {since})"


def _parse_rules(text: str) -> tuple[tuple[date, int], ...]:
    rows = []
    for item in text.split(","):
        since, months = item.strip().split(":")
        rows.append((date.fromisoformat(since), int(months)))
    return tuple(sorted(rows))


def _parse_statuses(text: str) -> dict[str, str]:
    table = {}
    for item in text.split(","):
        code, action = item.strip().split(":")
        if action not in {"enrol", "not_applicable", "review"}:
            raise ValueError(f"ERZL_ZAGS_STATUS_CODES: unknown action {action!r} for {code}")
        table[code] = action
    return table


def load(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    home = Path(env.get("ERZL_HOME", "./var")).resolve()
    region = env.get("ERZL_FUND_REGION", DEFAULT_REGION)
    if len(region) != 2 or not region.isdigit():
        raise ValueError(f"ERZL_FUND_REGION must be two digits, got {region!r}")
    database_url = env.get("ERZL_DATABASE_URL") or f"sqlite:///{home / 'register.sqlite3'}"
    insurers = env.get("ERZL_INSURERS")
    rules = DEFAULT_FOREIGN_RULES
    if env.get("ERZL_FOREIGN_RULES"):
        rules = tuple(
            sorted({**dict(rules), **dict(_parse_rules(env["ERZL_FOREIGN_RULES"]))}.items())
        )
    override = env.get("ERZL_FOREIGN_MIN_MONTHS")
    statuses = (
        _parse_statuses(env["ERZL_ZAGS_STATUS_CODES"])
        if env.get("ERZL_ZAGS_STATUS_CODES")
        else dict(DEFAULT_ZAGS_STATUSES)
    )
    return Settings(
        home=home,
        database_url=database_url,
        region=region,
        insurers_csv=Path(insurers).resolve() if insurers else None,
        foreign_rules=rules,
        foreign_min_months_override=int(override) if override else None,
        zags_statuses=statuses,
        newborn_insurer_rule=env.get("ERZL_NEWBORN_INSURER_RULE", "mother"),
        max_file_bytes=int(float(env.get("ERZL_MAX_FILE_MB", "2048")) * 1024**2),
        foreign_policy_term=_parse_term(env.get("ERZL_FOREIGN_POLICY_TERM", "calendar_year")),
        settle_seconds=_number(env, "ERZL_SETTLE_SECONDS", 10.0),
        lease_seconds=_number(env, "ERZL_LEASE_SECONDS", 600.0),
        wait_seconds=_number(env, "ERZL_WAIT_SECONDS", 60.0),
        earliest_birth_year=int(_number(env, "ERZL_EARLIEST_BIRTH_YEAR", 1900)),
        min_parent_age=int(_number(env, "ERZL_MIN_PARENT_AGE", 12)),
        max_birth_order=int(_number(env, "ERZL_MAX_BIRTH_ORDER", 10)),
        review_confirm_accept=_flag(env, "ERZL_REVIEW_CONFIRM_ACCEPT", True),
    )


def _flag(env: dict[str, str], name: str, default: bool) -> bool:
    text = env.get(name, "").strip().lower()
    if not text:
        return default
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be true or false, got {text!r}")


def _number(env: dict[str, str], name: str, default: float) -> float:
    text = env.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {text!r}") from None
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {text!r}")
    return value


def _parse_term(text: str) -> str:
    text = text.strip()
    if text == "calendar_year":
        return text
    kind, _, months = text.partition(":")
    if kind != "months" or not months.isdigit() or int(months) < 1:
        raise ValueError(
            f"ERZL_FOREIGN_POLICY_TERM must be calendar_year or months:N, got {text!r}"
        )
    return f"months:{int(months)}"
