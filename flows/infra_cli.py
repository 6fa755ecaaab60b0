"""``videogen infra``: prepare the S3 bucket (create it, install the lifecycle rules) and the Prefect result block."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from core.errors import PipelineError

infra = typer.Typer(no_args_is_help=True, help="Storage operations: bucket, lifecycle rules, result storage.")
console = Console()


def _s3_config() -> Any:
    from core.settings import get_settings

    settings = get_settings()
    if settings.storage.backend != "s3":
        console.print("[bold red]error:[/] storage is local (files under VIDEOGEN_DATA_DIR); nothing to apply. "
                      "Set VIDEOGEN_STORAGE__BACKEND=s3 and VIDEOGEN_STORAGE__BUCKET.")  # fmt: skip
        raise typer.Exit(2)
    return settings.storage


def _rules_table(rules: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for col in ("rule", "status", "applies to", "action"):
        table.add_column(col)
    for rule in rules:
        flt = rule.get("Filter", {})
        target = (f"tag {flt['Tag']['Key']}={flt['Tag']['Value']}" if "Tag" in flt
                  else f"prefix {flt.get('Prefix', '')!r}")  # fmt: skip
        if "Expiration" in rule:
            action = f"expire after {rule['Expiration'].get('Days')} day(s)"
        else:
            action = f"abort incomplete uploads after {rule['AbortIncompleteMultipartUpload']['DaysAfterInitiation']} d"
        table.add_row(rule.get("ID", ""), rule.get("Status", ""), target, action)
    return table


@infra.command("apply-lifecycle")
def apply_lifecycle_cmd(
    register_results: Annotated[
        bool | None,
        typer.Option(help="save the Prefect S3 result block (default: when PREFECT_API_URL is set)"),
    ] = None,
) -> None:
    """Create the bucket if needed, install the expiry rules (and the CORS rule for VIDEOGEN_STORAGE__CORS_ORIGINS),
    print them as the bucket reports them back."""
    from providers.storage.lifecycle import apply_cors, apply_lifecycle, ensure_bucket

    config = _s3_config()
    try:
        if ensure_bucket(config):
            console.print(f"created bucket [bold]{config.bucket}[/]")
        rules = apply_lifecycle(config)
        cors = apply_cors(config)
    except PipelineError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(1) from exc
    console.print(_rules_table(rules, f"lifecycle of s3://{config.bucket} ({config.endpoint_url or 'AWS'})"))
    for rule in cors:
        console.print(f"CORS: {', '.join(rule['AllowedMethods'])} from {', '.join(rule['AllowedOrigins'])}")
    if register_results is None:
        register_results = bool(os.environ.get("PREFECT_API_URL"))
    if register_results:
        from core.settings import get_settings
        from tasks.results import register_result_storage

        slug = register_result_storage(get_settings())
        console.print(f"Prefect task results: block [bold]{slug}[/] -> s3://{config.bucket}/{config.results_prefix}/")


@infra.command("show-lifecycle")
def show_lifecycle_cmd() -> None:
    """Print the bucket's lifecycle rules."""
    from providers.storage.lifecycle import read_lifecycle

    config = _s3_config()
    console.print(_rules_table(read_lifecycle(config), f"lifecycle of s3://{config.bucket}"))


@infra.command("apply-automations")
def apply_automations_cmd(
    within: Annotated[float, typer.Option(help="seconds without a heartbeat before a run counts as dead")] = 90.0,
) -> None:
    """Create the Prefect automations (replacing older versions): runs whose heartbeats stop are marked Crashed."""
    if not os.environ.get("PREFECT_API_URL"):
        console.print("[bold red]error:[/] set PREFECT_API_URL to the Prefect server the workers use")
        raise typer.Exit(2)
    from deployments.automations import apply_automations

    try:
        created = apply_automations(within)
    except ValueError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    for automation in created:
        console.print(f"automation [bold]{automation.name}[/]: {automation.description}")
