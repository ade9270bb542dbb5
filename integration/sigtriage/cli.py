"""Command line: argument parsing, exception -> exit code, and the only place that prints."""

from __future__ import annotations

import os
import sys
from datetime import datetime, timezone
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from sigtriage import __version__
from sigtriage.errors import SigtriageError, UsageError
from sigtriage.model import AnalysisFailure
from sigtriage.model.codec import dumps, parse_datetime

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_ANALYSIS_FAILED = 4


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
    load_catalogs(catalogs)
    targets = list(expand(files))
    out = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True)
    worst = EXIT_OK
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=err, transient=True, disable=not err.is_terminal or len(targets) < 2)
    with progress:
        task = progress.add_task("analysing", total=len(targets))
        results = analyze_many(targets, anchor_files=anchors, microsoft=not no_microsoft_roots, options=options,
                               workers=workers, trust=trust)
        for result in results:
            progress.advance(task)
            if isinstance(result, AnalysisFailure):
                worst = max(worst, EXIT_INPUT if result.error_type == "input" else EXIT_ANALYSIS_FAILED)
            if as_json:
                sys.stdout.write(dumps(result) + "\n")
                sys.stdout.flush()
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
        sys.stdout.write(dumps(result) + "\n")
    else:
        Console(highlight=False, soft_wrap=True).print(render_assessment(result))


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
        output.write_text(text)
    else:
        sys.stdout.write(text)
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


@cli.command()
@click.argument("document", type=click.Choice(["analysis-report", "analysis-failure", "assessment"]))
@click.option("--write", is_flag=True, help="Rewrite the packaged schema file instead of printing.")
def schema(document: str, write: bool) -> None:
    """Print the JSON Schema of a document sigtriage emits."""
    import json

    from sigtriage.model.documents import generated_schema, schema_path

    text = json.dumps(generated_schema(document), indent=2) + "\n"
    if write:
        schema_path(document).write_text(text)
    else:
        sys.stdout.write(text)


@cli.command()
@click.option("--markdown", is_flag=True, help="As the Markdown table README embeds.")
def findings(markdown: bool) -> None:
    """List every finding code with its default severity and meaning."""
    from sigtriage.present.catalogue import findings_markdown, findings_table

    if markdown:
        sys.stdout.write(findings_markdown())
    else:
        Console().print(findings_table())


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except SigtriageError as exc:
        click.echo(f"sigtriage: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last boundary: report a bug, never a traceback to the analyst
        click.echo(f"sigtriage: internal error: {type(exc).__name__}: {exc} (please report this)", err=True)
        sys.exit(EXIT_INTERNAL)
