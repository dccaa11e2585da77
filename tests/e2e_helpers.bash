# Shared by e2e.bats and the generated e2e-corpus.bats: run one replay case
# (test_data/cases/*.yml) through kwctl and compare kwctl's answer with it.
# The mapping of a case onto kwctl is tests/kwctl_case.py's.

# Skips (with the reason) when python3 cannot read the test_data YAML.
require_pyyaml() {
  if ! python3 -c 'import yaml' >/dev/null 2>&1; then
    skip "python3 with PyYAML is not available; it is needed to read test_data/*.yml"
  fi
}

# Skips (with the reason) when a tool is missing; fails when the annotated
# module is missing, since that is a step the runner forgot.
require_kwctl() {
  local tool
  for tool in kwctl jq python3; do
    if ! command -v "${tool}" >/dev/null 2>&1; then
      skip "${tool} is not on PATH; it is needed to run the policy under kwctl"
    fi
  done
  require_pyyaml
  if [ ! -f annotated-policy.wasm ]; then
    echo "annotated-policy.wasm is missing: run 'make annotated-policy.wasm' (kwctl annotate -m metadata.yml)" >&2
    return 1
  fi
}

# Runs kwctl on one prepared case directory; stdout and stderr are kept apart.
kwctl_run_case() {
  local dir="$1" rc=0
  kwctl run \
    --request-path "${dir}/request.json" \
    --settings-json "$(cat "${dir}/settings.json")" \
    --allow-context-aware \
    --replay-host-capabilities-interactions "${dir}/session.yml" \
    annotated-policy.wasm >"${dir}/stdout" 2>"${dir}/stderr" || rc=$?
  echo "${rc}" >"${dir}/status"
}

replay_case() {
  cd "${BATS_TEST_DIRNAME}" || return 1
  require_kwctl
  local case_file="$1" dir
  dir="$(mktemp -d "${BATS_TEST_TMPDIR}/case.XXXXXX")"
  run python3 tests/kwctl_case.py prepare "${case_file}" "${dir}"
  echo "${output}"
  [ "${status}" -eq 0 ]
  if [ -f "${dir}/skip" ]; then
    skip "$(cat "${dir}/skip")"
  fi
  kwctl_run_case "${dir}"
  run python3 tests/kwctl_case.py check "${dir}"
  echo "${output}"
  [ "${status}" -eq 0 ]
}
