#!/usr/bin/env bats
#
# End-to-end tests: `kwctl run` on annotated-policy.wasm, the way Kubewarden
# runs it (`make annotated-policy.wasm` first: kwctl annotate -m metadata.yml).
#
# The cases are the replay corpus test_data/cases/*.yml, the same files that
# `cargo run -p eci-profile-harness -- replay test_data/cases` runs, so that
# kwctl and the harness agree on one corpus (format: docs/DESIGN.md, "Replay
# cases"). Each case becomes one test (bats >= 1.11, bats_test_function);
# older bats run them all in the single test "replay corpus".
#
# How a case maps onto kwctl:
# - the request (with request_overrides applied as an RFC 7386 merge patch) is
#   written to a file for --request-path; kwctl takes a bare AdmissionRequest
#   as well as a whole AdmissionReview;
# - settings (a file or inline) are passed as --settings-json;
# - the namespace fixture is answered from test_data/sessions/*.yml through
#   --replay-host-capabilities-interactions, with --allow-context-aware (the
#   policy's metadata declares v1/Namespace). A case that must not read the
#   namespace (namespace_lookups: 0, or no fixture) gets sessions/empty.yml,
#   so a read would be answered with an error and show up as a warning. The
#   session file is checked against the fixture before kwctl runs;
# - the base64 `patch` of kwctl's AdmissionResponse is decoded and compared
#   exactly (order included) with the case's patch; warnings exactly, except
#   that a failed namespace read is compared by prefix plus the host's own
#   message, which policy-evaluator words differently from the harness;
# - a settings error is kwctl exiting non-zero with "Provided settings are not
#   valid: MESSAGE".
# kwctl does not count host calls: a session holds at most the reads a case
# expects, so an extra read shows up (as an error, then a warning), a missing
# one does not. An inline namespace object has no session file: such a case,
# if any, is skipped with the reason.

setup_file() {
  write_case_tool "${BATS_FILE_TMPDIR}/case_tool.py"
}

setup() {
  cd "${BATS_TEST_DIRNAME}"
  if ! command -v kwctl >/dev/null 2>&1; then
    skip "kwctl is not on PATH; install it (https://github.com/kubewarden/kwctl/releases) to run the end-to-end tests"
  fi
  if ! command -v jq >/dev/null 2>&1; then
    skip "jq is not on PATH; it is needed to read kwctl's answer"
  fi
  if ! python3 -c 'import yaml' >/dev/null 2>&1; then
    skip "python3 with PyYAML is not available; it is needed to read test_data/cases/*.yml"
  fi
  if [ ! -f annotated-policy.wasm ]; then
    echo "annotated-policy.wasm is missing: run 'make annotated-policy.wasm' (kwctl annotate -m metadata.yml)" >&2
    return 1
  fi
  CASE_TOOL="${BATS_FILE_TMPDIR}/case_tool.py"
}

# Runs kwctl on one prepared case directory; stdout and stderr are kept apart.
kwctl_run_case() {
  local dir="$1" rc=0
  kwctl run \
    --request-path "${dir}/request.json" \
    --settings-json "$(cat "${dir}/settings.json")" \
    --allow-context-aware \
    --replay-host-capabilities-interactions "$(cat "${dir}/session")" \
    annotated-policy.wasm >"${dir}/stdout" 2>"${dir}/stderr" || rc=$?
  echo "${rc}" >"${dir}/status"
}

replay_case() {
  local case_file="$1"
  local dir
  dir="$(mktemp -d "${BATS_TEST_TMPDIR}/case.XXXXXX")"
  run python3 "${CASE_TOOL}" prepare "${case_file}" "${dir}"
  echo "${output}"
  [ "${status}" -eq 0 ]
  if [ -f "${dir}/skip" ]; then
    skip "$(cat "${dir}/skip")"
  fi
  kwctl_run_case "${dir}"
  run python3 "${CASE_TOOL}" check "${dir}"
  echo "${output}"
  [ "${status}" -eq 0 ]
}

