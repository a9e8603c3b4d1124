#!/usr/bin/env python3
"""Schema check of Deploy/kubernetes/ with check-jsonschema (PyPI) and the schemas vendored under
Deploy/schemas/ (see its README for their source and version).

Every manifest file holds one object; its apiVersion and kind pick the schema, and a kind without a
vendored schema is an error. kustomization.yaml must list exactly the manifest files. A self-test
first validates deliberately broken copies (a misspelt field, a wrong type, a missing required
field, an unknown trigger field) and fails if any of them passes.

Usage: check_manifests.py REPO_ROOT
"""
import copy
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

SCHEMAS = {
    ("apps/v1", "Deployment"): "kubernetes-v1.32.0/deployment-apps-v1.json",
    ("v1", "Service"): "kubernetes-v1.32.0/service-v1.json",
    ("v1", "ConfigMap"): "kubernetes-v1.32.0/configmap-v1.json",
    ("policy/v1", "PodDisruptionBudget"): "kubernetes-v1.32.0/poddisruptionbudget-policy-v1.json",
    ("keda.sh/v1alpha1", "ScaledObject"): "keda-2.16.1/scaledobject-keda-sh-v1alpha1.json",
    ("keda.sh/v1alpha1", "TriggerAuthentication"): "keda-2.16.1/triggerauthentication-keda-sh-v1alpha1.json",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "prometheus-operator-0.80.1/servicemonitor-monitoring-coreos-com-v1.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheus-operator-0.80.1/prometheusrule-monitoring-coreos-com-v1.json",
}


def validate(schema, path):
    """(ok, output) of check-jsonschema for one file."""
    run = subprocess.run([sys.executable, "-m", "check_jsonschema", "--schemafile", str(schema), str(path)], capture_output=True, text=True)
    return run.returncode == 0, (run.stdout + run.stderr).strip()


def mutations(objects):
    """Broken copies that a strict schema must refuse: (description, apiVersion/kind, object)."""
    out = []
    deployment = copy.deepcopy(objects["Deployment"])
    deployment["spec"]["replica"] = deployment["spec"].pop("replicas")
    out.append(("misspelt spec.replica", deployment))
    deployment = copy.deepcopy(objects["Deployment"])
    deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] = ["2"]
    out.append(("a list as a cpu quantity", deployment))
    scaled = copy.deepcopy(objects["ScaledObject"])
    scaled["spec"]["maxReplicaCount"] = "twelve"
    out.append(("a string as maxReplicaCount", scaled))
    scaled = copy.deepcopy(objects["ScaledObject"])
    del scaled["spec"]["scaleTargetRef"]
    out.append(("no scaleTargetRef", scaled))
    scaled = copy.deepcopy(objects["ScaledObject"])
    scaled["spec"]["triggers"][0]["authRef"] = scaled["spec"]["triggers"][0].pop("authenticationRef")
    out.append(("unknown trigger field authRef", scaled))
    monitor = copy.deepcopy(objects["ServiceMonitor"])
    monitor["spec"]["endpoints"][0]["honorLabel"] = True
    out.append(("misspelt honorLabel", monitor))
    rule = copy.deepcopy(objects["PrometheusRule"])
    del rule["spec"]["groups"][0]["rules"][0]["expr"]
    out.append(("a rule without expr", rule))
    pdb = copy.deepcopy(objects["PodDisruptionBudget"])
    pdb["apiVersion"] = "policy/v1beta2"
    out.append(("a wrong apiVersion", pdb))
    return out


def main(root):
    deploy = Path(root).resolve() / "Deploy"
    manifests = deploy / "kubernetes"
    failures, objects, checked = [], {}, 0
    files = sorted(p for p in manifests.glob("*.yaml") if p.name != "kustomization.yaml")
    listed = yaml.safe_load((manifests / "kustomization.yaml").read_text()).get("resources", [])
    if sorted(listed) != [p.name for p in files]:
        failures.append(f"kustomization.yaml lists {sorted(listed)}, the directory has {[p.name for p in files]}")
    for path in files:
        documents = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        if len(documents) != 1:
            failures.append(f"{path.name}: {len(documents)} objects (one per file)")
            continue
        document = documents[0]
        key = (document.get("apiVersion"), document.get("kind"))
        if key not in SCHEMAS:
            failures.append(f"{path.name}: no vendored schema for {key}")
            continue
        objects.setdefault(key[1], document)
        ok, output = validate(deploy / "schemas" / SCHEMAS[key], path)
        checked += 1
        if not ok:
            failures.append(f"{path.name} ({key[1]}):\n{output}")
    with tempfile.TemporaryDirectory() as work:
        for i, (description, broken) in enumerate(mutations(objects)):
            path = Path(work) / f"broken-{i}.yaml"
            path.write_text(yaml.safe_dump(broken))
            schema = SCHEMAS.get((objects[broken["kind"]]["apiVersion"], broken["kind"]))
            ok, _ = validate(deploy / "schemas" / schema, path)
            if ok:
                failures.append(f"self-test: a {broken['kind']} with {description} passed the schema check")
    for failure in failures:
        print(f"check-manifests: {failure}", file=sys.stderr)
    if failures:
        return 1
    print(f"check-manifests: ok: {checked} manifests valid against their vendored schemas; "
          f"{len(mutations(objects))} broken copies refused")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
