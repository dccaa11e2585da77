#!/usr/bin/env bats
#
# OCI round trip, the way the policy reaches a cluster: `kwctl push` of
# annotated-policy.wasm to an OCI registry, `kwctl pull` back, and
# `kwctl run registry://…` answering captured requests exactly as
# `kwctl run annotated-policy.wasm` does.
#
# The registry is Debian's docker-registry (package docker-registry, the CNCF
# Distribution registry), started by this file on a free loopback port with
# filesystem storage in a temporary directory, and stopped at the end. kwctl
# reaches it over plain HTTP through a sources file (insecure_sources). kwctl's
# store and config live in the temporary directory too (XDG_*), so the user's
# own store is not touched.
#
# Needs: /usr/bin/docker-registry (apt-get install docker-registry), curl;
# kwctl on PATH and annotated-policy.wasm (make annotated-policy.wasm) for the
# kwctl tests; jq to compare answers. Whatever is missing is skipped, with the
# reason. Run: bats oci.bats

REGISTRY_BIN="${REGISTRY_BIN:-/usr/bin/docker-registry}"
REPOSITORY="eci-profile"
TAG="test"

free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
    return
  fi
  local port
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
      echo "${port}"
      return
    fi
  done
  return 1
}

setup_file() {
  cd "${BATS_TEST_DIRNAME}" || return 1
  export OCI_SKIP=""
  if [ ! -x "${REGISTRY_BIN}" ]; then
    export OCI_SKIP="${REGISTRY_BIN} is missing: apt-get install docker-registry to run the OCI round trip"
    return 0
  fi
  if ! command -v curl >/dev/null 2>&1; then
    export OCI_SKIP="curl is missing: it is needed to wait for the registry"
    return 0
  fi

  export OCI_DIR="${BATS_FILE_TMPDIR}/oci"
  mkdir -p "${OCI_DIR}/storage" "${OCI_DIR}/xdg/config" "${OCI_DIR}/xdg/cache" "${OCI_DIR}/xdg/data"
  REGISTRY_PORT="$(free_port)"
  export REGISTRY_PORT
  export REGISTRY="127.0.0.1:${REGISTRY_PORT}"
  cat >"${OCI_DIR}/registry.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${OCI_DIR}/storage
  delete:
    enabled: true
http:
  addr: ${REGISTRY}
  secret: eci-profile-oci-bats
EOF
  "${REGISTRY_BIN}" serve "${OCI_DIR}/registry.yml" >"${OCI_DIR}/registry.log" 2>&1 &
  echo $! >"${OCI_DIR}/registry.pid"

  for _ in $(seq 100); do
    if curl -fsS "http://${REGISTRY}/v2/" >/dev/null 2>&1; then
      break
    fi
    if ! kill -0 "$(cat "${OCI_DIR}/registry.pid")" 2>/dev/null; then
      echo "docker-registry exited:" >&2
      cat "${OCI_DIR}/registry.log" >&2
      return 1
    fi
    sleep 0.1
  done
  curl -fsS "http://${REGISTRY}/v2/" >/dev/null || {
    echo "docker-registry does not answer on ${REGISTRY}:" >&2
    cat "${OCI_DIR}/registry.log" >&2
    return 1
  }

  # kwctl: plain HTTP to this registry only; its store and config kept here.
  cat >"${OCI_DIR}/sources.yml" <<EOF
insecure_sources:
  - "${REGISTRY}"
EOF
  export XDG_CONFIG_HOME="${OCI_DIR}/xdg/config"
  export XDG_CACHE_HOME="${OCI_DIR}/xdg/cache"
  export XDG_DATA_HOME="${OCI_DIR}/xdg/data"
}

teardown_file() {
  if [ -n "${OCI_DIR:-}" ] && [ -f "${OCI_DIR}/registry.pid" ]; then
    local pid
    pid="$(cat "${OCI_DIR}/registry.pid")"
    kill "${pid}" 2>/dev/null || true
    wait "${pid}" 2>/dev/null || true
    rm -f "${OCI_DIR}/registry.pid"
  fi
}

setup() {
  cd "${BATS_TEST_DIRNAME}" || return 1
  if [ -n "${OCI_SKIP}" ]; then
    skip "${OCI_SKIP}"
  fi
}

