"""``erzl``: the command line. Every command goes through the same code the DAGs run."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date
from pathlib import Path

from pipelines import config

log = logging.getLogger("pipelines")

EXIT_VIOLATIONS = 1  # erzl check found a broken invariant
EXIT_USAGE = 2  # bad arguments or configuration
EXIT_FAILURE = 3  # the command failed (database, disk, internal); the line says which
EXIT_REFUSED = 4  # erzl ingest: a file was quarantined or refused whole
EXIT_NOTHING = 5  # erzl ingest: nothing to ingest
EXIT_NOT_RESOLVED = 6  # erzl review resolve: the resolution was refused (V001…)


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time, so a replaced stream is never held."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _setup_logging(verbose: bool) -> None:
    from pipelines.privacy import RedactFilter

    root = logging.getLogger()
    if not any(isinstance(h, _Stderr) for h in root.handlers):
        handler = _Stderr()
        handler.addFilter(RedactFilter())
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("pipelines").setLevel(logging.INFO if verbose else logging.WARNING)


def _print_lines(rows) -> None:
    for row in rows:
        sys.stdout.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


def cmd_ingest(args, settings: config.Settings) -> int:
    from pipelines.run import ingest

    paths: list[Path] = []
    for given in map(Path, args.paths):
        if given.is_dir():  # a directory stands for the files in it, by name
            paths.extend(sorted(p for p in given.iterdir() if p.is_file()))
        elif given.is_file():
            paths.append(given)
        else:
            print(f"erzl ingest: no such file or directory: {given}", file=sys.stderr)
            return EXIT_USAGE
    progress = _Progress(sys.stderr) if not args.json else None
    summaries, run = ingest(settings, paths, as_of=args.as_of, progress=progress)
    if progress is not None:
        progress.done()
    if args.json:
        _print_lines([s.as_json() for s in summaries] + [run.as_json()])
    else:
        for s in summaries:
            print(
                f"{s.file}: {s.status} — received {s.received}, accepted {s.accepted}, "
                f"rejected {s.rejected}, review {s.review}, duplicate {s.duplicate}, "
                f"not applicable {s.not_applicable}; receipt {s.receipt}"
            )
        print(
            f"run {run.run_id}: {run.enrolled} enrolled, {run.policies_issued} policies issued, "
            f"{run.review} held for review; report {', '.join(run.reports)}"
        )
    if not summaries:
        print("erzl ingest: nothing to ingest", file=sys.stderr)
        return EXIT_NOTHING
    if any(s.status in ("quarantined", "rejected") for s in summaries):
        return EXIT_REFUSED
    return 0


class _Progress:
    """What `erzl ingest` is doing, on stderr: one line rewritten in place on a terminal (n of
    N, the file, its records), one line per file otherwise. File names only, never values."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.shown = False

    def __call__(self, done: int, total: int, summary) -> None:
        line = f"[{done}/{total}] {summary.file}: {summary.status}, {summary.received} record(s)"
        if self.tty:
            self.stream.write("\r\033[K" + line[:200])
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self.shown = True

    def done(self) -> None:
        if self.tty and self.shown:
            self.stream.write("\n")


def cmd_status(_args, settings: config.Settings) -> int:
    """The settings in effect, the database and its migration level, and the work waiting."""
    from alembic.migration import MigrationContext
    from sqlalchemy import func, select

    from pipelines.intake import FEEDS
    from pipelines.register import db
    from pipelines.register.models import ReceivedFile, Run
    from pipelines.run import UNFINISHED, run_is_live

    url = db.engine(settings).url.render_as_string(hide_password=True)
    print(f"data directory   {settings.home}")
    print(f"register         {url}")
    with db.engine(settings).connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
    print(f"migration level  {revision or 'none (run erzl db upgrade)'}")
    if settings.insurers_csv is None:
        print("insurers         DEMO LIST shipped with the package: set ERZL_INSURERS (!)")
    else:
        print(f"insurers         {settings.insurers_csv}")
    print(f"fund region      {settings.region}")
    print(
        f"contribution term {settings.foreign_min_months(date.today())} months today "
        f"({settings.foreign_rule_label(date.today())})"
    )
    for feed in FEEDS:
        inbox = settings.feed_inbox(feed)
        waiting = sum(1 for p in inbox.iterdir() if p.is_file()) if inbox.is_dir() else 0
        print(f"inbox {feed:<11} {waiting} file(s) waiting")
    quarantined = sum(1 for _ in settings.quarantine.rglob("*.reason.txt"))
    print(f"quarantine       {quarantined} file(s)")
    if revision is None:
        return 0
    with db.session_scope(settings) as session:
        stuck = session.scalar(select(func.count()).where(ReceivedFile.state.in_(UNFINISHED)))
        running = session.scalars(select(Run).where(Run.status == "running")).all()
    dead = [r.id for r in running if not run_is_live(r)]
    print(f"unfinished files {stuck} (erzl recover finishes those of runs that died)")
    print(f"runs running     {len(running)}, of which dead: {len(dead)}")
    return 0


