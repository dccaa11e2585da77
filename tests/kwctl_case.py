#!/usr/bin/env python3
"""The replay corpus (test_data/cases/*.yml) under kwctl.

    kwctl_case.py prepare CASE.yml DIR   kwctl's inputs for one case, in DIR
    kwctl_case.py check DIR              compare kwctl's answer (DIR/stdout...) with the case
    kwctl_case.py generate               print e2e-corpus.bats (one test per case)
    kwctl_case.py sessions               check test_data/sessions/*.yml against their fixtures

How a case maps onto kwctl (case format: docs/DESIGN.md, "Replay cases"):
- the request (a file, or inline), with request_overrides applied as an
  RFC 7386 merge patch, is written to DIR/request.json for --request-path
  (kwctl takes a bare AdmissionRequest);
- the settings (a file, or inline) go to --settings-json;
- the config_map and namespace fixtures become the kwctl session
  DIR/session.yml for --replay-host-capabilities-interactions, with
  --allow-context-aware: a get_resource(v1/ConfigMap) exchange for the
  settings' configMapRef (read first), then a get_resource(v1/Namespace)
  one, each answered as its fixture says, or left out when the case expects
  no such look-up (a read would then be answered with an error and show up
  as a warning);
- kwctl's AdmissionResponse is compared exactly: allowed, the base64 patch
  decoded (order included), warnings, the rejection message; a failed
  namespace read is compared by prefix plus the host's own message, which
  policy-evaluator words its own way;
- a settings error is kwctl exiting non-zero with "Provided settings are not
  valid: MESSAGE".
A case kwctl cannot express writes DIR/skip with the reason, and the test is
skipped saying so: it never passes silently.
"""
import base64
import glob
import json
import os
import sys

import yaml

TD = "test_data"
FAILED_READ = 'eci-profile: pod left unchanged: cannot read namespace "{ns}": '
FAILED_READ_FAIL = 'eci-profile: cannot read namespace "{ns}": '
NOT_FOUND = "Cannot find v1/Namespace named '{ns}' inside of namespace 'None'"
CM_NOT_FOUND = "Cannot find v1/ConfigMap named '{name}' inside of namespace 'Some(\"{ns}\")'"
FAILED_CM_READ = "eci-profile: pod left unchanged: cannot read ConfigMap "
FAILED_CM_READ_FAIL = "eci-profile: cannot read ConfigMap "


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


def load(path_or_value, reader=yaml.safe_load):
    """A case field that names a file under test_data/, or holds the value inline."""
    if not isinstance(path_or_value, str):
        return path_or_value
    with open(os.path.join(TD, path_or_value)) as f:
        return reader(f)


def exchange(name, response, kind="Namespace", namespace=None):
    return {
        "type": "Exchange",
        "request": "!KubernetesGetResource\n"
        + yaml.safe_dump(
            {"api_version": "v1", "kind": kind, "name": name,
             "namespace": namespace, "disable_cache": False},
            sort_keys=False,
        ),
        "response": response,
    }


def answered(fixture, ask, not_found):
    """([exchange], host message of a failed read or None) for one fixture."""
    if "found" in fixture:
        payload = json.dumps(load(fixture["found"]), separators=(",", ":"))
        return [ask({"type": "Success", "payload": payload})], None
    if fixture.get("not_found"):
        return [ask({"type": "Error", "message": not_found})], not_found
    if "error" in fixture:
        return [ask({"type": "Error", "message": fixture["error"]})], fixture["error"]
    if "malformed" in fixture:
        return [ask({"type": "Success", "payload": fixture["malformed"]})], None
    raise ValueError(f"fixture not understood: {fixture}")


def session_for(case, namespace, settings):
    """(kwctl session, host message of a failed namespace read or None, host
    message of a failed ConfigMap read or None) for the case's fixtures, in the
    order the policy reads them: the ConfigMap, then the namespace."""
    session, ns_message, cm_message = [], None, None
    fixture = case.get("config_map")
    if fixture and case["expect"].get("config_map_lookups") != 0:
        ref = settings["configMapRef"]
        ask = lambda response: exchange(ref["name"], response, "ConfigMap", ref["namespace"])
        found, cm_message = answered(fixture, ask, CM_NOT_FOUND.format(name=ref["name"], ns=ref["namespace"]))
        session += found
    fixture = case.get("namespace")
    if fixture and case["expect"].get("namespace_lookups") != 0:
        found, ns_message = answered(fixture, lambda response: exchange(namespace, response),
                                     NOT_FOUND.format(ns=namespace))
        session += found
    return session, ns_message, cm_message


def kwctl_refuses(request):
    """Why kwctl refuses this AdmissionRequest itself, before the policy runs,
    or None. kwctl (like policy-server) reads the request into
    policy-evaluator's typed AdmissionRequest, which requires these fields."""
    required = (("uid", str, "a string"), ("kind", dict, "a GroupVersionKind"),
                ("resource", dict, "a GroupVersionResource"), ("operation", str, "a string"),
                ("userInfo", dict, "a UserInfo"))
    for field, kind, what in required:
        if not isinstance(request.get(field), kind):
            found = "absent" if field not in request else f"{json.dumps(request[field])}"
            return (f"kwctl reads the request as a typed AdmissionRequest and refuses it before the "
                    f"policy runs: {field} is {found}, not {what}")
    return None


