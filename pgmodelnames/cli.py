"""The pgmodelnames command line: thin wrappers around runner, doctor, backfill and demo."""

from __future__ import annotations

import argparse
import os
import sys

from pgmodelnames import __version__, config, errors
from pgmodelnames.errors import UserError

EXIT_CODES = """\
exit codes:
  0  success (doctor: healthy)
  1  doctor found problems
  2  bad usage or input
  3  cannot connect to the database (server down, wrong password, database missing)
  4  database not ready (app tables/columns missing, or pgmodelnames not installed)
  5  a lock was not obtained in time (a long transaction holds a table): retry later
  6  backfill: at least one endpoint failed (the answers of the others were applied)
  7  other database error
  8  rename: no llm_models row with that UUID
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, documented exit code
        self.exit(errors.USAGE, f"pgmodelnames: error: {message}\n")


def _common_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--database-url", metavar="URL", default=default,
                        help="PostgreSQL URL (else DATABASE_URL, else sqlalchemy.url in ./alembic.ini)")
    parser.add_argument("--schema", metavar="NAME", default=default,
                        help="the app schema holding llm_models and messages (else PGMODELNAMES_SCHEMA, else public)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pgmodelnames",
        description="Readable, distinct model names for LLM chat analytics, inside PostgreSQL.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"pgmodelnames {__version__}")
    _common_options(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _common_options(sub, suppress=True)
        return sub

    sub = add("upgrade", "apply the migrations (default: to head)")
    sub.add_argument("revision", nargs="?", default="head")
    sub.add_argument("--sql", action="store_true", help="print the SQL instead of running it")
    sub.add_argument("--providers", metavar="LIST",
                     help="comma-separated providers that get placeholders (default vllm)")

    sub = add("downgrade", "roll back to a revision (base = remove everything but the schema); never deletes rows")
    sub.add_argument("revision")
    sub.add_argument("--sql", action="store_true", help="print the SQL instead of running it")

    add("current", "print the installed revision")

    sub = add("uninstall", "remove everything pgmodelnames installed, its schema included; keep every app row")
    sub.add_argument("--sql", action="store_true", help="print the SQL instead of running it")

    sub = add("doctor", "explain why analytics show UUIDs, and what to run (works before install)")
    sub.add_argument("--json", action="store_true", help="one JSON document for scripts and monitoring")

    sub = add("backfill", "fill machine names from running vLLM servers' GET /v1/models")
    sub.add_argument("--endpoint", action="append", default=[], metavar="URL",
                     help="a vLLM server (http://host:8000 or http://host:8000/v1); repeatable")
    sub.add_argument("--api-key", metavar="KEY",
                     help="bearer token for the --endpoint servers only (else VLLM_API_KEY)")
    sub.add_argument("--map", action="append", default=[], metavar="UUID=SERVED_ID",
                     help="name this model after a served model id; repeatable")
    sub.add_argument("--register-new", action="store_true",
                     help="add llm_models rows for served models that have none")
    sub.add_argument("--user-id", metavar="UUID", help="owner of rows added by --register-new")
    sub.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    sub.add_argument("--json", action="store_true", help="one JSON document for scripts")
    sub.add_argument("--timeout", type=float, default=5.0, metavar="S", help="per-endpoint timeout (default 5)")
    sub.add_argument("--watch", type=float, metavar="S", help="repeat every S seconds until interrupted")

    sub = add("rename", "give one model a human name (never replaced by pgmodelnames)")
    sub.add_argument("uuid")
    sub.add_argument("name")

    add("demo", "show the problem and the fix on a scratch database, then clean up")
    return parser


def _settings(args: argparse.Namespace) -> config.Settings:
    url = config.database_url(args.database_url)
    return config.Settings(url=url, schema=config.app_schema(args.schema))


def run(args: argparse.Namespace) -> int:
    from pgmodelnames import runner

    if args.command == "demo":
        from pgmodelnames import demo

        return demo.run(args.database_url or None)

    settings = _settings(args)
    if args.command == "upgrade":
        providers = None
        if args.providers is not None:
            providers = [p.strip() for p in args.providers.split(",") if p.strip()]
            if not providers:
                raise UserError("--providers needs at least one provider name", errors.USAGE)
        if args.sql:
            runner.upgrade(settings, args.revision, sql=True, providers=providers)
            return errors.OK
        before, after = runner.upgrade(settings, args.revision, providers=providers)
        if providers is not None:
            print(f"pgmodelnames: covered providers are now {', '.join(providers)}")
        if before == after:
            print(f"pgmodelnames: already at {after}, nothing to do")
        else:
            print(f"pgmodelnames: upgraded {before or 'nothing'} -> {after}")
        return errors.OK
    if args.command == "downgrade":
        if args.sql:
            runner.downgrade(settings, args.revision, sql=True)
            return errors.OK
        before, after = runner.downgrade(settings, args.revision)
        print(f"pgmodelnames: downgraded {before or 'nothing'} -> {after or 'base'} (no rows deleted)")
        return errors.OK
    if args.command == "current":
        revision = runner.current(settings)
        print(revision if revision else "not installed")
        return errors.OK
    if args.command == "uninstall":
        if args.sql:
            runner.uninstall(settings, sql=True)
            return errors.OK
        kept = runner.uninstall(settings)
        if not kept.get("installed"):
            print("pgmodelnames: not installed, nothing to remove")
        else:
            print("pgmodelnames: removed the view, functions, triggers, constraints and the pgmodelnames schema; "
                  "kept every row of llm_models and messages, including "
                  f"{kept.get('machine_named_models', 0)} models named by pgmodelnames (their names stay)")
        return errors.OK
    if args.command == "doctor":
        from pgmodelnames import doctor

        return doctor.run(settings, as_json=args.json)
    if args.command == "rename":
        from pgmodelnames import rename

        return rename.run(settings, args.uuid, args.name)
    if args.command == "backfill":
        from pgmodelnames import backfill

        return backfill.run(settings, args)
    raise AssertionError(args.command)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    secrets: tuple[str, ...] = ()
    try:
        secrets = (config.url_password(config.database_url(args.database_url)),
                   getattr(args, "api_key", None) or "", os.environ.get("VLLM_API_KEY", ""))
    except UserError:
        pass
    try:
        return run(args)
    except UserError as exc:
        print(f"pgmodelnames: error: {errors.redact(str(exc), secrets)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("pgmodelnames: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `pgmodelnames upgrade --sql | head`
        sys.stderr.close()
        return errors.OK
