#!/usr/bin/env bash
# Validates the deployment files offline, one line per file:
#   - every YAML file under deploy/ with yamllint (syntax, duplicate keys, indentation);
#   - the Kubernetes manifests (deploy/k8s*) against the Kubernetes JSON schemas that the
#     PyPI package kubernetes-validate bundles, strictly (unknown fields are errors, and
#     so is a kind without a schema); each kustomization's resources and patches exist,
#     and where kubectl (or kustomize) is installed its build is validated as well;
#   - deploy/compose.yaml against the compose-spec schema that check-jsonschema bundles,
#     and the files it mounts exist;
#   - the Prometheus configs with promtool, and the Grafana provisioning files' shape;
#   - the Grafana dashboard: it parses as JSON, panel ids are unique, every metric it
#     queries is one that src/export/mod.rs exports, and its queries parse as PromQL
#     (promtool).
# promtool is the one from PATH, else taken once from Debian's `prometheus` package
# (apt-get download, unpacked into the cache; nothing is installed); without either, the
# lines say that promtool's checks were skipped.
#
# Usage: scripts/validate-deploy.sh
# The validators are installed once, with pinned versions, into a venv under
# ${XDG_CACHE_HOME:-~/.cache}/stormbench-validate (STORMBENCH_VALIDATE_CACHE overrides
# it); later runs use no network. STORMBENCH_K8S_VERSION picks the Kubernetes schema
# version (default 1.30.0). Exits 1 when a file is invalid.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

CACHE="${STORMBENCH_VALIDATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stormbench-validate}"
VENV="$CACHE/venv"
K8S_VERSION="${STORMBENCH_K8S_VERSION:-1.30.0}"
PACKAGES=(
    kubernetes-validate==1.37.0
    check-jsonschema==0.39.0
    yamllint==1.38.0
)

die() {
    printf 'validate-deploy.sh: error: %s\n' "$*" >&2
    exit 1
}
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"



# python3 with a working venv module (Debian ships ensurepip in python3-venv).
ensure_python() {
    if ! command -v python3 >/dev/null 2>&1; then
        apt_install python3 python3-venv
    elif ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        apt_install python3-venv
    fi
}

