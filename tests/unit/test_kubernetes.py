"""deploy/kubernetes holds valid objects that fit revotp: probes, ports, shutdown, scaling, secrets.

Standard kinds are checked against the Kubernetes API's own schemas (kubernetes-validate, no
cluster needed); KEDA's objects, which those schemas do not know, against what revotp needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from common.names import Names
from common.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.31.0"
KEDA_KINDS = {"ScaledObject", "TriggerAuthentication"}
PORTS = {"ingest": "ingest_port", "matcher": "matcher_port", "notifier": "notifier_port", "callbacks": "callbacks_port"}


def documents() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
    found = []
    for resource in kustomization["resources"]:
        found += [doc for doc in yaml.safe_load_all((DEPLOY / resource).read_text()) if doc]
    return found


def of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in documents() if doc["kind"] == kind}


def test_the_kustomization_lists_every_manifest():
    listed = set(yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())["resources"])
    assert listed == {path.name for path in DEPLOY.glob("*.yaml")} - {"kustomization.yaml"}


@pytest.mark.parametrize(
    "doc",
    [d for d in documents() if d["kind"] not in KEDA_KINDS],
    ids=lambda d: d["kind"] + "/" + d["metadata"]["name"],
)
def test_every_standard_object_is_valid_kubernetes(doc: dict[str, Any]):
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_each_service_runs_with_probes_limits_secrets_and_a_grace_longer_than_its_own():
    defaults = Settings()
    deployments = of_kind("Deployment")
    assert set(deployments) == {f"revotp-{service}" for service in PORTS}
    for service, port_field in PORTS.items():
        pod = deployments[f"revotp-{service}"]["spec"]["template"]["spec"]
        [container] = pod["containers"]
        assert container["args"] == [service]
        assert [port["containerPort"] for port in container["ports"]] == [getattr(defaults, port_field)]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert {"requests", "limits"} <= set(container["resources"])
        assert {"secretRef": {"name": "revotp-secrets"}} in container["envFrom"]
        assert pod["terminationGracePeriodSeconds"] > defaults.shutdown_grace_s + 5
        assert pod["securityContext"]["runAsNonRoot"] is True


def test_every_deployment_has_a_disruption_budget_and_a_scaler():
    budgets = {
        doc["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
        for doc in of_kind("PodDisruptionBudget").values()
    }
    assert budgets == set(of_kind("Deployment"))
    scaled = {doc["spec"]["scaleTargetRef"]["name"] for doc in of_kind("HorizontalPodAutoscaler").values()}
    assert scaled == {"revotp-ingest", "revotp-notifier"}


def test_keda_scales_the_matchers_on_the_inbound_queue():
    [scaler] = of_kind("ScaledObject").values()
    assert scaler["apiVersion"] == "keda.sh/v1alpha1"
    assert scaler["spec"]["scaleTargetRef"]["name"] == "revotp-matcher"
    [trigger] = scaler["spec"]["triggers"]
    config = of_kind("ConfigMap")["revotp-config"]["data"]
    assert trigger["type"] == "rabbitmq"
    assert trigger["metadata"]["queueName"] == Names(config["REVOTP_NAMESPACE"]).inbound_queue
    assert int(trigger["metadata"]["value"]) > 0
    authentication = of_kind("TriggerAuthentication")[trigger["authenticationRef"]["name"]]
    assert authentication["spec"]["secretTargetRef"] == [
        {"parameter": "host", "name": "revotp-secrets", "key": "REVOTP_AMQP_URL"}
    ]
