"""Latency over time, for a person to look at: PNG, SVG, or a self-contained HTML page.

Each verdict is a dot (when its SMS was sent, how long until its verdict reached the tenant
socket), coloured by verdict, with the p99 of each short window of sending drawn over them. matplotlib is an
optional dependency (``pip install 'revotp[plot]'``), imported only when a plot is asked for.
"""

from __future__ import annotations

import html
import io
import logging
import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from revotp.replay.report import Outcome, Report

SUFFIXES = (".png", ".svg", ".html")
COLOURS = {"challenge.verified": "#2e7d32", "challenge.attempt_failed": "#ef6c00", "challenge.failed": "#c62828"}


class PlotError(Exception):
    """The plot cannot be written (unknown format, matplotlib not installed)."""


def check_path(path: Path) -> None:
    """Refuse a bad ``--plot`` before the replay starts, not after it ran."""
    if path.suffix.lower() not in SUFFIXES:
        raise PlotError(f"--plot: {path.name} must end in {', '.join(SUFFIXES)}")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise PlotError("--plot needs matplotlib: pip install 'revotp[plot]'") from None


def write(path: Path, outcomes: Sequence[Outcome], report: Report, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    logging.getLogger("matplotlib").setLevel(logging.WARNING)
    from matplotlib import pyplot

    timed = [o for o in outcomes if o.verdict_at is not None]
    start = min((o.sent.sent_at for o in outcomes), default=0.0)
    figure, axes = pyplot.subplots(figsize=(11, 5.5), dpi=110)
    for verdict, colour in COLOURS.items():
        points = [o for o in timed if o.verdict == verdict]
        if points:
            axes.scatter(
                [o.sent.sent_at - start for o in points],
                [((o.verdict_at or 0) - o.sent.sent_at) * 1000 for o in points],
                s=4,
                alpha=0.5,
                color=colour,
                label=f"{verdict.removeprefix('challenge.')} ({len(points):,})",
            )
    width = max(0.1, max((o.sent.sent_at - start for o in timed), default=0.0) / 40)
    middles, p99s = _p99_per_window(timed, start, width)
    if middles:
        axes.plot(middles, p99s, color="black", linewidth=1.2, label=f"p99 per {width:.2g} s of sending")
    axes.set_yscale("log")
    axes.set_xlabel("seconds since the first SMS was sent")
    axes.set_ylabel("send → verdict on the tenant socket (ms, log scale)")
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.25)
    axes.legend(loc="upper left", fontsize="small")
    summary = ", ".join(f"{name} {value:,.0f} ms" for name, value in report.latency_ms.items())
    figure.text(0.01, 0.01, f"{report.verdicts_per_s:,.0f} verdicts/s; latency {summary}", fontsize="small")
    figure.tight_layout(rect=(0, 0.03, 1, 1))
    suffix = path.suffix.lower()
    if suffix == ".html":
        svg = io.StringIO()
        figure.savefig(svg, format="svg")
        path.write_text(_page(title, svg.getvalue(), report))
    else:
        figure.savefig(path, format=suffix.lstrip("."))
    pyplot.close(figure)


def _p99_per_window(timed: Sequence[Outcome], start: float, width: float) -> tuple[list[float], list[float]]:
    """The p99 latency (ms) of the SMS sent in each window of ``width`` seconds, at its middle."""
    windows: dict[int, list[float]] = defaultdict(list)
    for o in timed:
        windows[int((o.sent.sent_at - start) / width)].append(((o.verdict_at or 0) - o.sent.sent_at) * 1000)
    middles, p99s = [], []
    for window in sorted(windows):
        ordered = sorted(windows[window])
        middles.append((window + 0.5) * width)
        p99s.append(ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)])
    return middles, p99s


def _page(title: str, svg: str, report: Report) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(name)}</th><td>{value:,.1f} ms</td></tr>" for name, value in report.latency_ms.items()
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}}svg{{width:100%;height:auto}}
th{{text-align:left;padding-right:1rem}}</style></head>
<body><h1>{html.escape(title)}</h1>
<p>{report.verdicts_per_s:,.0f} verdicts/s, {report.accepted:,} of {report.sent:,} SMS accepted.</p>
<table>{rows}</table>
{svg[svg.index("<svg") :]}
</body></html>
"""
