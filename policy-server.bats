#!/usr/bin/env bats
#
# The policy under Kubewarden's own policy-server, as a cluster runs it:
# annotated-policy.wasm (make annotated-policy.wasm) is loaded through a
# `file://` URL from a policies.yml, policy-server listens on 127.0.0.1 over
# plain HTTP, and real AdmissionReviews are POSTed to /validate/POLICY_ID.
# There is no cluster: policy-server runs with
# --ignore-kubernetes-connection-failure, so every namespace look-up fails,
# which is what the look-up tests need. A second server is given a kubeconfig
# whose API server is a closed loopback port: its look-ups fail with the
# host's multi-line error (the cause chain, and a stack trace). Each policy is granted what the
# Kubewarden controller grants a ClusterAdmissionPolicy (hostCapabilities "*"
# and the metadata's contextAwareResources), so look-ups reach the missing
# cluster instead of being refused by the host. The server runs with
# RUST_BACKTRACE=1, which puts a stack trace into every host error: the
# warnings must still be one line of at most 256 characters.
#
# Needs policy-server on PATH (built from Kubewarden's kubewarden-controller
# repository, crates/policy-server), curl, jq and python3; whatever is
# missing is skipped with the reason. Run: bats policy-server.bats

POLICY_TIMEOUT=2

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# policies.yml entry: ID, then the settings as JSON (JSON is YAML).
policy_entry() {
  cat <<EOF
$1:
  module: file://${BATS_TEST_DIRNAME}/annotated-policy.wasm
  allowedToMutate: true
  contextAwareResources:
    - apiVersion: v1
      kind: Namespace
    - apiVersion: v1
      kind: ConfigMap
  hostCapabilities: ["*"]
  settings: $2
EOF
}

# Starts policy-server on POLICIES_FILE; PS_PORT, PS_PID and PS_LOG are set.
# Returns non-zero (after PS_LOG is complete) if the server exits instead of
# becoming ready.
start_policy_server() {
  local policies="$1" name="$2" ready_port
  PS_PORT="$(free_port)"
  ready_port="$(free_port)"
  PS_LOG="${PS_DIR}/${name}.log"
  mkdir -p "${PS_DIR}/${name}-download"
  RUST_BACKTRACE=1 policy-server \
    --addr 127.0.0.1 --port "${PS_PORT}" --readiness-probe-port "${ready_port}" \
    --policies "${policies}" --policies-download-dir "${PS_DIR}/${name}-download" \
    --policy-timeout "${POLICY_TIMEOUT}" --workers 2 --log-no-color \
    --ignore-kubernetes-connection-failure >"${PS_LOG}" 2>&1 &
  PS_PID=$!
  for _ in $(seq 600); do
    if curl -fsS "http://127.0.0.1:${ready_port}/readiness" >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "${PS_PID}" 2>/dev/null; then
      wait "${PS_PID}" || PS_STATUS=$?
      return 1
    fi
    sleep 0.1
  done
  echo "policy-server did not become ready in 60 s; its log:" >&2
  cat "${PS_LOG}" >&2
  return 1
}

