#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from test_data/: settings files and inline case
# settings for the settings targets, the pods of the captured requests (and of
# test_data/bad/) for the evaluation targets. The structured targets read their
# input through `arbitrary`; the same bytes only give them a varied start.
# Corpus directories are git-ignored; run this before the first `cargo fuzz run`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python3 - "$here/../test_data" "$here/corpus" <<'PY'
import hashlib, json, pathlib, sys
import yaml

data, corpus = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])

def save(target, value):
    raw = value if isinstance(value, bytes) else json.dumps(value, separators=(",", ":")).encode()
    out = corpus / target
    out.mkdir(parents=True, exist_ok=True)
    (out / hashlib.sha1(raw).hexdigest()).write_bytes(raw)
    return 1

def load(path):
    text = path.read_text()
    return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)

def pod_of(request):
    if isinstance(request, dict) and request.get("kind") == "AdmissionReview":
        request = request.get("request")
    return request.get("object") if isinstance(request, dict) else None

settings, pods = [], []
for path in sorted(data.glob("settings/*.y*ml")) + sorted(data.glob("bad/settings/*")):
    try:
        settings.append(load(path) or {})
    except Exception as e:  # a deliberately broken file: its bytes are a seed too
        save("settings_bytes", path.read_bytes())
for path in sorted(data.glob("cases/*.yml")):
    case = yaml.safe_load(path.read_text())
    if isinstance(case.get("settings"), dict):
        settings.append(case["settings"])
    if isinstance(case.get("request"), dict) and pod_of(case["request"]) is not None:
        pods.append(pod_of(case["request"]))
for path in sorted(data.glob("requests/*.json")) + sorted(data.glob("bad/requests/*.json")):
    try:
        pod = pod_of(load(path))
    except Exception:
        continue
    if pod is not None and path.stat().st_size < 100_000:
        pods.append(pod)

n = {t: 0 for t in ["settings_bytes", "settings_structured", "evaluate_json", "evaluate_structured"]}
for s in settings:
    n["settings_bytes"] += save("settings_bytes", s)
    n["settings_structured"] += save("settings_structured", s)
for p in pods:
    n["evaluate_json"] += save("evaluate_json", p)
    n["evaluate_structured"] += save("evaluate_structured", p)
for target, count in n.items():
    print(f"{target}: {count} seeds in {corpus / target}")
PY
