"""The pgmodelnames command line: the one face that parses, prints and exits.

It parses every command's options, resolves the database URL once (into
Settings), calls the commands (which return data and never print), renders
their reports through output.py, owns backfill's --watch loop, the questions
of backfill --assign and the signal handling, and maps every expected error
to one line and an exit code.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import sys
import threading
import uuid

from pgmodelnames import (__version__, backfill, candidates, config, db, doctor, errors, matching, names, output,
                          output_backfill, rename, render, runner, server_keys, sweep, vllm)
from pgmodelnames.errors import UserError
from pgmodelnames.names import clean_text


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, documented exit code
        self.exit(errors.USAGE, f"pgmodelnames: error: {names.terminal_safe(config.redact(message))}\n")


def _common_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--database-url", metavar="URL", default=default,
                        help="PostgreSQL URL (else DATABASE_URL, else sqlalchemy.url in ./alembic.ini)")
    parser.add_argument("--schema", metavar="NAME", default=default,
                        help="the app schema holding llm_models and messages (else PGMODELNAMES_SCHEMA, else public)")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text[:20]!r}") from None
    if not value == value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text[:20]!r}")
    return value


def _lock_wait(text: str) -> float:
    """--lock-wait: 0 would be lock_timeout's "wait forever", and a week is a mistake."""
    value = _seconds(text)
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"--lock-wait must be more than 0 and at most 3600 seconds, not {text[:20]}")
    return value