# bats >= 1.11 registers tests at run time (bats_test_function --description;
# older bats have an internal function of the same name, with another meaning).
dynamic_tests() {
  [ -n "${BATS_VERSION:-}" ] &&
    [ "$(printf '%s\n' 1.11.0 "${BATS_VERSION}" | sort -V | head -n 1)" = 1.11.0 ]
}

# One test per case where bats can register tests at run time. (Kept on one
# line: bats < 1.11 takes every line that starts with bats_test_function for
# a test of its own.)
register_case() { bats_test_function --description "case $(basename "$1" .yml)" -- replay_case "$1"; }
if dynamic_tests; then
  for case_file in "${BATS_TEST_DIRNAME}"/test_data/cases/*.yml; do
    register_case "${case_file}"
  done
fi

@test "replay corpus (all cases in one test, for bats < 1.11)" {
  if dynamic_tests; then
    skip "each case runs as its own test"
  fi
  local failed=0 case_file dir
  for case_file in test_data/cases/*.yml; do
    dir="$(mktemp -d "${BATS_TEST_TMPDIR}/case.XXXXXX")"
    if ! python3 "${CASE_TOOL}" prepare "${case_file}" "${dir}"; then
      echo "FAIL ${case_file}: cannot prepare"; failed=1; continue
    fi
    if [ -f "${dir}/skip" ]; then
      echo "skip ${case_file}: $(cat "${dir}/skip")"; continue
    fi
    kwctl_run_case "${dir}"
    if python3 "${CASE_TOOL}" check "${dir}"; then
      echo "ok   ${case_file}"
    else
      echo "FAIL ${case_file}"; failed=1
    fi
  done
  [ "${failed}" -eq 0 ]
}

# A few cases spelt out the way Kubewarden's own e2e tests read.

@test "send a labelled Deployment pod to ECI: exact patch" {
  run bash -c 'kwctl run \
    --request-path test_data/requests/deployment-pod-eci-label.json \
    --allow-context-aware \
    --replay-host-capabilities-interactions test_data/sessions/default.yml \
    annotated-policy.wasm 2>/dev/null | jq -er ".patch" | base64 --decode | jq -cS .'
  echo "output = ${output}"
  [ "${status}" -eq 0 ]
  [ "${output}" = '[{"op":"add","path":"/spec/nodeSelector","value":{"type":"virtual-kubelet"}},{"op":"add","path":"/spec/tolerations/2","value":{"effect":"NoSchedule","key":"virtual-kubelet.io/provider","operator":"Exists"}}]' ]
}

@test "leave a DaemonSet pod of an ECI namespace alone, with a warning" {
  run bash -c 'kwctl run \
    --request-path test_data/requests/daemonset-pod.json \
    --allow-context-aware \
    --replay-host-capabilities-interactions test_data/sessions/vk.yml \
    annotated-policy.wasm 2>/dev/null'
  echo "output = ${output}"
  [ "${status}" -eq 0 ]
  [ "$(echo "${output}" | jq -r '.allowed')" = "true" ]
  [ "$(echo "${output}" | jq -r '.patch')" = "null" ]
  [ "$(echo "${output}" | jq -c '.warnings')" = '["eci-profile: pod not sent to a virtual node: it is owned by DaemonSet \"node-exporter\", and DaemonSet pods cannot run on virtual nodes"]' ]
}

@test "reject the cluster-level key vSwitchIds in the settings" {
  run kwctl run \
    --request-path test_data/requests/kubectl-run-nginx.json \
    --settings-json '{"vSwitchIds": "vsw-2ze23nqzig8inprou4k2j,vsw-2ze94pjtfuj9vaymf7h5n"}' \
    --allow-context-aware \
    --replay-host-capabilities-interactions test_data/sessions/empty.yml \
    annotated-policy.wasm
  echo "output = ${output}"
  [ "${status}" -ne 0 ]
  [[ "${output}" == *'Provided settings are not valid: settings: "vSwitchIds" is a cluster-level parameter of the eci-profile ConfigMap; it belongs to virtual-kubelet, not to this policy. To do the same per pod, add the annotation "k8s.aliyun.com/eci-vswitch" in a selector'"'"'s effect'* ]]
}

@test "namespace not found: accept unchanged with a warning that says why" {
  run bash -c 'kwctl run \
    --request-path test_data/requests/kubectl-run-nginx-vk.json \
    --allow-context-aware \
    --replay-host-capabilities-interactions test_data/sessions/not-found-vk.yml \
    annotated-policy.wasm 2>/dev/null'
  echo "output = ${output}"
  [ "${status}" -eq 0 ]
  [ "$(echo "${output}" | jq -r '.allowed')" = "true" ]
  [ "$(echo "${output}" | jq -r '.patch')" = "null" ]
  [ "$(echo "${output}" | jq -r '.warnings | length')" -eq 1 ]
  [[ "$(echo "${output}" | jq -r '.warnings[0]')" == 'eci-profile: pod left unchanged: cannot read namespace "vk": '*"Cannot find v1/Namespace named 'vk'"* ]]
}

@test "namespace not found with onNamespaceLookupError: Fail rejects the pod" {
  run bash -c 'kwctl run \
    --request-path test_data/requests/kubectl-run-nginx-vk.json \
    --settings-path test_data/settings/fail-on-lookup-error.yml \
    --allow-context-aware \
    --replay-host-capabilities-interactions test_data/sessions/not-found-vk.yml \
    annotated-policy.wasm 2>/dev/null'
  echo "output = ${output}"
  [ "${status}" -eq 0 ]
  [ "$(echo "${output}" | jq -r '.allowed')" = "false" ]
  [[ "$(echo "${output}" | jq -r '.status.message')" == 'eci-profile: cannot read namespace "vk": '*"Cannot find v1/Namespace named 'vk'"* ]]
}

# The case tool: turns a case into kwctl's inputs, then checks kwctl's answer.
write_case_tool() {
  cat >"$1" <<'PY'
import base64, json, os, sys
import yaml

TD = "test_data"
FAILED_READ = 'eci-profile: pod left unchanged: cannot read namespace "{ns}": '
FAILED_READ_FAIL = 'eci-profile: cannot read namespace "{ns}": '


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    target = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = merge_patch(target.get(key), value)
    return target


def load_yaml(path):
    with open(os.path.join(TD, path)) as f:
        return yaml.safe_load(f)


def expected_session(case, namespace):
    """(session file, expected exchange or None, host message for a failed read)."""
    fixture = case.get("namespace")
    if case["expect"].get("namespace_lookups") == 0 or not fixture:
        return "sessions/empty.yml", None, None
    if "found" in fixture:
        if not isinstance(fixture["found"], str):
            raise LookupError("inline namespace object: no kwctl session file for it")
        stem = os.path.basename(fixture["found"]).rsplit(".", 1)[0]
        return f"sessions/{stem}.yml", ("Success", load_yaml(fixture["found"])), None
    if fixture.get("not_found"):
        message = f"Cannot find v1/Namespace named '{namespace}' inside of namespace 'None'"
        return f"sessions/not-found-{namespace}.yml", ("Error", message), message
    if "error" in fixture:
        return f"sessions/error-{namespace}.yml", ("Error", fixture["error"]), fixture["error"]
    if "malformed" in fixture:
        return f"sessions/malformed-{namespace}.yml", ("Success", fixture["malformed"]), None
    raise LookupError(f"namespace fixture not understood: {fixture}")


def check_session(path, namespace, exchange):
    with open(os.path.join(TD, path)) as f:
        recorded = yaml.safe_load(f) or []
    if exchange is None:
        if recorded:
            raise ValueError(f"{path} must hold no exchange")
        return
    if len(recorded) != 1 or recorded[0].get("type") != "Exchange":
        raise ValueError(f"{path} must hold exactly one Exchange")
    tag, _, body = recorded[0]["request"].partition("\n")
    request = yaml.safe_load(body)
    wanted = {"api_version": "v1", "kind": "Namespace", "name": namespace,
              "namespace": None, "disable_cache": False}
    if tag.strip() != "!KubernetesGetResource" or request != wanted:
        raise ValueError(f"{path}: request {tag} {request} is not get_resource {wanted}")
    kind, value = exchange
    response = recorded[0]["response"]
    if response.get("type") != kind:
        raise ValueError(f"{path}: response type {response.get('type')}, want {kind}")
    if kind == "Error":
        same = response.get("message") == value
    elif isinstance(value, str):
        same = response.get("payload") == value
    else:
        same = json.loads(response.get("payload")) == value
    if not same:
        raise ValueError(f"{path}: response does not match the case's namespace fixture")


def prepare(case_path, out):
    with open(case_path) as f:
        case = yaml.safe_load(f)
    with open(os.path.join(TD, case["request"])) as f:
        request = json.load(f)
    request = merge_patch(request, case.get("request_overrides") or {})
    settings = case.get("settings")
    if isinstance(settings, str):
        settings = load_yaml(settings)
    if settings is None:
        settings = {}
    namespace = request.get("namespace", "")
    try:
        session, exchange, host_message = expected_session(case, namespace)
    except LookupError as e:
        with open(os.path.join(out, "skip"), "w") as f:
            f.write(f"kwctl cannot express this case: {e}")
        return
    check_session(session, namespace, exchange)
    expect = dict(case["expect"])
    expect["_namespace"] = namespace
    expect["_host_message"] = host_message
    for name, content in (("request.json", json.dumps(request)),
                          ("settings.json", json.dumps(settings)),
                          ("session", os.path.join(TD, session)),
                          ("expect.json", json.dumps(expect))):
        with open(os.path.join(out, name), "w") as f:
            f.write(content)


def same_text(want, got, prefix, host_message):
    """Exact, except a failed namespace read: same prefix, and the host's message inside."""
    if host_message is not None and want.startswith(prefix):
        return got.startswith(prefix) and host_message in got
    return want == got


def check(out):
    def read(name):
        with open(os.path.join(out, name)) as f:
            return f.read()

    expect = json.loads(read("expect.json"))
    status, stdout, stderr = int(read("status")), read("stdout"), read("stderr")
    problems = []
    if "settings_error" in expect:
        wanted = "Provided settings are not valid: " + expect["settings_error"]
        if status == 0:
            problems.append("kwctl accepted the settings")
        elif wanted not in stderr + stdout:
            problems.append(f"settings error\n  want: {wanted}\n  got:  {stderr.strip()}")
    elif status != 0:
        problems.append(f"kwctl failed ({status}): {stderr.strip()}")
    else:
        lines = [l for l in stdout.splitlines() if l.startswith("{")]
        answer = json.loads(lines[-1])
        ns, host = expect["_namespace"], expect["_host_message"]
        if answer.get("allowed") != expect["accepted"]:
            problems.append(f"allowed: want {expect['accepted']}, got {answer.get('allowed')}")
        if not expect["accepted"]:
            got = (answer.get("status") or {}).get("message") or ""
            if not same_text(expect["message"], got, FAILED_READ_FAIL.format(ns=ns), host):
                problems.append(f"message\n  want: {expect['message']}\n  got:  {got}")
        if "patch" in expect:
            got = json.loads(base64.b64decode(answer["patch"])) if answer.get("patch") else []
            if got != expect["patch"]:
                problems.append("patch\n  want: " + json.dumps(expect["patch"]) + "\n  got:  " + json.dumps(got))
        if "warnings" in expect:
            got = answer.get("warnings") or []
            want = expect["warnings"]
            if len(got) != len(want) or not all(
                    same_text(w, g, FAILED_READ.format(ns=ns), host) for w, g in zip(want, got)):
                problems.append("warnings\n  want: " + json.dumps(want) + "\n  got:  " + json.dumps(got))
    for p in problems:
        print(p)
    if problems:
        print("kwctl stderr:\n" + stderr)
        sys.exit(1)


if __name__ == "__main__":
    if sys.argv[1] == "prepare":
        prepare(sys.argv[2], sys.argv[3])
    else:
        check(sys.argv[2])
PY
}