setup_file() {
  cd "${BATS_TEST_DIRNAME}" || return 1
  export PS_SKIP=""
  for tool in policy-server kwctl curl jq python3; do
    if ! command -v "${tool}" >/dev/null 2>&1; then
      export PS_SKIP="${tool} is not on PATH; the policy-server tests need policy-server, kwctl (to annotate the policy), curl, jq and python3"
      return 0
    fi
  done
  if [ ! -f annotated-policy.wasm ]; then
    echo "annotated-policy.wasm is missing: run 'make annotated-policy.wasm' (kwctl annotate -m metadata.yml)" >&2
    return 1
  fi
  export PS_DIR="${BATS_FILE_TMPDIR}/policy-server"
  mkdir -p "${PS_DIR}"
  {
    policy_entry pod-label '{"selectors": [{"name": "eci-pods", "objectSelector": {"matchLabels": {"alibabacloud.com/eci": "true"}}}]}'
    policy_entry every-pod '{"selectors": [{"name": "every-pod", "objectSelector": {}}]}'
    policy_entry defaults '{}'
    policy_entry lookup-fail '{"onNamespaceLookupError": "Fail"}'
    policy_entry live-ignore '{"configMapRef": {"namespace": "kube-system", "name": "eci-profile"}, "onProfileError": "Ignore"}'
    policy_entry live-fail '{"configMapRef": {"namespace": "kube-system", "name": "eci-profile"}, "onProfileError": "Fail"}'
  } >"${PS_DIR}/policies.yml"
  if ! start_policy_server "${PS_DIR}/policies.yml" server; then
    echo "policy-server did not start; its log:" >&2
    cat "${PS_LOG}" >&2
    return 1
  fi
  export PS_PORT PS_PID PS_LOG
  # The second server: its cluster refuses connections.
  local main_port="${PS_PORT}" main_pid="${PS_PID}" main_log="${PS_LOG}"
  printf '%s\n' 'apiVersion: v1' 'kind: Config' \
    "clusters: [{name: closed, cluster: {server: \"http://127.0.0.1:$(free_port)\"}}]" \
    'users: [{name: nobody, user: {token: none}}]' \
    'contexts: [{name: closed, context: {cluster: closed, user: nobody}}]' \
    'current-context: closed' >"${PS_DIR}/kubeconfig"
  policy_entry defaults '{}' >"${PS_DIR}/unreachable.yml"
  if ! KUBECONFIG="${PS_DIR}/kubeconfig" start_policy_server "${PS_DIR}/unreachable.yml" unreachable; then
    echo "policy-server (cluster refusing connections) did not start; its log:" >&2
    cat "${PS_LOG}" >&2
    return 1
  fi
  export UNREACHABLE_PORT="${PS_PORT}" UNREACHABLE_PID="${PS_PID}" UNREACHABLE_LOG="${PS_LOG}"
  export PS_PORT="${main_port}" PS_PID="${main_pid}" PS_LOG="${main_log}"
  # Requests too large for a file of their own in test_data/.
  python3 - "${PS_DIR}" <<'PY'
import json, sys
out = sys.argv[1]
with open("test_data/requests/deployment-pod-eci-label.json") as f:
    base = json.load(f)
big = json.loads(json.dumps(base))
env = [{"name": f"VAR_{i:05d}", "value": "v" * 90} for i in range(10000)]
big["object"]["spec"]["containers"][0]["env"] = env
many = json.loads(json.dumps(base))
many["object"]["metadata"]["labels"].update({f"label-{i:05d}": f"value-{i}" for i in range(10000)})
for name, request in (("1mb-pod", big), ("10000-labels", many)):
    with open(f"{out}/{name}.json", "w") as f:
        json.dump(request, f)
PY
}

teardown_file() {
  local pid
  for pid in "${PS_PID:-}" "${UNREACHABLE_PID:-}"; do
    if [ -n "${pid}" ]; then
      kill "${pid}" 2>/dev/null || true
      wait "${pid}" 2>/dev/null || true
    fi
  done
}

setup() {
  if [ -n "${PS_SKIP:-}" ]; then
    skip "${PS_SKIP}"
  fi
  cd "${BATS_TEST_DIRNAME}" || return 1
}

# POSTs the AdmissionRequest in FILE, wrapped in an AdmissionReview, to
# POLICY (of the server on PORT, default the first); the AdmissionReview's response goes to ${BATS_TEST_TMPDIR}/response.json
# and the decoded JSON patch (or "null") to ${BATS_TEST_TMPDIR}/patch.json.
review() {
  local policy="$1" file="$2" port="${3:-${PS_PORT}}"
  jq '{apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: .}' "${file}" \
    >"${BATS_TEST_TMPDIR}/review.json"
  curl -sS --fail-with-body -o "${BATS_TEST_TMPDIR}/answer.json" -w '%{time_total}' \
    -H 'Content-Type: application/json' --data-binary "@${BATS_TEST_TMPDIR}/review.json" \
    "http://127.0.0.1:${port}/validate/${policy}" >"${BATS_TEST_TMPDIR}/seconds"
  jq '.response' "${BATS_TEST_TMPDIR}/answer.json" >"${BATS_TEST_TMPDIR}/response.json"
  if [ "$(jq -r '.patch // empty' "${BATS_TEST_TMPDIR}/response.json")" = "" ]; then
    echo null >"${BATS_TEST_TMPDIR}/patch.json"
  else
    jq -r '.patch' "${BATS_TEST_TMPDIR}/response.json" | base64 --decode | jq -c . >"${BATS_TEST_TMPDIR}/patch.json"
  fi
}

