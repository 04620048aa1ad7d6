"""The alert rules and the Grafana dashboard: valid for Prometheus, and naming only real metrics."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import yaml
from prometheus_client import REGISTRY

from tests.support.promtool import promtool

DEPLOY = Path(__file__).parents[2] / "deploy"
ALERTS = DEPLOY / "prometheus" / "alerts.yaml"
DASHBOARD = DEPLOY / "grafana" / "revotp.json"
RUNBOOK = Path(__file__).parents[2] / "docs" / "runbook.md"
METRIC_NAME = re.compile(r"\brevotp_[a-z0-9_]+")
_SERIES_SUFFIXES = ("", "_total", "_bucket", "_count", "_sum", "_info")

# Each of these registers its metrics when loaded.
METRIC_MODULES = ("common.metrics", "ingest.metrics", "matcher.metrics", "notifier.metrics", "callbacks.metrics")


def exported_series() -> set[str]:
    """Every series name revotp's processes can expose (labelled ones included before first use)."""
    for module in METRIC_MODULES:
        importlib.import_module(module)
    names = {metric.name for metric in REGISTRY.collect()}
    return {name + suffix for name in names if name.startswith("revotp_") for suffix in _SERIES_SUFFIXES}


def dashboard_expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def alert_rules() -> list[dict[str, object]]:
    return [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]


def test_promtool_accepts_the_rules_and_their_tests_pass():
    assert promtool("check", "rules", str(ALERTS))[0] == 0
    code, output = promtool("test", "rules", str(ALERTS.with_name("alerts.test.yaml")))
    assert code == 0, output


def test_alerts_and_panels_name_only_metrics_that_exist():
    exported = exported_series()
    named = {name for text in [ALERTS.read_text(), *dashboard_expressions()] for name in METRIC_NAME.findall(text)}
    assert named, "the files name metrics"
    assert named - exported == set()


def test_every_panel_query_is_valid_promql(tmp_path: Path):
    """promtool parses each query as a recording rule: Grafana would show a broken panel otherwise."""
    rules = {
        "groups": [
            {
                "name": "panels",
                "rules": [{"record": f"panel:{i}", "expr": e} for i, e in enumerate(dashboard_expressions())],
            }
        ]
    }
    path = tmp_path / "panels.yaml"
    path.write_text(yaml.safe_dump(rules))
    code, output = promtool("check", "rules", str(path))
    assert code == 0, output


def test_the_dashboard_has_unique_panel_ids_and_one_datasource_variable():
    dashboard = json.loads(DASHBOARD.read_text())
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    assert [variable["name"] for variable in dashboard["templating"]["list"]] == ["datasource"]


def test_every_alert_links_to_a_section_of_the_runbook():
    headings = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in RUNBOOK.read_text().splitlines()
        if line.startswith("## ")
    }
    for rule in alert_rules():
        url = str(rule["annotations"]["runbook_url"])  # type: ignore[index]
        assert url.startswith("docs/runbook.md#"), rule["alert"]
        assert url.partition("#")[2] in headings, (rule["alert"], url)