def prepare(case_path, out):
    with open(case_path) as f:
        case = yaml.safe_load(f)
    request = load(case["request"], json.load)
    request = merge_patch(request, case.get("request_overrides") or {})
    settings = load(case.get("settings")) or {}
    namespace = request.get("namespace") or ""
    refused = kwctl_refuses(request)
    if refused:
        with open(os.path.join(out, "skip"), "w") as f:
            f.write(f"kwctl cannot express this case: {refused}")
        return
    session, host_message, cm_message = session_for(case, namespace, settings)
    expect = dict(case["expect"])
    expect["_namespace"] = namespace
    expect["_host_message"] = host_message
    expect["_cm_message"] = cm_message
    for name, content in (("request.json", json.dumps(request)),
                          ("settings.json", json.dumps(settings)),
                          ("session.yml", yaml.safe_dump(session, sort_keys=False)),
                          ("expect.json", json.dumps(expect))):
        with open(os.path.join(out, name), "w") as f:
            f.write(content)


def same_text(want, got, reads):
    """Exact, except a failed read: same prefix, and the host's message
    inside (policy-evaluator words its own errors). `reads`: (prefix, host
    message or None) pairs."""
    for prefix, host_message in reads:
        if host_message is not None and want.startswith(prefix):
            return got.startswith(prefix) and host_message[:100] in got
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
        lines = [line for line in stdout.splitlines() if line.startswith("{")]
        answer = json.loads(lines[-1])
        ns, host, cm = expect["_namespace"], expect["_host_message"], expect.get("_cm_message")
        warned = [(FAILED_READ.format(ns=ns), host), (FAILED_CM_READ, cm)]
        refused = [(FAILED_READ_FAIL.format(ns=ns), host), (FAILED_CM_READ_FAIL, cm)]
        if answer.get("allowed") != expect["accepted"]:
            problems.append(f"allowed: want {expect['accepted']}, got {answer.get('allowed')}")
        if not expect["accepted"]:
            got = (answer.get("status") or {}).get("message") or ""
            if not same_text(expect["message"], got, refused):
                problems.append(f"message\n  want: {expect['message']}\n  got:  {got}")
        if "patch" in expect:
            got = json.loads(base64.b64decode(answer["patch"])) if answer.get("patch") else []
            if got != expect["patch"]:
                problems.append("patch\n  want: " + json.dumps(expect["patch"]) + "\n  got:  " + json.dumps(got))
        if "warnings" in expect:
            got = answer.get("warnings") or []
            want = expect["warnings"]
            if len(got) != len(want) or not all(
                    same_text(w, g, warned) for w, g in zip(want, got)):
                problems.append("warnings\n  want: " + json.dumps(want) + "\n  got:  " + json.dumps(got))
    for p in problems:
        print(p)
    if problems:
        print("kwctl stderr:\n" + stderr)
        sys.exit(1)


def generate():
    """e2e-corpus.bats: one bats test per case (Debian's bats 1.8 cannot
    register tests at run time)."""
    print("#!/usr/bin/env bats")
    print("# GENERATED by `python3 tests/kwctl_case.py generate > e2e-corpus.bats`")
    print("# (make e2e-corpus.bats); e2e.bats checks that it is up to date.")
    print("# One test per replay case of test_data/cases/, run through kwctl;")
    print("# how a case maps onto kwctl: tests/kwctl_case.py.")
    print()
    print("load tests/e2e_helpers")
    for path in sorted(glob.glob(os.path.join(TD, "cases", "*.yml"))):
        with open(path) as f:
            description = yaml.safe_load(f).get("description", "")
        stem = os.path.basename(path)[:-len(".yml")]
        title = f"case {stem}: {description}"
        for char in '"$`\\':
            title = title.replace(char, "'")
        print()
        print(f'@test "{title}" {{')
        print(f"  replay_case {path}")
        print("}")


def sessions():
    """The committed session files (used by the hand-written tests and the
    README) answer what the fixture of the same name holds: the namespace of
    namespaces/NAME.yml, or, for live-NAME.yml, the ConfigMap of live/NAME.yml."""
    problems = []
    for path in sorted(glob.glob(os.path.join(TD, "sessions", "*.yml"))):
        name = os.path.basename(path)
        with open(path) as f:
            recorded = yaml.safe_load(f) or []
        if name == "empty.yml":
            want = []
        elif name.startswith("not-found-"):
            ns = name[len("not-found-"):-len(".yml")]
            want = [exchange(ns, {"type": "Error", "message": NOT_FOUND.format(ns=ns)})]
        elif name.startswith(("error-", "malformed-")):
            continue  # their answer is the fixture's own text, given in the case
        elif name.startswith("live-"):
            config_map = load(os.path.join("live", name[len("live-"):]))
            payload = json.dumps(config_map, separators=(",", ":"))
            meta = config_map["metadata"]
            want = [exchange(meta["name"], {"type": "Success", "payload": payload},
                             "ConfigMap", meta["namespace"])]
        else:
            fixture = os.path.join("namespaces", name)
            namespace = load(fixture)
            payload = json.dumps(namespace, separators=(",", ":"))
            want = [exchange(namespace["metadata"]["name"], {"type": "Success", "payload": payload})]
        if normalise(recorded) != normalise(want):
            problems.append(f"{path} does not answer what its fixture holds")
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)


def normalise(session):
    """A session with its request YAML and payload JSON parsed, for comparison."""
    out = []
    for e in session:
        tag, _, body = e["request"].partition("\n")
        response = dict(e["response"])
        if response.get("type") == "Success":
            response["payload"] = json.loads(response["payload"])
        out.append((e["type"], tag.strip(), yaml.safe_load(body), response))
    return out


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "prepare":
        prepare(sys.argv[2], sys.argv[3])
    elif command == "check":
        check(sys.argv[2])
    elif command == "generate":
        generate()
    elif command == "sessions":
        sessions()
    else:
        sys.exit(__doc__)