response() { jq -c "$1" "${BATS_TEST_TMPDIR}/response.json"; }
patch() { cat "${BATS_TEST_TMPDIR}/patch.json"; }

@test "a labelled Deployment pod gets the exact JSONPatch" {
  review pod-label test_data/requests/deployment-pod-eci-label.json
  cat "${BATS_TEST_TMPDIR}/response.json"
  [ "$(response .uid)" = '"8e4b7c21-3f9a-4d6e-b1c2-7a8d9e0f1a2b"' ]
  [ "$(response .allowed)" = true ]
  [ "$(response .patchType)" = '"JSONPatch"' ]
  [ "$(patch)" = '[{"op":"add","path":"/spec/nodeSelector","value":{"type":"virtual-kubelet"}},{"op":"add","path":"/spec/tolerations/2","value":{"effect":"NoSchedule","key":"virtual-kubelet.io/provider","operator":"Exists"}}]' ]
  [ "$(response '.warnings // []')" = '[]' ]
}

@test "an unlabelled pod gets no patch and no warning" {
  review pod-label test_data/requests/deployment-pod.json
  cat "${BATS_TEST_TMPDIR}/response.json"
  [ "$(response .allowed)" = true ]
  [ "$(patch)" = null ]
  [ "$(response '.warnings // []')" = '[]' ]
}

@test "a DaemonSet pod is left alone, with the warning that says why" {
  review every-pod test_data/requests/daemonset-pod.json
  cat "${BATS_TEST_TMPDIR}/response.json"
  [ "$(response .allowed)" = true ]
  [ "$(patch)" = null ]
  [ "$(response .warnings)" = '["eci-profile: pod not sent to a virtual node: it is owned by DaemonSet \"node-exporter\", and DaemonSet pods cannot run on virtual nodes"]' ]
}

@test "a namespace selector without a cluster: Ignore accepts unchanged with one warning" {
  review defaults test_data/requests/deployment-pod.json
  cat "${BATS_TEST_TMPDIR}/response.json"
  [ "$(response .allowed)" = true ]
  [ "$(patch)" = null ]
  # policy-server's own words for a look-up without a cluster.
  [ "$(response .warnings)" = '["eci-profile: pod left unchanged: cannot read namespace \"default\": kube::Client was not initialized properly"]' ]
}

@test "a namespace selector without a cluster: Fail rejects with the same reason" {
  review lookup-fail test_data/requests/deployment-pod.json
  cat "${BATS_TEST_TMPDIR}/response.json"
  [ "$(response .allowed)" = false ]
  [ "$(patch)" = null ]
  [ "$(response .status.message)" = '"eci-profile: cannot read namespace \"default\": kube::Client was not initialized properly"' ]
}

@test "a live profile without a cluster: Ignore accepts the pod unchanged with one warning" {
  review live-ignore test_data/requests/deployment-pod-eci-label.json
  cat "${BATS_TEST_TMPDIR}/response.json"
  [ "$(response .allowed)" = true ]
  [ "$(patch)" = null ]
  # The ConfigMap is read before anything else: the labelled pod stays as it is.
  [ "$(response .warnings)" = '["eci-profile: pod left unchanged: cannot read ConfigMap kube-system/eci-profile: kube::Client was not initialized properly"]' ]
}

