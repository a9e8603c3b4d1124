#!/usr/bin/env python3
"""Regenerates the vendored JSON schemas of Deploy/kubernetes/ (run by hand, not by the tests).

Kubernetes: from the PyPI package kubernetes-validate 1.37.0 (Kubernetes v1.32.0, "local-strict":
unknown fields refused), each kind's schema bundled with the definitions it reaches into one file.

KEDA and the Prometheus Operator: no PyPI or Debian package ships their CRDs' OpenAPI schemas, but
cloudcoil.models.keda 2.16.1.0 and cloudcoil.models.prometheus_operator 0.80.1.0 (PyPI) are pydantic
models generated from those CRDs (KEDA 2.16.1, prometheus-operator 0.80.1). Their JSON schemas (by
CRD field name) are written here, tightened to what the API server enforces with strict field
validation: unknown fields refused, apiVersion and kind fixed and required, status left out.

    python3 -m venv /tmp/schemas && /tmp/schemas/bin/pip install kubernetes-validate==1.37.0 \
        cloudcoil.models.keda==2.16.1.0 cloudcoil.models.prometheus_operator==0.80.1.0
    /tmp/schemas/bin/python Deploy/schemas/vendor.py
"""
import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
KUBERNETES_VERSION = "v1.32.0"
KUBERNETES_KINDS = {
    "deployment-apps-v1": "Deployment",
    "service-v1": "Service",
    "configmap-v1": "ConfigMap",
    "poddisruptionbudget-policy-v1": "PodDisruptionBudget",
}


def bundle_kubernetes():
    import kubernetes_validate
    source = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / f"{KUBERNETES_VERSION}-local-strict"
    definitions = json.loads((source / "_definitions.json").read_text())["$defs"]
    out = HERE / f"kubernetes-{KUBERNETES_VERSION}"
    out.mkdir(exist_ok=True)
    for name in KUBERNETES_KINDS:
        schema = json.loads((source / f"{name}.json").read_text())
        text = json.dumps(schema)
        needed, queue = {}, re.findall(r'_definitions\.json#/\$defs/([^"]+)"', text)
        while queue:
            key = queue.pop()
            if key in needed:
                continue
            needed[key] = definitions[key]
            queue += re.findall(r'#/\$defs/([^"]+)"', json.dumps(definitions[key]))
        schema["$defs"] = needed
        bundled = json.loads(re.sub(r'"(?:/api/)?_definitions\.json#/\$defs/', '"#/$defs/', json.dumps(schema)))
        bundled["$comment"] = (f"Kubernetes {KUBERNETES_VERSION} {KUBERNETES_KINDS[name]}, strict, from the PyPI package "
                               "kubernetes-validate 1.37.0, bundled by Deploy/schemas/vendor.py")
        (out / f"{name}.json").write_text(json.dumps(bundled, indent=1, sort_keys=True) + "\n")


def case_insensitive(pattern):
    """`(abort|warn)?$` → `([aA][bB]…|…)?$`: letters outside classes and escapes match either case."""
    out, in_class, escaped = "", False, False
    for character in pattern:
        if escaped:
            out, escaped = out + character, False
        elif character == "\\":
            out, escaped = out + character, True
        elif character in "[]":
            out, in_class = out + character, character == "["
        elif character.isalpha() and not in_class:
            out += f"[{character.lower()}{character.upper()}]"
        else:
            out += character
    return out


def tighten(schema, api_version, kind):
    """Refuse unknown fields on every object with declared properties; fix apiVersion and kind."""
    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            # Go's regexp takes `^(?i)…`; JSON Schema's (ECMA-262) has no inline flags.
            if isinstance(node.get("pattern"), str) and node["pattern"].startswith("^(?i)"):
                node["pattern"] = "^" + case_insensitive(node["pattern"][5:])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    schema["properties"].pop("status", None)
    schema["properties"]["apiVersion"] = {"const": api_version}
    schema["properties"]["kind"] = {"const": kind}
    schema["required"] = sorted(set(schema.get("required", [])) | {"apiVersion", "kind", "metadata", "spec"})
    walk(schema)
    return schema


def crds():
    from cloudcoil.models.keda.v1alpha1 import ScaledObject, TriggerAuthentication
    from cloudcoil.models.prometheus_operator.v1 import PrometheusRule, ServiceMonitor
    sets = {
        "keda-2.16.1": [(ScaledObject, "keda.sh/v1alpha1", "cloudcoil.models.keda 2.16.1.0"),
                        (TriggerAuthentication, "keda.sh/v1alpha1", "cloudcoil.models.keda 2.16.1.0")],
        "prometheus-operator-0.80.1": [(ServiceMonitor, "monitoring.coreos.com/v1", "cloudcoil.models.prometheus_operator 0.80.1.0"),
                                       (PrometheusRule, "monitoring.coreos.com/v1", "cloudcoil.models.prometheus_operator 0.80.1.0")],
    }
    for directory, models in sets.items():
        out = HERE / directory
        out.mkdir(exist_ok=True)
        for model, api_version, package in models:
            schema = tighten(model.model_json_schema(by_alias=True, mode="validation"), api_version, model.__name__)
            schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
            schema["$comment"] = (f"{model.__name__} ({api_version}) from the pydantic models of the PyPI package {package}, "
                                  "generated from the CRD; tightened by Deploy/schemas/vendor.py")
            name = f"{model.__name__.lower()}-{api_version.replace('/', '-').replace('.', '-')}.json"
            (out / name).write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    bundle_kubernetes()
    crds()
