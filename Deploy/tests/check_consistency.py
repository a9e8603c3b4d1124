#!/usr/bin/env python3
"""Checks that the deployment files agree with each other and with the contract:

- compose.yaml: every image tag pinned (no `latest`, no bare name); two workers in one group with
  distinct instance ids; Prometheus scrapes exactly the compose services on their HTTP port.
- topics.tsv against Schemas/README.md: every topic, its cleanup policy, and the partition counts
  the contract ties to the accounts topic (results, liquidations, liquidation-state).
- The ConfigMap carries Deploy/margin-engine.yaml verbatim; the PrometheusRule carries the groups of
  Deploy/prometheus/alerts.yml.
- The KEDA Kafka trigger watches the accounts topic of the worker's group on its brokers, and
  maxReplicaCount is at most (here: equal to) the accounts topic's partition count.
- Prometheus jobs (compose) are named like the Services the ServiceMonitor scrapes, both keep the
  workers' instance label (honor labels), probes use /health and /ready on the configured port.
- Dockerfile: pinned base images, MARGIN_ENGINE_TARGET_CPU set in the build stage, librdkafka1 and
  the resource bundles in the runtime stage, a non-root USER, a HEALTHCHECK on /health, OCI labels.

Usage: check_consistency.py REPO_ROOT   (prints the target CPU the Dockerfile sets on success)
"""
import re
import sys
from pathlib import Path

import yaml


def pinned(image):
    name, _, tag = image.rpartition(":") if ":" in image.split("/")[-1] else (image, "", "")
    return bool(tag) and tag != "latest" and re.search(r"\d", tag) is not None


def schema_topics(root):
    """Topic -> cleanup policy and partitioning text, from the table of Schemas/README.md."""
    topics = {}
    for line in (root / "Schemas" / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0].startswith("`margin."):
            topics[cells[0].strip("`")] = {"partitioning": cells[3], "cleanup": cells[4].split()[0]}
    return topics