@test "a live profile without a cluster: Fail rejects with the same reason" {
  review live-fail test_data/requests/deployment-pod-eci-label.json
  cat "${BATS_TEST_TMPDIR}/response.json"
  [ "$(response .allowed)" = false ]
  [ "$(patch)" = null ]
  [ "$(response '.warnings // []')" = '[]' ]
  [ "$(response .status.message)" = '"eci-profile: cannot read ConfigMap kube-system/eci-profile: kube::Client was not initialized properly"' ]
}

@test "a live profile: requests other than Pod CREATE never read the ConfigMap" {
  jq '.operation = "UPDATE"' test_data/requests/deployment-pod-eci-label.json >"${BATS_TEST_TMPDIR}/update.json"
  review live-fail "${BATS_TEST_TMPDIR}/update.json"
  cat "${BATS_TEST_TMPDIR}/response.json"
  [ "$(response .allowed)" = true ]
  [ "$(patch)" = null ]
  [ "$(response '.warnings // []')" = '[]' ]
}

@test "a look-up error with a cause chain and a stack trace reaches the user as its first line" {
  review defaults test_data/requests/deployment-pod.json "${UNREACHABLE_PORT}"
  cat "${BATS_TEST_TMPDIR}/response.json"
  # The host's error as policy-server logs it: several lines.
  for _ in $(seq 50); do grep -qF 'Caused by:' "${UNREACHABLE_LOG}" && break; sleep 0.1; done
  grep -F 'ServiceError: client error (Connect)' "${UNREACHABLE_LOG}"
  grep -A3 -F 'Caused by:' "${UNREACHABLE_LOG}"
  [ "$(response .allowed)" = true ]
  [ "$(patch)" = null ]
  [ "$(response .warnings)" = '["eci-profile: pod left unchanged: cannot read namespace \"default\": ServiceError: client error (Connect)"]' ]
}

@test "a 1 MB pod is answered within the policy timeout, with the exact patch" {
  [ "$(stat -c %s "${PS_DIR}/1mb-pod.json")" -gt 1000000 ]
  review pod-label "${PS_DIR}/1mb-pod.json"
  echo "answered in $(cat "${BATS_TEST_TMPDIR}/seconds") s"
  [ "$(response .allowed)" = true ]
  [ "$(patch)" = '[{"op":"add","path":"/spec/nodeSelector","value":{"type":"virtual-kubelet"}},{"op":"add","path":"/spec/tolerations/2","value":{"effect":"NoSchedule","key":"virtual-kubelet.io/provider","operator":"Exists"}}]' ]
  python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < ${POLICY_TIMEOUT} else 1)" "$(cat "${BATS_TEST_TMPDIR}/seconds")"
}

@test "a pod with 10 000 labels is answered within the policy timeout, with the exact patch" {
  review pod-label "${PS_DIR}/10000-labels.json"
  echo "answered in $(cat "${BATS_TEST_TMPDIR}/seconds") s"
  [ "$(response .allowed)" = true ]
  [ "$(patch)" = '[{"op":"add","path":"/spec/nodeSelector","value":{"type":"virtual-kubelet"}},{"op":"add","path":"/spec/tolerations/2","value":{"effect":"NoSchedule","key":"virtual-kubelet.io/provider","operator":"Exists"}}]' ]
  python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < ${POLICY_TIMEOUT} else 1)" "$(cat "${BATS_TEST_TMPDIR}/seconds")"
}

@test "invalid settings: policy-server refuses to start, with the policy's message in its log" {
  policy_entry bad-settings '{"vSwitchIds": "vsw-2ze23nqzig8inprou4k2j"}' >"${PS_DIR}/bad.yml"
  local started=0
  start_policy_server "${PS_DIR}/bad.yml" bad && started=1
  if [ "${started}" -eq 1 ]; then
    kill "${PS_PID}"
    wait "${PS_PID}" || true
  fi
  cat "${PS_DIR}/bad.log"
  [ "${started}" -eq 0 ]
  grep -F 'settings: \"vSwitchIds\" is a cluster-level parameter of the eci-profile ConfigMap' "${PS_DIR}/bad.log" ||
    grep -F 'settings: "vSwitchIds" is a cluster-level parameter of the eci-profile ConfigMap' "${PS_DIR}/bad.log"
}
