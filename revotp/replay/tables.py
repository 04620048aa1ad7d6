"""The replay's final table, for a person at a terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from revotp.replay.report import Report


def _ms(figures: dict[str, float]) -> str:
    return " / ".join(f"{value:,.0f}" for value in figures.values()) + " ms" if figures else "—"


def print_report(console: Console, report: Report, *, title: str) -> None:
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("SMS sent / accepted (2xx)", f"{report.sent:,} / {report.accepted:,}")
    for status, count in report.refused.items():
        table.add_row(f"  refused: {status}", f"{count:,}")
    for verdict, count in report.verdicts.items():
        name = "none (unmatched: no challenge, a retry, or dropped)" if verdict == "none" else verdict
        table.add_row(f"  verdict: {name.removeprefix('challenge.')}", f"{count:,}")
    if report.expected:
        table.add_row("as expected", f"{report.as_expected:,} of {report.expected:,}")
    table.add_row("sent / accepted per s", f"{report.sent_per_s:,.0f} / {report.accepted_per_s:,.0f}")
    table.add_row("verdicts per s (first send → last verdict)", f"{report.verdicts_per_s:,.0f}")
    if report.client_ceiling_per_s:
        ratio = report.sent_per_s / report.client_ceiling_per_s
        table.add_row(
            "client ceiling (do-nothing endpoint)", f"{report.client_ceiling_per_s:,.0f}/s ({ratio:.2f}x used)"
        )
    table.add_row("send → verdict p50 / p90 / p99 / max", _ms(report.latency_ms))
    table.add_row("send → ingest's answer p50 / p90 / p99 / max", _ms(report.answer_ms))
    if report.late_ms:
        table.add_row("sent behind schedule p50 / p90 / p99 / max", _ms(report.late_ms))
    if report.unexplained_verdicts or report.other_events:
        table.add_row(
            "other events (unexplained verdicts / expiries, cancels)",
            f"{report.unexplained_verdicts:,} / {report.other_events:,}",
        )
    console.print(table)
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
