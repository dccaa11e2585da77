#!/usr/bin/env python3
"""Generates the large bad-input requests of test_data/bad/requests/.

The files are committed, so replaying the cases needs no generator; run this
only to change them (python3 test_data/bad/generate.py). Output is
deterministic. Each request is the `kubectl run nginx -l alibabacloud.com/eci=true`
AdmissionRequest of requests/kubectl-run-nginx-eci-label.json with one part
made large:

- pod-1mb.json           one container with 5 000 environment variables
                         (the pod object is over 1 MiB of compact JSON)
- pod-10000-labels.json  10 000 labels besides alibabacloud.com/eci
- pod-depth-100.json     an unknown field under spec nested 100 mappings deep
- pod-depth-126.json     126 nested containers counting the pod itself: the
                         deepest pod whose AdmissionRequest (one level more)
                         serde_json reads with its default recursion limit of 128
                         (the harness's case loader; policy-server, which reads the
                         AdmissionReview, two levels more, stops one level sooner)
- pod-depth-128.json     128 nested containers: the first depth the policy's own
                         parse of the pod refuses (it reads up to 127)
- pod-depth-200.json     unknown fields 200 mappings deep
"""
import copy
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
BASE = HERE.parent / "requests" / "kubectl-run-nginx-eci-label.json"


def base():
    return json.loads(BASE.read_text())


def nested(depth, leaf):
    """{"zz": {"zz": ... leaf}} with `depth` mappings."""
    value = leaf
    for _ in range(depth):
        value = {"zz": value}
    return value


def write(name, request, indent=1):
    text = json.dumps(request, indent=indent, ensure_ascii=False) + "\n"
    (HERE / "requests" / name).write_text(text)
    pod = json.dumps(request["object"], separators=(",", ":"), ensure_ascii=False)
    print(f"{name}: file {len(text.encode())} bytes, pod {len(pod.encode())} bytes compact")


def main():
    (HERE / "requests").mkdir(exist_ok=True)

    r = base()
    r["uid"] = "bad-pod-1mb"
    env = [{"name": f"VAR_{i:05d}", "value": "x" * 190} for i in range(5000)]
    r["object"]["spec"]["containers"][0]["env"] = env
    write("pod-1mb.json", r, indent=None)

    r = base()
    r["uid"] = "bad-pod-10000-labels"
    labels = {f"label-{i:05d}": f"value-{i:05d}" for i in range(10000)}
    labels["alibabacloud.com/eci"] = "true"
    r["object"]["metadata"]["labels"] = labels
    write("pod-10000-labels.json", r, indent=None)

    r = base()
    r["uid"] = "bad-pod-depth-100"
    r["object"]["spec"]["zzDeep"] = nested(100, [1, "leaf", None])
    write("pod-depth-100.json", r, indent=None)

    # The pod is container 1, spec 2; zzDeep's mappings 3.., and an empty list
    # as the leaf: nested(n, []) under spec makes n + 3 nested containers.
    for depth in (126, 128):
        r = base()
        r["uid"] = f"bad-pod-depth-{depth}"
        r["object"]["spec"]["zzDeep"] = nested(depth - 3, [])
        write(f"pod-depth-{depth}.json", r, indent=None)

    r = base()
    r["uid"] = "bad-pod-depth-200"
    r["object"]["spec"]["zzDeep"] = nested(200, "leaf")
    write("pod-depth-200.json", r, indent=None)


if __name__ == "__main__":
    main()
