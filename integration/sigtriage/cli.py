"""Command line: argument parsing, exception -> exit code, and the only place that prints."""

from __future__ import annotations

import os
import signal
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from sigtriage import __version__
from sigtriage.errors import InputError, SigtriageError, UsageError
from sigtriage.model import AnalysisFailure
from sigtriage.model.codec import dumps, parse_datetime

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_ANALYSIS_FAILED = 4
EXIT_INTERRUPTED = 130


def _parse_at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_datetime(value)
    except ValueError as exc:
        raise UsageError(f"--at: not an ISO-8601 time: {value!r}") from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sigtriage")
def cli() -> None:
    """sigtriage: is this signed Windows binary signed in a way that deserves trust?"""


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON document per file (JSON Lines).")
@click.option("--trust-anchor", "anchors", multiple=True, type=click.Path(path_type=Path),
              help="Extra trusted root(s), PEM or DER (enterprise CA). Repeatable.")
@click.option("--no-microsoft-roots", is_flag=True, help="Trust only --trust-anchor roots.")
@click.option("--catalog", "catalogs", multiple=True, type=click.Path(path_type=Path),
              help="Security catalog (.cat) that may sign the files. Repeatable.")
@click.option("--at", "at", help="Evaluate trust at this ISO-8601 time instead of now.")
@click.option("--all-hashes", is_flag=True, help="Also compute MD5/SHA-1 of the file and the SHA-1 authentihash.")
@click.option("--workers", type=click.IntRange(1, 64), default=min(4, os.cpu_count() or 1), show_default=True,
              help="Worker processes for several files.")
@click.option("--timeout", type=click.FloatRange(1, 3600), default=120.0, show_default=True,
              help="Seconds allowed per file before it is reported as an error.")
def analyze(files: tuple[Path, ...], as_json: bool, anchors: tuple[Path, ...], no_microsoft_roots: bool,
            catalogs: tuple[Path, ...], at: str | None, all_hashes: bool, workers: int, timeout: float) -> None:
    """Analyse the Authenticode signatures of FILES (PE, MSI, catalogs; directories are walked)."""
    from sigtriage.batch import analyze_many, expand
    from sigtriage.extract.analyze import Options, load_catalogs
    from sigtriage.extract.trust import load_trust_store
    from sigtriage.present.terminal import render_failure, render_report

    options = Options(catalogs=catalogs, at=_parse_at(at), all_hashes=all_hashes, timeout=timeout)
    # fail fast, with the file's name, on unreadable anchors and catalogs before any worker starts
    trust = load_trust_store(anchors, microsoft=not no_microsoft_roots)
    loaded_catalogs = load_catalogs(catalogs)
    targets = list(expand(files))
    out = _console()
    err = Console(stderr=True)
    worst = EXIT_OK
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=err, transient=True, disable=not err.is_terminal or len(targets) < 2)
    with progress:
        task = progress.add_task("analysing", total=len(targets))
        results = analyze_many(targets, anchor_files=anchors, microsoft=not no_microsoft_roots, options=options,
                               workers=workers, trust=trust, catalogs=loaded_catalogs)
        for result in results:
            progress.advance(task)
            if isinstance(result, AnalysisFailure):
                worst = max(worst, EXIT_INPUT if result.error_type == "input" else EXIT_ANALYSIS_FAILED)
            if as_json:
                _emit(dumps(result) + "\n")
            elif isinstance(result, AnalysisFailure):
                out.print(render_failure(result))
            else:
                out.print(render_report(result))
                out.print()
    if not targets:
        raise UsageError("no files found under the given paths")
    raise SystemExit(worst)


@cli.command()
@click.option("--file", "file", required=True, type=click.Path(path_type=Path), help="The binary that ran.")
@click.option("--alert", type=click.Path(path_type=Path), help="The alert (EDR/SIEM JSON) about its execution.")
@click.option("--baseline", type=click.Path(path_type=Path), help="Baseline YAML (default: embedded or config).")
@click.option("--config", "config", type=click.Path(path_type=Path), help="Configuration YAML.")
@click.option("--json", "as_json", is_flag=True, help="One JSON assessment document.")
@click.option("--no-record", is_flag=True, help="Do not record this sighting in the prevalence store.")
def assess(file: Path, alert: Path | None, baseline: Path | None, config: Path | None, as_json: bool,
           no_record: bool) -> None:
    """Judge a signed binary in the context of its execution: score, level, verdict, evidence."""
    import dataclasses

    from sigtriage.alerts import load_alert
    from sigtriage.config.settings import load_settings
    from sigtriage.pipeline import assess_file, build_engine
    from sigtriage.present.assessment import render_assessment

    settings = load_settings(config)
    if no_record:
        settings = dataclasses.replace(settings, record_prevalence=False)
    context = load_alert(alert) if alert else None
    engine = build_engine(settings, baseline_path=baseline)
    try:
        result = assess_file(engine, file, context)
    finally:
        engine.close()
    if as_json:
        _emit(dumps(result) + "\n")
    else:
        _console().print(render_assessment(result))