def main(root):
    root = Path(root).resolve()
    deploy = root / "Deploy"
    failures = []

    def check(condition, message):
        if not condition:
            failures.append(message)

    # compose
    compose = yaml.safe_load((deploy / "compose.yaml").read_text())
    services = compose["services"]
    for name, service in services.items():
        check(pinned(service.get("image", "")), f"compose: service {name} has an unpinned image {service.get('image')!r}")
    workers = {n: s for n, s in services.items() if s.get("command", [None])[0] == "run"}
    check(len(workers) == 2, f"compose: {len(workers)} workers, expected 2")
    groups = {s["environment"].get("MARGIN_ENGINE_GROUP") for s in workers.values()}
    ids = [s["environment"].get("MARGIN_ENGINE_INSTANCE_ID") for s in workers.values()]
    check(len(groups) == 1 and None not in groups, f"compose: workers in groups {groups}")
    check(len(set(ids)) == len(ids) and None not in ids, f"compose: worker instance ids {ids}")
    for name, service in workers.items():
        environment = service["environment"]
        exposed = environment.get("MARGIN_ENGINE_HTTP_HOST", "127.0.0.1") not in ("127.0.0.1", "localhost", "::1")
        check(not exposed or "MARGIN_ENGINE_BEARER_TOKEN" in environment or str(environment.get("MARGIN_ENGINE_INSECURE_HTTP")).lower() == "true",
              f"compose: worker {name} binds {environment.get('MARGIN_ENGINE_HTTP_HOST')} without a bearer token or an explicit MARGIN_ENGINE_INSECURE_HTTP")
    calibrators = [s for s in services.values() if s.get("command", [None])[0] == "calibrator"]
    check(len(calibrators) == 1 and "--http-port" in calibrators[0]["command"], "compose: one calibrator with --http-port")

    # Prometheus (compose) against compose services and the Kubernetes Services
    prometheus = yaml.safe_load((deploy / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in prometheus["scrape_configs"]}
    targets = {t for job in jobs.values() for sc in job.get("static_configs", []) for t in sc["targets"]}
    expected = {f"{n}:8080" for n in list(workers) + [n for n, s in services.items() if s in calibrators]}
    check(targets == expected, f"prometheus.yml scrapes {sorted(targets)}, compose has {sorted(expected)}")
    check(all(job.get("honor_labels") for job in jobs.values()), "prometheus.yml: every job needs honor_labels: true")
    manifests = {}
    for path in (deploy / "kubernetes").glob("*.yaml"):
        document = yaml.safe_load(path.read_text())
        manifests[(document["kind"], document["metadata"]["name"]) if "metadata" in document else ("Kustomization", "")] = document
    k8s_services = {name for kind, name in manifests if kind == "Service"}
    check(set(jobs) == k8s_services, f"Prometheus jobs {sorted(jobs)} differ from the Services {sorted(k8s_services)} (job = Service name)")
    monitor = manifests[("ServiceMonitor", "margin-engine")]
    check(all(e.get("honorLabels") for e in monitor["spec"]["endpoints"]), "servicemonitor: honorLabels: true")

    # Topics against the contract
    table = {}
    for line in (deploy / "kafka" / "topics.tsv").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            fields = line.split("\t")
            table[fields[0]] = {"partitions": int(fields[1]), "cleanup": fields[2]}
    contract = schema_topics(root)
    check(len(contract) >= 9, f"Schemas/README.md: read only {len(contract)} topics from its table")
    check(set(table) == set(contract), f"topics.tsv {sorted(table)} != Schemas/README.md {sorted(contract)}")
    accounts = table.get("margin.accounts.v1", {}).get("partitions", 0)
    for topic, spec in contract.items():
        if topic not in table:
            continue
        check(table[topic]["cleanup"] == spec["cleanup"], f"{topic}: cleanup {table[topic]['cleanup']}, the contract says {spec['cleanup']}")
        if "same" in spec["partitioning"] and "accounts" in spec["partitioning"]:
            check(table[topic]["partitions"] == accounts, f"{topic}: {table[topic]['partitions']} partitions, accounts has {accounts}")

    # ConfigMap and PrometheusRule carry the files the tests run
    config_text = (deploy / "margin-engine.yaml").read_text()
    configmap = manifests[("ConfigMap", "margin-engine")]
    check(configmap["data"].get("margin-engine.yaml") == config_text, "configmap.yaml differs from Deploy/margin-engine.yaml")
    alerts = yaml.safe_load((deploy / "prometheus" / "alerts.yml").read_text())
    rule = manifests[("PrometheusRule", "margin-engine")]
    check(rule["spec"]["groups"] == alerts["groups"], "prometheusrule.yaml groups differ from Deploy/prometheus/alerts.yml")

    # Autoscaling against the worker configuration and the topics
    config = yaml.safe_load(config_text)
    scaled = manifests[("ScaledObject", "margin-engine")]
    check(scaled["spec"]["maxReplicaCount"] <= accounts, f"maxReplicaCount {scaled['spec']['maxReplicaCount']} > {accounts} partitions")
    check(scaled["spec"]["maxReplicaCount"] == accounts, "maxReplicaCount should equal the accounts partition count")
    kafka = [t for t in scaled["spec"]["triggers"] if t["type"] == "kafka"]
    check(len(kafka) == 1, "scaledobject: one kafka trigger")
    if kafka:
        meta = kafka[0]["metadata"]
        check(meta["topic"] == "margin.accounts.v1", f"kafka trigger topic {meta['topic']}")
        check(meta["consumerGroup"] == config["group"], f"kafka trigger group {meta['consumerGroup']} != {config['group']}")
        check(meta["bootstrapServers"] == config["brokers"], "kafka trigger brokers differ from the worker configuration")
    check(any(t["type"] == "prometheus" and "margin_remargin_latency_seconds" in t["metadata"]["query"] for t in scaled["spec"]["triggers"]),
          "scaledobject: a prometheus trigger on re-margin latency")
    check(scaled["spec"]["scaleTargetRef"]["name"] in {name for kind, name in manifests if kind == "Deployment"}, "scaleTargetRef names no Deployment")

    # Worker Deployment
    worker = manifests[("Deployment", "margin-engine")]["spec"]["template"]["spec"]
    container = worker["containers"][0]
    port = {p["name"]: p["containerPort"] for p in container["ports"]}.get("http")
    check(port == config["http_port"], f"container port {port} != http_port {config['http_port']}")
    check(container["livenessProbe"]["httpGet"]["path"] == "/health", "liveness probe on /health")
    check(container["readinessProbe"]["httpGet"]["path"] == "/ready", "readiness probe on /ready")
    check(worker["terminationGracePeriodSeconds"] >= 60 + 10, "terminationGracePeriodSeconds must cover the 60 s transaction timeout and leaving the group")
    env = {e["name"]: e for e in container["env"]}
    check(env.get("MARGIN_ENGINE_INSTANCE_ID", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name",
          "MARGIN_ENGINE_INSTANCE_ID from the pod name (unique transactional ids)")
    check("MARGIN_ENGINE_BEARER_TOKEN" in env and "MARGIN_ENGINE_INSECURE_HTTP" not in env,
          "the worker Deployment binds 0.0.0.0: its bearer token comes from a secret, never insecure_http")
    calibrator = manifests[("Deployment", "margin-engine-calibrator")]["spec"]
    check(calibrator["replicas"] == 1 and calibrator["strategy"]["type"] == "Recreate", "calibrator: one replica, Recreate")

    # Dockerfile
    dockerfile = (deploy / "Dockerfile").read_text()
    lines = [l for l in re.sub(r"\\\n", " ", dockerfile).splitlines() if l.strip() and not l.lstrip().startswith("#")]
    stages, current = [], None
    for line in lines:
        instruction, _, rest = line.strip().partition(" ")
        if instruction.upper() == "FROM":
            current = {"from": rest.split()[0], "lines": []}
            stages.append(current)
        elif current is not None:
            current["lines"].append((instruction.upper(), rest.strip()))
    check(len(stages) == 2, f"Dockerfile: {len(stages)} stages, expected build + runtime")
    cpu = None
    if len(stages) == 2:
        build, runtime = stages
        for stage in stages:
            check(pinned(stage["from"]), f"Dockerfile: unpinned base image {stage['from']}")
        args = dict(re.findall(r"(\w+)=(\S+)", " ".join(rest for ins, rest in build["lines"] if ins == "ARG")))
        cpu = args.get("MARGIN_ENGINE_TARGET_CPU")
        check(cpu is not None and any(ins == "ENV" and "MARGIN_ENGINE_TARGET_CPU" in rest for ins, rest in build["lines"]),
              "Dockerfile: MARGIN_ENGINE_TARGET_CPU set explicitly in the build stage")
        check(any(ins == "RUN" and "swift build -c release" in rest and "margin-engine" in rest for ins, rest in build["lines"]),
              "Dockerfile: a release build of margin-engine")
        text = "\n".join(f"{ins} {rest}" for ins, rest in runtime["lines"])
        check("librdkafka1" in text, "Dockerfile: librdkafka1 in the runtime stage")
        check(re.search(r"^COPY --from=build .*", text, re.M) is not None and "*.resources" in dockerfile, "Dockerfile: resource bundles copied")
        users = [rest for ins, rest in runtime["lines"] if ins == "USER"]
        check(bool(users) and users[-1].split(":")[0] not in ("0", "root"), "Dockerfile: a non-root USER in the runtime stage")
        check(re.search(r"^HEALTHCHECK .*CMD .*/health", text, re.M) is not None, "Dockerfile: HEALTHCHECK on /health")
        check("org.opencontainers.image.title" in text and "org.opencontainers.image.version" in text, "Dockerfile: OCI labels")

    for failure in failures:
        print(f"check-consistency: {failure}", file=sys.stderr)
    if failures:
        return 1
    print(f"check-consistency: ok: compose, topics ({len(table)}), ConfigMap, PrometheusRule, autoscaler "
          f"(max {accounts} replicas), Deployment and Dockerfile agree", file=sys.stderr)
    print(cpu)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