# The pinned validators in their own venv; reinstalled only when the pins change.
ensure_validators() {
    local stamp="$VENV/.stormbench-validate" want
    want="$(printf '%s\n' "${PACKAGES[@]}")"
    if [[ -x "$VENV/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        return
    fi
    echo "installing validators into $VENV: ${PACKAGES[*]}"
    rm -rf "$VENV"
    mkdir -p "$CACHE"
    python3 -m venv "$VENV" || die "python3 -m venv failed; install python3-venv"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PACKAGES[@]}" ||
        die "could not install ${PACKAGES[*]} from PyPI"
    printf '%s\n' "$want" >"$stamp"
}

# promtool: on PATH, in the cache, or unpacked there from Debian's prometheus package.
find_promtool() {
    local dir="$CACHE/promtool" tmp debs
    if command -v promtool >/dev/null 2>&1; then
        command -v promtool
        return
    fi
    if [[ ! -x "$dir/promtool" ]] && command -v apt-get >/dev/null 2>&1 &&
        command -v dpkg >/dev/null 2>&1; then
        tmp=$(mktemp -d)
        if ! (cd "$tmp" && apt-get download -qq prometheus) >/dev/null 2>&1; then
            # a fresh machine has no package lists yet
            if is_root; then
                apt-get update -qq >/dev/null 2>&1 || true
            elif command -v sudo >/dev/null 2>&1; then
                sudo apt-get update -qq >/dev/null 2>&1 || true
            fi
            (cd "$tmp" && apt-get download -qq prometheus) >/dev/null 2>&1 || true
        fi
        debs=("$tmp"/prometheus_*.deb)
        if [[ -f "${debs[0]}" ]] && dpkg -x "${debs[0]}" "$tmp/x" &&
            [[ -x "$tmp/x/usr/bin/promtool" ]]; then
            echo "unpacked promtool from ${debs[0]##*/} into $dir" >&2
            mkdir -p "$dir"
            cp "$tmp/x/usr/bin/promtool" "$dir/promtool"
        fi
        rm -rf "$tmp"
    fi
    if [[ -x "$dir/promtool" ]]; then
        echo "$dir/promtool"
    fi
}

# A kustomize to build the kustomizations with, when the machine has one: kustomize, or
# kubectl 1.21 or later (older ones embed a kustomize without `patches:`).
find_kustomize() {
    local minor
    if command -v kustomize >/dev/null 2>&1; then
        echo "kustomize build"
    elif command -v kubectl >/dev/null 2>&1; then
        minor=$(kubectl version --client -o json 2>/dev/null |
            sed -n '/"minor"/{s/.*"minor": *"\([0-9]*\).*/\1/p;q;}' || true)
        if [[ -n "$minor" ]] && ((minor >= 21)); then
            echo "kubectl kustomize"
        fi
    fi
}

main() {
    ensure_python
    ensure_validators
    local promtool kustomize
    promtool="$(find_promtool)"
    kustomize="$(find_kustomize)"
    "$VENV/bin/python" - "$K8S_VERSION" "$kustomize" "$promtool" <<'PY'
"""Validates the files under deploy/; prints one line per file, exits 1 on any failure."""
import json
import pathlib
import re
import subprocess
import sys
import tempfile
from importlib.metadata import version

import kubernetes_validate
import yaml
from check_jsonschema.builtin_schemas import get_builtin_schema
from jsonschema.validators import validator_for
from yamllint import config as yl_config
from yamllint import linter as yl_linter

K8S_VERSION, KUSTOMIZE, PROMTOOL = sys.argv[1], sys.argv[2].split(), sys.argv[3]
DEPLOY = pathlib.Path("deploy")
YAMLLINT = yl_config.YamlLintConfig("""
extends: default
rules:
  document-start: disable
  line-length: {max: 120}
  comments: {min-spaces-from-content: 1}
  comments-indentation: disable
  truthy: {allowed-values: ["true", "false"], check-keys: false}
  indentation: {spaces: consistent, indent-sequences: whatever}
""")

failed = []
checked = 0


def report(path, problem=None, detail=""):
    global checked
    checked += 1
    if problem:
        failed.append(str(path))
        print(f"FAIL  {path}: {problem}")
    else:
        print(f"ok    {path}: {detail}")


def lint(path):
    """yamllint problems of a file, as one string (None when clean)."""
    problems = list(yl_linter.run(path.read_text(), YAMLLINT, str(path)))
    if not problems:
        return None
    p = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"yamllint: line {p.line}:{p.column}: {p.desc} ({p.rule}){more}"


def documents(path):
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def k8s_validate(obj):
    """Strict schema validation of one object; returns what it is."""
    if not isinstance(obj, dict) or "kind" not in obj or "apiVersion" not in obj:
        raise ValueError("not a Kubernetes object (no apiVersion and kind)")
    try:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as e:
        where = "/".join(str(p) for p in e.path) or "(top)"
        raise ValueError(f"{obj['kind']} {where}: {e.message}") from None
    except kubernetes_validate.SchemaNotFoundError as e:
        raise ValueError(e.message) from None
    return f"{obj['kind']} {obj.get('metadata', {}).get('name', '?')}"


def check_kustomization(path, docs):
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise ValueError("a kustomization is one YAML mapping")
    k = docs[0]
    if k.get("kind") != "Kustomization" or not str(k.get("apiVersion", "")).startswith(
        "kustomize.config.k8s.io/"
    ):
        raise ValueError("not a kustomize.config.k8s.io Kustomization")
    refs = list(k.get("resources", [])) + [p["path"] for p in k.get("patches", []) if "path" in p]
    for ref in refs:
        if not (path.parent / ref).exists():
            raise ValueError(f"{ref} does not exist")
    detail = f"its {len(refs)} files exist"
    if not KUSTOMIZE:
        return detail + "; not built (no kubectl or kustomize here)"
    run = subprocess.run(
        KUSTOMIZE + [str(path.parent)], capture_output=True, text=True, timeout=120
    )
    if run.returncode != 0:
        text = " ".join(l.strip() for l in run.stderr.splitlines() if l.strip() not in ("", ">"))
        text = re.sub(r'^E\d+ [\d:.]+ +\d+ \S+\] "command failed" err=<? *', "", text)
        raise ValueError(f"{' '.join(KUSTOMIZE)}: {text[:300]}")
    built = [d for d in yaml.safe_load_all(run.stdout) if d is not None]
    for obj in built:
        k8s_validate(obj)
    return f"{detail}; {' '.join(KUSTOMIZE)} builds {len(built)} valid objects"


def k8s_file(path, patches):
    docs = documents(path)
    if path.name == "kustomization.yaml":
        return check_kustomization(path, docs)
    if path in patches:
        return "a kustomize patch (checked in its kustomization's build)"
    if not docs:
        raise ValueError("no document")
    what = [k8s_validate(d) for d in docs]
    for d in docs:
        if d["kind"] == "ConfigMap":
            # the stormbench config it carries must at least be YAML
            for key, text in (d.get("data") or {}).items():
                if key.endswith((".yaml", ".yml")):
                    try:
                        yaml.safe_load(text)
                    except yaml.YAMLError as e:
                        raise ValueError(f"data.{key}: not YAML: {e}") from None
    return f"{', '.join(what)} (Kubernetes {K8S_VERSION}, strict)"


def compose_file(path):
    doc = yaml.safe_load(path.read_text())
    schema = get_builtin_schema("vendor.compose-spec")
    errors = list(validator_for(schema)(schema).iter_errors(doc))
    if errors:
        # the deepest error names the value at fault, not the mapping that holds it
        e = max(errors, key=lambda e: len(e.path))
        where = "/".join(str(p) for p in e.path) or "(top)"
        raise ValueError(f"compose-spec: {where}: {e.message}")
    for name, svc in doc.get("services", {}).items():
        build = svc.get("build")
        if isinstance(build, dict):
            ctx = path.parent / build.get("context", ".")
            if not (ctx / build.get("dockerfile", "Dockerfile")).exists():
                raise ValueError(f"services.{name}.build: no Dockerfile in {ctx}")
        for v in svc.get("volumes", []):
            src = v.split(":")[0] if isinstance(v, str) else v.get("source", "")
            if src.startswith(".") and not (path.parent / src).exists():
                raise ValueError(f"services.{name}.volumes: {src} does not exist")
    return f"compose-spec schema, {len(doc.get('services', {}))} services, mounted paths exist"


def promtool(*args):
    """Runs promtool; raises with its complaint when it fails."""
    run = subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        lines = [l.strip() for l in (run.stdout + run.stderr).splitlines() if l.strip()]
        bad = [l for l in lines if "FAILED" in l or "error" in l.lower()] or lines
        raise ValueError(f"promtool: {' '.join(bad)[:300]}")


def promtool_version():
    if not PROMTOOL:
        return "no promtool"
    out = subprocess.run([PROMTOOL, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"version (\S+)", out)
    return f"promtool {m.group(1) if m else '?'}"


def prometheus_file(path):
    doc = yaml.safe_load(path.read_text())
    jobs = doc.get("scrape_configs") if isinstance(doc, dict) else None
    if not jobs or not all(isinstance(j, dict) and j.get("job_name") for j in jobs):
        raise ValueError("scrape_configs: expected a list of jobs, each with a job_name")
    detail = f"Prometheus config, scrape jobs: {', '.join(j['job_name'] for j in jobs)}"
    if not PROMTOOL:
        return detail + " (promtool check skipped: no promtool)"
    promtool("check", "config", "--syntax-only", str(path))
    return detail + ", promtool check config"


def grafana_provisioning(path):
    doc = yaml.safe_load(path.read_text())
    if not isinstance(doc, dict) or doc.get("apiVersion") != 1:
        raise ValueError("Grafana provisioning: apiVersion: 1 expected")
    items = doc.get("datasources") or doc.get("providers")
    if not items:
        raise ValueError("Grafana provisioning: no datasources or providers")
    return f"Grafana provisioning of {', '.join(i.get('name', '?') for i in items)}"


def no_duplicate_keys(pairs):
    keys = [k for k, _ in pairs]
    dup = {k for k in keys if keys.count(k) > 1}
    if dup:
        raise ValueError(f"duplicate key {sorted(dup)[0]!r}")
    return dict(pairs)


def dashboard(path):
    try:
        dash = json.loads(path.read_text(), object_pairs_hook=no_duplicate_keys)
    except json.JSONDecodeError as e:
        raise ValueError(f"not JSON: {e}") from None
    panels = dash.get("panels") or []
    ids = [p.get("id") for p in panels]
    if not panels or len(set(ids)) != len(ids):
        raise ValueError("panels missing, or panel ids not unique")
    # as tests/prometheus.rs: every stormbench_* name must be exported by src/export/mod.rs
    source = pathlib.Path("src/export/mod.rs").read_text()
    names = 0
    for p in panels:
        for t in p.get("targets", []):
            for word in re.split(r"[^0-9A-Za-z_]", t.get("expr", "")):
                if not word.startswith("stormbench_"):
                    continue
                base = word[len("stormbench_"):].removesuffix("_bucket")
                exported = f'"stormbench_{base}"' in source or (
                    base.startswith("pg_") and f'"{base[3:]}"' in source
                )
                if not exported:
                    raise ValueError(f"panel {p.get('id')}: {word} is not exported")
                names += 1
    detail = f"JSON, {len(panels)} panels, {names} metric references exported by src/export/mod.rs"
    if not PROMTOOL:
        return detail + " (PromQL not parsed: no promtool)"
    # each query as a recording rule, so that promtool parses it
    rules = [
        {"record": f"panel_{p.get('id')}_{t.get('refId')}", "expr": t["expr"]}
        for p in panels
        for t in p.get("targets", [])
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as f:
        json.dump({"groups": [{"name": "dashboard", "rules": rules}]}, f)
        f.flush()
        promtool("check", "rules", f.name)
    return detail + f", its {len(rules)} queries parse as PromQL"


def main():
    print(
        f"validators: kubernetes-validate {version('kubernetes-validate')} "
        f"(Kubernetes {K8S_VERSION} schemas, strict), "
        f"check-jsonschema {version('check-jsonschema')} (compose-spec), "
        f"yamllint {version('yamllint')}, {promtool_version()}"
    )
    k8s_dirs = sorted(p for p in DEPLOY.glob("k8s*") if p.is_dir())
    patches = set()
    for k in k8s_dirs:
        for kust in k.rglob("kustomization.yaml"):
            for p in yaml.safe_load(kust.read_text()).get("patches", []):
                if "path" in p:
                    patches.add(kust.parent / p["path"])
    yaml_files = sorted(
        {*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")}, key=lambda p: str(p)
    )
    for path in yaml_files:
        try:
            problem = lint(path)
            if problem:
                report(path, problem)
                continue
            if any(d in path.parents for d in k8s_dirs):
                detail = k8s_file(path, patches)
            elif path == DEPLOY / "compose.yaml":
                detail = compose_file(path)
            elif path.name in ("prometheus.yml", "prometheus.yaml") and "grafana" not in path.parts:
                detail = prometheus_file(path)
            elif "provisioning" in path.parts:
                detail = grafana_provisioning(path)
            else:
                yaml.safe_load_all(path.read_text())
                detail = "YAML"
            report(path, None, detail)
        except (ValueError, yaml.YAMLError, subprocess.TimeoutExpired) as e:
            report(path, str(e).splitlines()[0])
    for path in sorted(DEPLOY.rglob("*.json")):
        try:
            report(path, None, dashboard(path))
        except ValueError as e:
            report(path, str(e))
    if failed:
        print(f"{len(failed)} of {checked} files invalid")
        sys.exit(1)
    print(f"all {checked} files valid")


main()
PY
}

main "$@"