@cli.group()
def baseline() -> None:
    """Build and check baselines of trusted software."""


@baseline.command("learn")
@click.argument("folders", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--name", default="learned-baseline", show_default=True)
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write here instead of standard output.")
@click.option("--include-hashes", is_flag=True, help="Also approve the SHA-256 of every validly signed file.")
@click.option("--workers", type=click.IntRange(1, 64), default=min(4, os.cpu_count() or 1), show_default=True)
def baseline_learn(folders: tuple[Path, ...], name: str, output: Path | None, include_hashes: bool,
                   workers: int) -> None:
    """Learn a starting baseline from a folder of known-good software (a golden image)."""
    _check_output_file(output, "--output")
    from sigtriage.batch import analyze_many, expand
    from sigtriage.config.baseline import dump, learn
    from sigtriage.extract.analyze import Options
    from sigtriage.model import AnalysisReport

    targets = list(expand(folders))
    err = Console(stderr=True)
    reports: list[AnalysisReport] = []
    failures = 0
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task("learning", total=len(targets))
        for result in analyze_many(targets, anchor_files=(), microsoft=True, options=Options(), workers=workers):
            progress.advance(task)
            if isinstance(result, AnalysisReport):
                reports.append(result)
            else:
                failures += 1
    text = dump(learn(reports, name=name, include_hashes=include_hashes))
    if output:
        try:
            output.write_text(text)
        except OSError as exc:
            raise InputError(f"cannot write the baseline: {exc.strerror}", context=str(output)) from exc
    else:
        _emit(text)
    err.print(f"learned from {len(reports)} files ({failures} could not be analysed)")


@baseline.command("check")
@click.argument("file", type=click.Path(path_type=Path))
def baseline_check(file: Path) -> None:
    """Validate a baseline file against its schema; prints a summary."""
    from sigtriage.config.baseline import load_baseline

    loaded = load_baseline(file)
    click.echo(f"{file}: valid baseline {loaded.label}: {len(loaded.publishers)} publishers, "
               f"{len(loaded.internal_ca_pems)} internal CAs, {len(loaded.blocked_certificates)} blocked certificates, "
               f"{len(loaded.approved_hashes)} approved and {len(loaded.blocked_hashes)} blocked hashes")


def _check_output_file(path: Path | None, option: str) -> None:
    """Fail before any work when an output file cannot be written where asked."""
    if path is None:
        return
    if path.exists() and not path.is_file():
        raise UsageError(f"{option}: {path} exists and is not a regular file")
    if not path.parent.is_dir():
        raise UsageError(f"{option}: the folder {path.parent} does not exist")


def _parse_inputs(pairs: tuple[str, ...]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--input takes NAME=VALUE, not {pair!r}")
        values[name] = value
    return values


def _triage_setup(config: Path | None, playbook_path: Path | None, baseline: Path | None = None):  # type: ignore[no-untyped-def]
    from sigtriage.act.connectors.registry import build_connectors
    from sigtriage.config.settings import load_settings
    from sigtriage.config.playbook import load_playbook
    from sigtriage.pipeline import build_engine
    from sigtriage.store.cases import CaseStore

    settings = load_settings(config)
    triage_config = settings.triage
    base = config.parent if config else Path.cwd()
    playbook = load_playbook(playbook_path or (base / triage_config["playbook"] if "playbook" in triage_config else None))
    connectors = build_connectors(triage_config.get("connectors", {}), net=settings.net, base_dir=base)
    engine = build_engine(settings, baseline_path=baseline)
    return settings, playbook, connectors, engine, CaseStore(engine.db)


@cli.command()
@click.option("--alert", required=True, type=click.Path(path_type=Path), help="The alert (EDR/SIEM JSON).")
@click.option("--file", "file", required=True, type=click.Path(path_type=Path), help="The binary that ran.")
@click.option("--config", type=click.Path(path_type=Path), help="Configuration YAML (connectors, store, policy).")
@click.option("--playbook", "playbook_path", type=click.Path(path_type=Path), help="Playbook YAML.")
@click.option("--baseline", type=click.Path(path_type=Path), help="Baseline YAML.")
@click.option("--input", "input_pairs", multiple=True, metavar="NAME=VALUE", help="Override a playbook input.")
@click.option("--dry-run", is_flag=True, help="Decide and record, send nothing.")
@click.option("--thehive-alert-id", help="The TheHive alert this triage updates (needed for TheHive actions).")
@click.option("--json", "as_json", is_flag=True, help="One JSON triage document.")
@click.option("--note", type=click.Path(path_type=Path), help="Also write the Markdown case note to this file.")
def triage(alert: Path, file: Path, config: Path | None, playbook_path: Path | None, baseline: Path | None,
           input_pairs: tuple[str, ...], dry_run: bool, thehive_alert_id: str | None, as_json: bool,
           note: Path | None) -> None:
    """The main job: triage an alert and its binary; escalate or auto-close; record and act."""
    from sigtriage.present.triage import render_triage
    from sigtriage.triage import triage as run_triage

    _check_output_file(note, "--note")
    from sigtriage.act.connectors.thehive import ALERT_ID

    if thehive_alert_id is not None and not ALERT_ID.fullmatch(thehive_alert_id):
        raise UsageError(f"--thehive-alert-id: {thehive_alert_id!r} is not a TheHive alert id (like ~12345)")
    settings, playbook, connectors, engine, store = _triage_setup(config, playbook_path, baseline)
    if "thehive" in connectors and not thehive_alert_id:
        err_console = Console(stderr=True)
        err_console.print("[yellow]warning:[/] TheHive is configured but no --thehive-alert-id was given: "
                          "SOAR actions are recorded in the local case store only")
    overrides = {**settings.triage.get("inputs", {}), **_parse_inputs(input_pairs)}
    if dry_run:
        overrides["dry_run"] = True
    inputs = playbook.resolve_inputs(overrides)
    try:
        result = run_triage(engine, store, playbook, alert_path=alert, file_path=file, inputs=inputs,
                            connectors=connectors, soar_ref=thehive_alert_id)
    finally:
        engine.close()
    if note:
        try:
            note.write_text(result.note)
        except OSError as exc:
            raise InputError(f"the triage is recorded, but the note could not be written: {exc.strerror}",
                             context=str(note)) from exc
    if as_json:
        _emit(dumps(result) + "\n")
    else:
        _console().print(render_triage(result))


@cli.group()
def cases() -> None:
    """Read the case store."""


@cases.command("list")
@click.option("--config", type=click.Path(path_type=Path))
@click.option("--status", type=click.Choice(["open", "closed", "escalated", "contained", "error"]))
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def cases_list(config: Path | None, status: str | None, limit: int, as_json: bool) -> None:
    """The most recent cases."""
    import json

    from sigtriage.config.settings import load_settings
    from sigtriage.present.triage import cases_table
    from sigtriage.store.cases import CaseStore
    from sigtriage.store.db import connect

    conn = connect(load_settings(config).store_path)
    rows = CaseStore(conn).list_cases(limit=limit, status=status)
    conn.close()
    if as_json:
        _emit(json.dumps(rows, default=str) + "\n")
    else:
        _console().print(cases_table(rows))


@cases.command("show")
@click.argument("key")
@click.option("--config", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def cases_show(key: str, config: Path | None, as_json: bool) -> None:
    """One case: decision, note, actions and audit trail (KEY may be a unique prefix)."""
    import json

    from sigtriage.config.settings import load_settings
    from sigtriage.present.triage import render_case
    from sigtriage.store.cases import CaseStore
    from sigtriage.store.db import connect

    conn = connect(load_settings(config).store_path)
    store = CaseStore(conn)
    matches = [r["key"] for r in store.list_cases(limit=100000) if r["key"].startswith(key)]
    if len(matches) != 1:
        conn.close()
        raise UsageError(f"{len(matches)} cases match {key!r}; give more of the key")
    detail = store.case_detail(matches[0])
    conn.close()
    if as_json:
        _emit(json.dumps(detail, default=str) + "\n")
    else:
        _console().print(render_case(detail or {}))


@cli.group()
def outbox() -> None:
    """The durable queue of actions for SOAR/EDR connectors."""


@outbox.command("flush")
@click.option("--config", type=click.Path(path_type=Path))
def outbox_flush(config: Path | None) -> None:
    """Deliver every due action (retries included)."""
    from sigtriage.act.connectors.registry import build_connectors
    from sigtriage.act.local import LocalConnector
    from sigtriage.act.outbox import flush
    from sigtriage.config.settings import load_settings
    from sigtriage.store.cases import CaseStore
    from sigtriage.store.db import connect

    # delivery needs the store and the connectors only: a broken baseline or playbook must not stop actions
    # that were already decided
    settings = load_settings(config)
    connectors = build_connectors(settings.triage.get("connectors", {}), net=settings.net,
                                  base_dir=config.parent if config else Path.cwd())
    conn = connect(settings.store_path)
    try:
        report = flush(CaseStore(conn), {"local": LocalConnector(), **connectors},
                       now=lambda: datetime.now(timezone.utc))
    finally:
        conn.close()
    click.echo(f"delivered {report.delivered}, retrying {report.retried}, failed {report.failed}, "
               f"waiting {report.waiting}")


def _release(fragment: str, config: Path | None, by: str, state: str) -> str:
    """Approve or requeue the one action in `state` whose idempotency key contains `fragment`."""
    from sigtriage.config.settings import load_settings
    from sigtriage.store.cases import CaseStore
    from sigtriage.store.db import connect

    conn = connect(load_settings(config).store_path)
    try:
        store = CaseStore(conn)
        keys = [k for k in store.action_keys(state=state) if fragment in k]
        if len(keys) != 1:
            raise UsageError(f"{len(keys)} {state.replace('_', ' ')} actions match {fragment!r}: give a longer part of "
                             "the key (`sigtriage cases show KEY` lists them)")
        release = store.approve if state == "awaiting_approval" else store.requeue
        release(keys[0], by=by, now=datetime.now(timezone.utc))
        return keys[0]
    finally:
        conn.close()


@outbox.command("approve")
@click.argument("key_fragment")
@click.option("--config", type=click.Path(path_type=Path))
@click.option("--by", default=os.environ.get("USER", "analyst"), show_default=True, help="Who approves (audited).")
def outbox_approve(key_fragment: str, config: Path | None, by: str) -> None:
    """Release an action waiting for approval (containment); any unique part of its key will do."""
    key = _release(key_fragment, config, by, "awaiting_approval")
    click.echo(f"approved {key}; run `sigtriage outbox flush` to send it")


@outbox.command("requeue")
@click.argument("key_fragment")
@click.option("--config", type=click.Path(path_type=Path))
@click.option("--by", default=os.environ.get("USER", "analyst"), show_default=True, help="Who requeues (audited).")
def outbox_requeue(key_fragment: str, config: Path | None, by: str) -> None:
    """Give a failed action fresh attempts once its cause is fixed; any unique part of its key will do."""
    key = _release(key_fragment, config, by, "failed")
    click.echo(f"requeued {key}; run `sigtriage outbox flush` to send it")


@cli.command()
@click.argument("document", type=click.Choice(["analysis-report", "analysis-failure", "assessment", "triage"]))
def schema(document: str) -> None:
    """Print the JSON Schema of a document sigtriage emits."""
    import json

    from sigtriage.model.documents import generated_schema

    _emit(json.dumps(generated_schema(document), indent=2) + "\n")


@cli.command()
@click.option("--markdown", is_flag=True, help="As the Markdown table README embeds.")
def findings(markdown: bool) -> None:
    """List every finding code with its default severity and meaning."""
    from sigtriage.present.catalogue import findings_markdown, findings_table

    if markdown:
        _emit(findings_markdown())
    else:
        Console().print(findings_table())


def _emit(text: str) -> None:
    """Write one document to standard output; a reader that went away (`| head`) ends the output quietly."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(EXIT_OK) from None


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # rich exits 1 when the reader goes away (`| head`); for us that is a normal end of output
        self.quiet = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(EXIT_OK)


def _console(**kwargs: Any) -> Console:
    """A terminal console, or, when piped, one that never wraps: hashes and paths stay on one line for grep."""
    console = _Console(highlight=False, soft_wrap=True, **kwargs)
    if not console.is_terminal:
        console = _Console(highlight=False, soft_wrap=True, width=10_000, **kwargs)
    return console


def _terminate(signum: int, frame: object) -> None:
    # SIGTERM (timeout, a SOAR runner) unwinds like Ctrl-C, so worker pools are shut down and nothing is orphaned
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except SigtriageError as exc:
        click.echo(f"sigtriage: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:
        # the reader went away (`| head`): not an error of ours; keep Python from complaining at exit
        sys.stderr.close()
        sys.exit(EXIT_OK)
    except Exception as exc:  # noqa: BLE001 - the last boundary: report a bug, never a traceback to the analyst
        click.echo(f"sigtriage: internal error: {type(exc).__name__}: {exc} (please report this)", err=True)
        sys.exit(EXIT_INTERNAL)