def cmd_check(args, settings: config.Settings) -> int:
    from pipelines.check import check
    from pipelines.register import db
    from pipelines.run import ensure_schema

    ensure_schema(settings)
    with db.session_scope(settings) as session:
        found = check(session, settings, hashes=not args.skip_hashes)
    if args.json:
        _print_lines([v.as_json() for v in found])
    else:
        for violation in found:
            print(violation.line())
        print(
            f"erzl check: {len(found)} violation(s)" if found else "erzl check: all invariants hold"
        )
    return EXIT_VIOLATIONS if found else 0


def cmd_recover(args, settings: config.Settings) -> int:
    """Take over what runs that died left, as a run of its own; ``--list`` only shows it."""
    from pipelines import run
    from pipelines.register import db

    run.ensure_schema(settings)
    if args.list:
        from pipelines.check import check

        with db.session_scope(settings) as session:
            wanted = ("I03", "I04", "I09")  # stuck files, dead runs, notices never written
            stuck = [v for v in check(session, settings, hashes=False) if v.code in wanted]
        for violation in stuck:
            print(violation.line())
        stranded = sorted(p for p in settings.work.glob("*/*") if p.is_file())
        for path in stranded:
            print(f"claimed, not journalled: {path.relative_to(settings.home)}")
        print(f"{len(stuck) + len(stranded)} item(s) to recover")
        return 0
    run_id = run.start_run(settings, as_of=args.as_of, trigger="recover")
    file_ids = run.recover(settings, run_id)
    summaries = [run.process_file(settings, run_id, file_id) for file_id in file_ids]
    totals = run.finish_run(settings, run_id)
    _print_lines([s.as_json() for s in summaries] + [totals.as_json()])
    return 0


def cmd_db_upgrade(_args, settings: config.Settings) -> int:
    from pipelines.register import db

    db.upgrade(settings)
    print("register schema is up to date")
    return 0


def cmd_register_load(args, settings: config.Settings) -> int:
    from pipelines.enrol.register_load import LoadError, load_register
    from pipelines.register import db
    from pipelines.run import ensure_schema

    ensure_schema(settings)
    progress = _LoadProgress(sys.stderr)
    try:
        try:
            with db.session_scope(settings) as session:
                counts = load_register(session, Path(args.file), progress=progress)
        finally:
            progress.done()  # what is printed next starts a line of its own
    except (LoadError, FileNotFoundError) as exc:
        print(f"erzl register load: {exc}", file=sys.stderr)
        return 2
    print(f"loaded {counts['loaded']}, already present {counts['already_present']}")
    return 0