need_kwctl() {
  if ! command -v kwctl >/dev/null 2>&1; then
    skip "kwctl is not on PATH (https://github.com/kubewarden/kwctl/releases); the registry itself was checked"
  fi
  if ! command -v jq >/dev/null 2>&1; then
    skip "jq is not on PATH; it is needed to compare kwctl's answers"
  fi
  if [ ! -f annotated-policy.wasm ]; then
    echo "annotated-policy.wasm is missing: run 'make annotated-policy.wasm' (kwctl annotate -m metadata.yml)" >&2
    return 1
  fi
}

uri() {
  echo "registry://${REGISTRY}/${REPOSITORY}:${TAG}"
}

# Pushes annotated-policy.wasm once; later tests reuse the pushed artifact.
ensure_pushed() {
  if curl -fsS "http://${REGISTRY}/v2/${REPOSITORY}/manifests/${TAG}" \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' >/dev/null 2>&1; then
    return 0
  fi
  kwctl push --sources-path "${OCI_DIR}/sources.yml" annotated-policy.wasm "$(uri)"
}

@test "docker-registry serves the OCI distribution API on loopback" {
  run curl -fsS "http://${REGISTRY}/v2/"
  [ "${status}" -eq 0 ]
  [ "${output}" = "{}" ]
  run curl -fsS "http://${REGISTRY}/v2/_catalog"
  [ "${status}" -eq 0 ]
  [[ "${output}" == '{"repositories":'* ]]
}

# Without kwctl: the HTTP exchanges of a push (OCI distribution spec), with
# the media types Kubewarden policies use (config application/vnd.wasm.config.v1+json,
# layer application/vnd.wasm.content.layer.v1+wasm), then a pull of the same.
@test "docker-registry stores and serves a Wasm artifact laid out as kwctl pushes it" {
  if ! command -v sha256sum >/dev/null 2>&1; then
    skip "sha256sum is missing"
  fi
  local dir="${BATS_TEST_TMPDIR}" repo="curl-probe/eci-profile"
  printf '\0asm\1\0\0\0' >"${dir}/module.wasm" # the empty Wasm module
  printf '{}' >"${dir}/config.json"
  push_blob() {
    local file="$1" digest location
    digest="sha256:$(sha256sum "${file}" | cut -d' ' -f1)"
    location="$(curl -fsS -o /dev/null -D - -X POST "http://${REGISTRY}/v2/${repo}/blobs/uploads/" |
      tr -d '\r' | sed -n 's/^[Ll]ocation: //p')"
    [ -n "${location}" ]
    case "${location}" in http*) ;; *) location="http://${REGISTRY}${location}" ;; esac
    case "${location}" in *\?*) location="${location}&digest=${digest}" ;; *) location="${location}?digest=${digest}" ;; esac
    curl -fsS -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@${file}" "${location}"
    echo "${digest}"
  }
  local layer config
  layer="$(push_blob "${dir}/module.wasm" | tail -n1)"
  config="$(push_blob "${dir}/config.json" | tail -n1)"
  cat >"${dir}/manifest.json" <<EOF
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
 "config":{"mediaType":"application/vnd.wasm.config.v1+json","digest":"${config}","size":2},
 "layers":[{"mediaType":"application/vnd.wasm.content.layer.v1+wasm","digest":"${layer}","size":8}],
 "annotations":{"io.kubewarden.policy.title":"eci-profile"}}
EOF
  run curl -fsS -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
    --data-binary "@${dir}/manifest.json" "http://${REGISTRY}/v2/${repo}/manifests/probe"
  echo "${output}"
  [ "${status}" -eq 0 ]
  run curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://${REGISTRY}/v2/${repo}/manifests/probe"
  [ "${status}" -eq 0 ]
  [[ "${output}" == *'"mediaType":"application/vnd.wasm.content.layer.v1+wasm"'* ]]
  curl -fsS "http://${REGISTRY}/v2/${repo}/blobs/${layer}" -o "${dir}/pulled.wasm"
  cmp "${dir}/module.wasm" "${dir}/pulled.wasm"
}