def _lock_attempts(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of attempts: {text[:20]!r}") from None
    if not 1 <= value <= 10000:
        raise argparse.ArgumentTypeError(f"--lock-attempts must be between 1 and 10000, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pgmodelnames",
        description="Readable, distinct model names for LLM chat analytics, inside PostgreSQL.",
        epilog=errors.exit_code_table(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"pgmodelnames {__version__}")
    _common_options(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _common_options(sub, suppress=True)
        return sub

    def migration_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--sql", action="store_true", help="print the SQL instead of running it")
        sub.add_argument("--lock-wait", type=_lock_wait, default=60.0, metavar="S",
                         help="wait at most S seconds for another pgmodelnames migration (default 60)")
        sub.add_argument("--lock-attempts", type=_lock_attempts, default=100, metavar="N",
                         help="attempts of 100 ms at the app's tables' locks before giving up (default 100, "
                              "about a minute); set inside the migration's transaction, so it also works "
                              "through a pooler that drops connection options (Supavisor)")

    sub = add("upgrade", "apply the migrations (default: to head)")
    sub.add_argument("revision", nargs="?", default="head",
                     help="the revision to reach: head (the default), 0007 or 0006")
    migration_options(sub)
    sub.add_argument("--providers", metavar="LIST",
                     help="comma-separated providers that get placeholders (default vllm)")
    sub.add_argument("--placeholders", choices=("trigger", "sweep"), metavar="MODE",
                     help="where placeholders come from: trigger, a trigger on messages (default), or sweep "
                          "(no trigger: `pgmodelnames sweep`, backfill, pg_cron)")

    sub = add("downgrade", "roll back to a revision (base = remove everything but the schema); never deletes rows")
    sub.add_argument("revision", help="the revision to go back to: base (removes everything but the schema "
                                      "and its version table), 0007 or 0006")
    migration_options(sub)

    add("current", "print the installed revision")

    sub = add("uninstall", "remove everything pgmodelnames installed, its schema included; keep every app row")
    migration_options(sub)

    sub = add("doctor", "explain why analytics show UUIDs, and what to run (works before install)")
    sub.add_argument("--json", action="store_true", help="one JSON document for scripts and monitoring")

    sub = add("backfill", "fill machine names from running vLLM servers' GET /v1/models")
    sub.add_argument("--endpoint", action="append", default=[], metavar="URL",
                     help="a vLLM server (http://host:8000 or http://host:8000/v1); repeatable")
    sub.add_argument("--api-key-env", action="append", default=[], metavar="URL=VAR",
                     help="the API key of the --endpoint URL is in the environment variable VAR; repeatable")
    sub.add_argument("--api-key-file", action="append", default=[], metavar="URL=PATH",
                     help="the API key of the --endpoint URL is in the file PATH; repeatable")
    sub.add_argument("--api-key", metavar="KEY",
                     help="the API key of the one --endpoint (else VLLM_API_KEY); shows in ps and shell history: "
                          "prefer --api-key-env or --api-key-file")
    sub.add_argument("--map", action="append", default=[], metavar="UUID=SERVED_ID",
                     help="name this model after a served model id (and record where it is served); repeatable")
    sub.add_argument("--assign", action="store_true",
                     help="on a terminal: go through the placeholders no server can match, most messages first, "
                          "and choose for each (a served model, a typed name, skip); confirm, then apply")
    sub.add_argument("--register-new", action="store_true",
                     help="add llm_models rows for served models that have none")
    sub.add_argument("--user-id", metavar="UUID", help="owner of rows added by --register-new")
    sub.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    sub.add_argument("--json", action="store_true", help="one JSON document for scripts")
    sub.add_argument("--timeout", type=_seconds, default=5.0, metavar="S", help="per-endpoint timeout (default 5)")
    sub.add_argument("--watch", type=_seconds, metavar="S", help="repeat every S seconds until interrupted")

    sub = add("sweep", "sweep mode: placeholders for the model ids new in messages since the last sweep")
    sub.add_argument("--full", action="store_true", help="read all of messages, not only what is new")
    sub.add_argument("--json", action="store_true", help="one JSON document for scripts")
    sub.add_argument("--schedule", nargs="?", const="* * * * *", metavar="CRON",
                     help="run it inside the database with pg_cron instead (default every minute: '* * * * *'), "
                          "plus a nightly full sweep")
    sub.add_argument("--full-schedule", default="17 3 * * *", metavar="CRON",
                     help="pg_cron schedule of the full sweep (default '17 3 * * *'; 'none' for none)")
    sub.add_argument("--unschedule", action="store_true", help="remove the pg_cron jobs")

    sub = add("rename", "give one model a human name (never replaced by pgmodelnames)")
    sub.add_argument("uuid", help="the model's id in llm_models (the UUID messages name)")
    sub.add_argument("name", help="its new name, e.g. \"Llama 3.1 8B\"")

    add("demo", "show the problem and the fix on a scratch database, then remove it: a database it creates "
                "(and drops) on the server --database-url or DATABASE_URL names, else a temporary PostgreSQL "
                "server of its own")
    return parser


# ----------------------------------------------------------------- printing

class Face:
    """Where output goes: stdout/stderr, with every secret masked."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        self.secrets = secrets

    def out(self, text: str) -> None:
        print(names.terminal_safe(config.redact(text, self.secrets)), flush=True)

    def err(self, text: str) -> None:
        print(names.terminal_safe(config.redact(text, self.secrets)), file=sys.stderr, flush=True)


# ----------------------------------------------------------------- backfill options

def backfill_options(args: argparse.Namespace, environ=None):
    """The backfill Options the command line asks for, and the notes to show
    (a key that is set but not sent). environ: for the API keys (default os.environ)."""

    if not 0 < args.timeout <= 600:
        raise UserError("--timeout must be between 0 and 600 seconds", errors.USAGE)
    if args.watch is not None and not 0 < args.watch <= 86400:
        raise UserError("--watch must be a positive number of seconds", errors.USAGE)
    for raw in args.endpoint:
        try:
            vllm.normalize_endpoint(raw)
        except vllm.EndpointError as exc:
            raise UserError(f"--endpoint {vllm.describe_url(raw)}: {exc}", errors.USAGE) from None
    maps: dict[str, str] = {}
    for item in args.map:
        model, sep, served = item.partition("=")
        try:
            model = str(uuid.UUID(model.strip()))
        except ValueError:
            model = ""
        served = served.strip()
        if not sep or not model or not served:
            raise UserError(f"--map {clean_text(item, 80)!r}: expected UUID=SERVED_ID "
                            "(the llm_models id and a model id a queried server lists)", errors.USAGE)
        if maps.get(model, served) != served:
            raise UserError(f"--map {model} is given twice with different served ids", errors.USAGE)
        maps[model] = served
    if args.watch is not None and args.dry_run:
        raise UserError("--watch and --dry-run do not go together (a dry run changes nothing to watch)",
                        errors.USAGE)
    if args.user_id and not args.register_new:
        raise UserError("--user-id only applies with --register-new", errors.USAGE)
    if args.assign and (args.json or args.watch is not None):
        raise UserError("--assign asks questions on a terminal: it does not go with --json or --watch", errors.USAGE)
    keys, notes = server_keys.resolve(args.endpoint, args.api_key_env, args.api_key_file, args.api_key, environ)
    options = matching.Options(tuple(args.endpoint), keys, tuple(maps.items()), bool(args.register_new),
                               args.user_id.strip() if args.user_id else None, bool(args.dry_run), args.timeout)
    return options, notes


def run_backfill(face: Face, settings: config.Settings, args: argparse.Namespace) -> int:
    options, notes = backfill_options(args)
    face.secrets = (*face.secrets, *(key.key for key in options.keys))
    for note in notes:
        face.err(f"pgmodelnames: note: {note}")
    if args.assign:
        return assign(face, settings, options)
    if args.watch is not None:
        return watch(face, settings, options, args.watch, args.json)
    report = backfill.run_pass(settings, options)
    face.out(render.as_json(output_backfill.backfill_json(report)) if args.json else output_backfill.backfill_text(report))
    return report.exit_code


def _ask(prompt: str) -> str | None:
    """One answer from the terminal; None at end of input (Ctrl-D)."""
    try:
        return input(prompt)
    except EOFError:
        print(flush=True)
        return None


def assign(face: Face, settings: config.Settings, options) -> int:
    """backfill --assign: the placeholders no server can match, one by one
    (most messages first) with their evidence and the numbered served
    models; then the plan, a confirmation, and one transaction (as --map).
    The servers are asked once: the choices are applied to the answers the
    person saw."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UserError("--assign asks questions and needs a terminal; without one, run "
                        "`pgmodelnames backfill --dry-run` and run the `pgmodelnames backfill --map UUID=SERVED_ID` "
                        "lines it prints", errors.USAGE)
    preview = backfill.run_pass(settings, dataclasses.replace(options, dry_run=True))
    face.out(output_backfill.assign_intro(preview))
    todo = preview.plan.unresolved
    failed = tuple(result.endpoint.url for result in preview.results if not result.ok)
    walk = candidates.Walk(todo, failed, preview.names)
    for index, entry in enumerate(todo):
        face.out("")
        face.out(output_backfill.assign_card(entry, index + 1, len(todo), walk.likeliest(index), walk.taken()))
        answer = None
        while answer is None:
            text = _ask(output_backfill.ASSIGN_PROMPT)
            answer = candidates.Answer("quit") if text is None else walk.answer(index, text)
            if answer.kind == "again":
                face.out(f"      {answer.problem}")
                answer = None
        if answer.note:
            face.out(f"      {answer.note}")
        if answer.kind == "quit":
            break
        walk.record(index, answer)
    chosen = dataclasses.replace(options, maps=options.maps + walk.maps(),
                                 names=options.names + tuple(walk.typed.items()))
    everything = frozenset(entry["model"] for entry in todo)
    plan = backfill.run_pass(settings, dataclasses.replace(chosen, dry_run=True), results=preview.results,
                             unusable=preview.unusable, known_placeholders=everything)
    face.out("")
    face.out(output_backfill.assign_plan(plan))
    if not plan.applied:
        face.out("nothing to do: nothing changed")
        return plan.exit_code
    if options.dry_run:
        face.out("dry run: nothing changed")
        return plan.exit_code
    if (_ask(output_backfill.CONFIRM_PROMPT) or "").strip().lower() not in ("y", "yes"):
        face.out("not confirmed: nothing changed")
        return errors.OK
    report = backfill.run_pass(settings, chosen, results=preview.results, unusable=preview.unusable,
                               known_placeholders=everything)
    candidates.attach_evidence(report.plan.unresolved, {entry["model"]: entry["evidence"] for entry in todo})
    face.out(output_backfill.backfill_text(report))
    return report.exit_code


def watch(face: Face, settings: config.Settings, options, interval: float, as_json: bool,
          stop: threading.Event | None = None) -> int:
    """Repeat the pass every `interval` seconds until SIGTERM/SIGINT (or
    `stop` is set), finishing the pass under way first. After the first pass
    only what changed is printed, and every new placeholder that needs a
    person at once, on one line (its own document with --json)."""
    stop = stop or threading.Event()
    handlers = {}
    if threading.current_thread() is threading.main_thread():
        def on_signal(signum, _frame):
            if stop.is_set() and signum == signal.SIGINT:
                raise KeyboardInterrupt  # a second Ctrl-C: stop now
            stop.set()
        for signum in (signal.SIGTERM, signal.SIGINT):
            handlers[signum] = signal.signal(signum, on_signal)
    passes, last_status, last_error, known = 0, None, None, None
    try:
        while True:
            passes += 1
            try:
                report = backfill.run_pass(settings, options, known_placeholders=frozenset(known or ()))
                last_error = None
            except UserError as exc:
                if passes == 1:
                    raise  # a first pass that cannot run is a setup mistake: exit with its code
                if str(exc) != last_error:
                    face.err(f"pgmodelnames: error: {exc} (retrying every {interval:g} s)")
                last_error = str(exc)
                report = None
            if report is not None:
                status = {e["url"]: (e["status"], e["error"]) for e in report.endpoints}
                waiting = {entry["model"]: entry for entry in report.plan.unresolved}
                if last_status is None:
                    face.out(output_backfill.as_json_line(output_backfill.backfill_json(report)) if as_json
                             else output_backfill.backfill_text(report))
                else:
                    moved = [e for e in report.endpoints if last_status.get(e["url"]) != status[e["url"]]]
                    text = output_backfill.backfill_changes(report, moved, as_json)
                    if text is not None:
                        face.out(text)
                    for model, entry in waiting.items():
                        if model not in known:
                            face.out(output_backfill.new_placeholder(report, entry, as_json))
                last_status, known = status, set(waiting)
            if stop.wait(interval):
                break
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    face.err(f"pgmodelnames: backfill --watch stopped after {passes} pass{'es' if passes != 1 else ''}")
    return errors.OK


# ----------------------------------------------------------------- the commands

def _providers(text: str | None) -> list[str] | None:
    if text is None:
        return None
    providers = [p.strip() for p in text.split(",") if p.strip()]
    if not providers:
        raise UserError("--providers needs at least one provider name", errors.USAGE)
    return providers


def run(face: Face, settings: config.Settings, args: argparse.Namespace) -> int:
    command = args.command
    if command in ("upgrade", "downgrade", "uninstall") and args.sql:
        out = sys.stdout
        if command == "upgrade":
            providers = _providers(args.providers)
            runner.upgrade(settings, args.revision, sql=True, output=out, placeholder_mode=args.placeholders,
                           lock_attempts=args.lock_attempts)
            if args.placeholders is not None:
                runner.set_placeholder_mode(settings, args.placeholders, sql=True, output=out)
            if providers is not None:
                runner.set_providers(settings, providers, sql=True, output=out)
        elif command == "downgrade":
            runner.downgrade(settings, args.revision, sql=True, output=out, lock_attempts=args.lock_attempts)
        else:
            runner.uninstall(settings, sql=True, output=out, lock_attempts=args.lock_attempts)
        return errors.OK
    if command == "upgrade":
        providers = _providers(args.providers)
        result = runner.upgrade(settings, args.revision, lock_wait=args.lock_wait, lock_attempts=args.lock_attempts,
                                placeholder_mode=args.placeholders)
        switched = None
        if args.placeholders is not None:
            switched = runner.set_placeholder_mode(settings, args.placeholders)
        if providers is not None:
            runner.set_providers(settings, providers)
        face.out(output.migrated_text(result, "upgrade", providers, switched))
        return errors.DATABASE_ERROR if result.history_error else errors.OK
    if command == "sweep":
        if args.unschedule:
            if args.schedule is not None or args.full:
                raise UserError("--unschedule goes alone", errors.USAGE)
            face.out(output.unscheduled_text(sweep.unschedule(settings)))
            return errors.OK
        if args.schedule is not None:
            full_every = None if args.full_schedule.strip().lower() == "none" else args.full_schedule
            face.out(output.scheduled_text(sweep.schedule(settings, args.schedule, full_every)))
            return errors.OK
        result = sweep.run(settings, full=args.full)
        face.out(render.as_json(result) if args.json else output.sweep_text(result))
        return errors.OK
    if command == "downgrade":
        face.out(output.migrated_text(runner.downgrade(settings, args.revision, lock_wait=args.lock_wait,
                                                                       lock_attempts=args.lock_attempts),
                                      "downgrade"))
        return errors.OK
    if command == "uninstall":
        face.out(output.uninstalled_text(runner.uninstall(settings, lock_wait=args.lock_wait, lock_attempts=args.lock_attempts)))
        return errors.OK
    if command == "current":
        revision = db.current(settings)
        face.out(revision if revision else "not installed")
        return errors.OK
    if command == "doctor":
        report = doctor.diagnose(settings)
        face.out(render.as_json(report) if args.json else output.doctor_text(report))
        return errors.OK if report["healthy"] else errors.PROBLEMS_FOUND
    if command == "rename":
        line, note = output.renamed_text(rename.rename(settings, args.uuid, args.name))
        face.out(line)
        if note:
            face.err(note)
        return errors.OK
    if command == "backfill":
        return run_backfill(face, settings, args)
    raise AssertionError(command)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    face = Face()
    try:
        if args.command == "demo":
            from pgmodelnames import demo  # its temporary server, which no other command needs

            return demo.run(args.database_url or None)
        # Every key this run may hold is masked in anything it prints; the per-endpoint ones
        # join when backfill reads them.
        keys = tuple(k for k in (getattr(args, "api_key", None), os.environ.get("VLLM_API_KEY")) if k)
        face.secrets = keys
        settings = config.settings(args.database_url, args.schema, keys)
        face.secrets = settings.secrets
        return run(face, settings, args)
    except UserError as exc:
        face.err(f"pgmodelnames: error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        face.err("pgmodelnames: interrupted")
        return errors.INTERRUPTED
    except BrokenPipeError:  # e.g. `pgmodelnames upgrade --sql | head`
        sys.stderr.close()
        return errors.OK