class _LoadProgress(_Progress):
    """What `erzl register load` is doing, on stderr, after each chunk written: rows read so
    far (and the share of the file), loaded, already present. Counts only, never values."""

    def __call__(self, state) -> None:
        share = f" ({100 * state.bytes_read // state.bytes_total}%)" if state.bytes_total else ""
        line = (
            f"register load: {state.rows} row(s) read{share}, loaded {state.loaded}, "
            f"already present {state.already_present}"
        )
        if self.tty:
            self.stream.write("\r\033[K" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self.shown = True


def cmd_register_export(_args, settings: config.Settings) -> int:
    from pipelines.register import db, exports
    from pipelines.run import ensure_schema

    ensure_schema(settings)
    with db.session_scope(settings) as session:
        _print_lines(exports.persons(session))
    return 0


def cmd_records_export(_args, settings: config.Settings) -> int:
    from pipelines.register import db, exports
    from pipelines.run import ensure_schema

    ensure_schema(settings)
    with db.session_scope(settings) as session:
        _print_lines(exports.records(session))
    return 0


def cmd_policy(args, settings: config.Settings) -> int:
    from pipelines.emit.policy_card import render_policy
    from pipelines.register import db, exports
    from pipelines.run import ensure_schema

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        print(f"erzl policy: --out {out} is not a directory", file=sys.stderr)
        return EXIT_USAGE
    ensure_schema(settings)
    with db.session_scope(settings) as session:
        extract = exports.policy_extract(session, args.enp, settings.region)
    if extract is None:
        print(f"erzl policy: no policy {args.enp} in the register", file=sys.stderr)
        return 1
    for path in render_policy(extract, out):
        print(path)
    return 0


def cmd_renew(args, settings: config.Settings) -> int:
    from pipelines.run import renew

    result = renew(settings, as_of=args.as_of or date.today(), dry_run=args.dry_run)
    _print_lines([result])
    return 0


def cmd_review_list(args, settings: config.Settings) -> int:
    """The records held for review: one line each, or one JSON object each (``--json``)."""
    from pipelines import review
    from pipelines.register import db
    from pipelines.run import ensure_schema

    ensure_schema(settings)
    review.emit_pending(settings)
    with db.session_scope(settings) as session:
        held = review.list_held(session, settings)
    if args.json:
        _print_lines([h.to_json() for h in held])
        return 0
    for h in held:
        pending = (
            f", accepted by {h.pending.decided_by}: awaiting confirmation" if h.pending else ""
        )
        print(
            f"{h.key}  {h.feed}  {h.file_name}  {h.record_key or '-'}  "
            f"{','.join(c.code for c in h.codes)}  allowed: {','.join(h.allowed) or '-'}{pending}"
        )
    print(f"{len(held)} record(s) held for review")
    return 0


def cmd_review_resolve(args, settings: config.Settings) -> int:
    """Accept or reject one held record, as the analyst ``--as`` names (default ERZL_ANALYST,
    then the login name); an acceptance may wait for a second analyst to confirm it."""
    from pipelines import review

    user = args.user or review.default_analyst()
    action = review.ACCEPT if args.accept else review.REJECT
    try:
        done = review.resolve_and_emit(
            settings, args.key, action, args.note, user, as_of=args.as_of
        )
    except review.ReviewError as refused:
        print(f"erzl review resolve: {refused.line}", file=sys.stderr)
        return EXIT_NOT_RESOLVED
    if args.json:
        _print_lines([done.to_json()])
    elif done.state == review.AWAITING:
        print(
            f"{done.key}: accepted by {done.decided_by}, awaiting a second analyst's confirmation"
        )
    else:
        enp = f", ЕНП {done.enp}" if done.enp else ""
        print(f"{done.key}: {done.action} applied in run {done.run_id}: {done.outcome}{enp}")
        for path in done.outputs:
            print(f"  wrote {path}")
    return 0


def cmd_demo(args, settings: config.Settings) -> int:
    from pipelines.demo.runner import run_demo

    return run_demo(settings, seed=args.seed, use_airflow=not args.no_airflow, serve=args.serve)


def cmd_report(args, settings: config.Settings) -> int:
    from pipelines.console.static import write_site
    from pipelines.register import db

    out = Path(args.out) if args.out else settings.outbox / "reports"
    with db.session_scope(settings) as session:
        written = write_site(session, settings, out)
    print(f"{len(written)} page(s) under {out}; open {(out / 'index.html').as_uri()}")
    return 0


def cmd_console(args, settings: config.Settings) -> int:
    from pipelines.console.serve import passwords_file, serve, stop

    if args.stop:
        print("console stopped" if stop(settings) else "no console was running")
        return 0

    def ready(url: str) -> None:
        print(f"console: {url}  (sign in as an analyst; passwords: {passwords_file(settings)})")
        print("in the background; `erzl console --stop` stops it" if args.background
              else "Ctrl-C stops it.", flush=True)  # fmt: skip

    return serve(settings, port=args.port, ready=ready, background=args.background)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="erzl",
        description="Interagency intake for the ОМС register: births (ЕГР ЗАГС) and "
        "employer contribution reports (ФНС РСВ) to electronic policies.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="on a failure, also print where it happened (frames only, never values)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="generate sample drops and run them through the Airflow DAGs")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--no-airflow", action="store_true", help="run the same steps without Airflow")
    p.add_argument(
        "--serve", action="store_true",
        help="then start the analysts' console in the background and print its link",
    )  # fmt: skip
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("report", help="write the analysts' console as static HTML pages")
    p.add_argument("--out", help="directory (default: outbox/reports)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("console", help="serve the analysts' console with Airflow's API server")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--background", action="store_true", help="leave it running and return")
    p.add_argument("--stop", action="store_true", help="stop the one running in the background")
    p.set_defaults(func=cmd_console)

    p = sub.add_parser("ingest", help="process files exactly as the DAGs do, as one run")
    p.add_argument("paths", nargs="+", help="files, or directories of files")
    p.add_argument("--as-of", type=date.fromisoformat, help="processing date (default: today)")
    p.add_argument("--json", action="store_true", help="one JSON object per file, then the run")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("renew", help="yearly renewal of foreign workers' policies")
    p.add_argument("--as-of", type=date.fromisoformat, help="processing date (default: today)")
    p.add_argument("--dry-run", action="store_true", help="count, change nothing")
    p.set_defaults(func=cmd_renew)

    p = sub.add_parser("status", help="settings in effect, database, backlog, stuck work")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("check", help="check the register's invariants; non-zero when one fails")
    p.add_argument("--json", action="store_true", help="one JSON object per violation")
    p.add_argument("--skip-hashes", action="store_true", help="do not re-hash the archived files")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("recover", help="finish what runs that died left: stuck and stranded files")
    p.add_argument("--list", action="store_true", help="only list what would be recovered")
    p.add_argument("--as-of", type=date.fromisoformat, help="processing date (default: today)")
    p.set_defaults(func=cmd_recover)

    p = sub.add_parser("db", help="database maintenance")
    dbsub = p.add_subparsers(dest="db_command", required=True)
    dbsub.add_parser("upgrade", help="apply the migrations").set_defaults(func=cmd_db_upgrade)

    p = sub.add_parser("register", help="the register itself")
    rsub = p.add_subparsers(dest="register_command", required=True)
    load = rsub.add_parser("load", help="initial load of the fund's register from CSV")
    load.add_argument("file")
    load.set_defaults(func=cmd_register_load)
    rsub.add_parser("export", help="one JSON line per person").set_defaults(
        func=cmd_register_export
    )

    p = sub.add_parser("records", help="received records")
    rsub = p.add_subparsers(dest="records_command", required=True)
    rsub.add_parser("export", help="one JSON line per received record").set_defaults(
        func=cmd_records_export
    )

    p = sub.add_parser("review", help="the review queue: records held for an analyst")
    vsub = p.add_subparsers(dest="review_command", required=True)
    v = vsub.add_parser("list", help="every held record, with its key and the actions allowed")
    v.add_argument("--json", action="store_true", help="one JSON object per held record")
    v.set_defaults(func=cmd_review_list)
    v = vsub.add_parser("resolve", help="accept or reject a held record (KEY from review list)")
    v.add_argument("key", help="the record's key, <file id>:<seq>")
    what = v.add_mutually_exclusive_group(required=True)
    what.add_argument("--accept", action="store_true", help="enrol it as if it had passed")
    what.add_argument("--reject", action="store_true", help="reject it; the sender is told")
    v.add_argument("--note", required=True, help="why: kept with the decision")
    v.add_argument(
        "--as", dest="user", help="the analyst deciding (default ERZL_ANALYST, the login name)"
    )
    v.add_argument("--as-of", type=date.fromisoformat, help="processing date (default: today)")
    v.add_argument("--json", action="store_true", help="the resolution as one JSON object")
    v.set_defaults(func=cmd_review_resolve)

    p = sub.add_parser("policy", help="render an electronic policy: barcode and extract")
    p.add_argument("enp")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_policy)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose)
    try:
        settings = config.load()
    except ValueError as exc:
        print(f"erzl: configuration: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return args.func(args, settings)
    except BrokenPipeError:  # `erzl register export | head`: the reader has what it wanted
        sys.stderr.close()
        return 0
    except Exception as exc:  # the boundary: one line, a stable code, no values
        from pipelines.errors import describe, frames

        if args.debug:
            sys.stderr.write(frames(exc))
        print(f"erzl {args.command}: {describe(exc)}", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    raise SystemExit(main())