@test "kwctl push annotated-policy.wasm to the local registry" {
  need_kwctl
  run kwctl push -o json --sources-path "${OCI_DIR}/sources.yml" annotated-policy.wasm "$(uri)"
  echo "${output}"
  [ "${status}" -eq 0 ]
  # The registry now lists the tag.
  run curl -fsS "http://${REGISTRY}/v2/${REPOSITORY}/tags/list"
  echo "${output}"
  [ "${status}" -eq 0 ]
  [ "$(echo "${output}" | jq -r '.tags | index("'"${TAG}"'") != null')" = "true" ]
}

@test "kwctl pull gives back the same module" {
  need_kwctl
  ensure_pushed
  run kwctl pull --sources-path "${OCI_DIR}/sources.yml" -o "${BATS_TEST_TMPDIR}/pulled.wasm" "$(uri)"
  echo "${output}"
  [ "${status}" -eq 0 ]
  cmp annotated-policy.wasm "${BATS_TEST_TMPDIR}/pulled.wasm"
  # Into kwctl's store as well, where `kwctl run registry://…` finds it.
  run kwctl pull --sources-path "${OCI_DIR}/sources.yml" "$(uri)"
  [ "${status}" -eq 0 ]
  run kwctl policies
  echo "${output}"
  [[ "${output}" == *"${REGISTRY}/${REPOSITORY}:${TAG}"* ]]
}

@test "the pushed policy keeps its metadata (mutating, context-aware, rules)" {
  need_kwctl
  ensure_pushed
  run kwctl inspect --sources-path "${OCI_DIR}/sources.yml" -o yaml "$(uri)"
  if [ "${status}" -ne 0 ]; then
    # Older kwctl: inspect takes no --sources-path; the policy is in the store.
    kwctl pull --sources-path "${OCI_DIR}/sources.yml" "$(uri)"
    run kwctl inspect -o yaml "$(uri)"
  fi
  echo "${output}"
  [ "${status}" -eq 0 ]
  [[ "${output}" == *"mutating: true"* ]]
  [[ "${output}" == *"kind: Namespace"* ]]
  [[ "${output}" == *"io.kubewarden.policy.ociUrl: ghcr.io/eci-profile/policies/eci-profile"* ]]
}

# Runs one request through the local file and through the registry, and
# compares kwctl's two answers (AdmissionResponse JSON, keys sorted).
same_answer() {
  local request="$1" session="$2"
  shift 2
  local local_out="${BATS_TEST_TMPDIR}/local.json" remote_out="${BATS_TEST_TMPDIR}/remote.json"
  kwctl run --request-path "${request}" "$@" \
    --allow-context-aware --replay-host-capabilities-interactions "${session}" \
    annotated-policy.wasm >"${local_out}"
  kwctl run --sources-path "${OCI_DIR}/sources.yml" --request-path "${request}" "$@" \
    --allow-context-aware --replay-host-capabilities-interactions "${session}" \
    "$(uri)" >"${remote_out}"
  jq -S . "${local_out}" >"${local_out}.sorted"
  jq -S . "${remote_out}" >"${remote_out}.sorted"
  diff -u "${local_out}.sorted" "${remote_out}.sorted"
  # And it is an answer of this policy, not an error.
  [ "$(jq -r '.allowed' "${local_out}")" = "true" ]
}

@test "kwctl run registry:// mutates a labelled pod as the local file does (built-in defaults)" {
  need_kwctl
  ensure_pushed
  # Labelled alibabacloud.com/eci=true: sent to ECI without reading the namespace.
  same_answer test_data/requests/deployment-pod-eci-label.json test_data/sessions/empty.yml \
    --settings-json '{}'
  [ "$(jq -r '.patchType' "${BATS_TEST_TMPDIR}/remote.json")" = "JSONPatch" ]
}

@test "kwctl run registry:// reads the namespace as the local file does (ACK VNode settings)" {
  need_kwctl
  ensure_pushed
  # Unlabelled pod in namespace default (not labelled): one namespace read, no change.
  same_answer test_data/requests/deployment-pod.json test_data/sessions/default.yml \
    --settings-path test_data/settings/vnode.yml
  [ "$(jq -r '.patch // "none"' "${BATS_TEST_TMPDIR}/remote.json")" = "none" ]
}
