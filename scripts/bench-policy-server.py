#!/usr/bin/env python3
"""End-to-end benchmark through Kubewarden's policy-server (`make bench-policy-server`).

One policy-server on 127.0.0.1 serves, from the same policies.yml:
  floor-N  the floor policy (accepts without reading the request), given the
           same settings as ours, so that the host moves the same bytes;
  ours-N   this policy, with N object-selector selectors (no namespace look-up);
  before-N optionally an earlier build of this policy (--baseline), same settings;
  control-N with --control, a second copy of before-N (or of ours-N): an A/A
           pair that shows how far two identical modules differ in the run;
  peer     optionally a peer policy (Kubewarden's pod-ndots), default settings.
wrk POSTs real AdmissionReviews (a Deployment's pod labelled
alibabacloud.com/eci=true, which the last selector matches, and the same pod
unlabelled, which no selector matches) to /validate/ID. Contestants run in
turn, interleaved, round after round, so that the machine's noise falls on all
of them alike; the figure is the median over rounds of wrk's p50 latency, and
"ours / floor" is the ratio that matters. policy-server (>= 1.10) runs every
request on a fresh wasm instance, so this is what a cluster pays.

Then a load test: 32 connections for LOAD seconds each on the matched and the
unmatched pod (10 selectors): non-2xx answers, p50/p99, requests/s, and the
server's RSS before and after.

Beside latency, every run records the server's CPU time per request (user +
system, all threads, from /proc): what a request costs the host end to end
(HTTP, JSON, a fresh instance, the guest, the patch). It is steadier than
latency on a shared machine, because time spent waiting for a core is not
counted.

With --breakdown (needs `perf`, Debian's linux-perf), where the server's
CPU time goes, per request: `perf record` (cpu-clock samples) and
`perf stat` (task-clock, page faults) on the server while wrk runs one
contestant, samples sorted into guest code (JIT), wasmtime, the host's JSON
work, memory, the kernel and the rest.

Needs policy-server, kwctl (to annotate the floor and the peer) and wrk on
PATH. Writes docs/bench/policy-server.json and the section of BENCHMARKS.md
between <!-- policy-server:begin --> and <!-- policy-server:end -->.
"""
import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MATCHED = "test_data/requests/deployment-pod-eci-label.json"
UNMATCHED = "test_data/requests/deployment-pod.json"


def settings(n):
    """N object-selector selectors: N-1 that match neither pod, then the one
    that matches pods labelled alibabacloud.com/eci=true (so a matched pod
    walks the whole list). The shape of the harness benchmark's object-only
    settings (harness/src/bench.rs)."""
    selectors = []
    for i in range(n - 1):
        if i % 2 == 0:
            selectors.append({
                "name": f"team-{i}",
                "objectSelector": {"matchLabels": {"eci.example.com/team": f"team-{i}"}},
                "effect": {"annotations": {"k8s.aliyun.com/eci-use-specs": "2-4Gi"},
                           "labels": {"eci.example.com/pool": f"pool-{i}"}},
            })
        else:
            selectors.append({
                "name": f"batch-{i}",
                "objectSelector": {"matchExpressions": [
                    {"key": "app", "operator": "In", "values": [f"batch-{i}", f"etl-{i}"]},
                    {"key": "eci.example.com/opt-out", "operator": "DoesNotExist"}]},
                "effect": {"annotations": {"k8s.aliyun.com/eci-spot-strategy": "SpotAsPriceGo"}},
            })
    selectors.append({
        "name": "eci-pods",
        "objectSelector": {"matchLabels": {"alibabacloud.com/eci": "true"}},
        "effect": {"annotations": {"k8s.aliyun.com/eci-use-specs": "2-4Gi,ecs.c6.large",
                                   "k8s.aliyun.com/eci-spot-strategy": "SpotAsPriceGo"},
                   "labels": {"eci.example.com/pool": "eci"}},
    })
    return {"selectors": selectors}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def annotate(kwctl, wasm, metadata, out):
    subprocess.run([kwctl, "annotate", "-m", metadata, "-o", out, wasm], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return out


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    """The server's user + system CPU time so far, all threads (exited ones included)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def parse_duration(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 1, "ms": 1000, "s": 1e6}[unit]


def wrk(url, body_file, seconds, connections, threads):
    script = body_file + ".lua"
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                f'local f = io.open("{body_file}", "rb")\nwrk.body = f:read("*a")\nf:close()\n')
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
                          "--latency", "-s", script, url],
                         check=True, capture_output=True, text=True).stdout
    result = {"non2xx": 0, "errors": 0}
    for line in out.splitlines():
        line = line.strip()
        m = re.match(r"(50|90|99)(?:\.000)?%\s+(\S+)", line)
        if m:
            result[f"p{m.group(1)}"] = parse_duration(m.group(2))
        if line.startswith("Requests/sec:"):
            result["rps"] = float(line.split()[1])
        if line.startswith("Non-2xx or 3xx responses:"):
            result["non2xx"] = int(line.split()[-1])
        m = re.search(r"(\d+) requests in", line)
        if m:
            result["requests"] = int(m.group(1))
        if line.startswith("Socket errors:"):
            result["errors"] = sum(int(x) for x in re.findall(r"\d+", line))
    return result


CATEGORIES = (
    ("guest code (wasm, JIT-compiled)", lambda dso, kind, sym: dso.startswith("[JIT]")),
    ("kernel (scheduler, page faults, mmap)", lambda dso, kind, sym: kind == "k"),
    ("wasmtime and waPC (instances, calls)",
     lambda dso, kind, sym: any(k in sym for k in ("wasmtime", "cranelift", "wasi", "wapc"))),
    ("host JSON (settings, request, answer, patch)",
     lambda dso, kind, sym: any(k in sym for k in ("serde", "json", "btree", "BTreeMap", "base64",
                                                   "String as core::clone", "Vec<T,A> as core::clone"))),
    ("host memory (allocator, copies)",
     lambda dso, kind, sym: any(k in sym for k in ("malloc", "free", "_rjem", "sdallocx", "alloc::",
                                                   "__rust_alloc", "tcache", "memmove", "memcpy",
                                                   "memset", "arena"))),
    ("other host (HTTP, tokio, tracing)", lambda dso, kind, sym: True),
)


def profile(pid, url, body_file, seconds, work, name):
    """CPU µs per request of the server, by category, and page faults per request."""
    data = f"{work}/{name}.perf"
    record = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "4000", "-p", str(pid),
                               "-o", data, "--", "sleep", str(seconds)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stat = subprocess.Popen(["perf", "stat", "-e", "task-clock,page-faults", "-p", str(pid),
                             "-o", f"{data}.stat", "--", "sleep", str(seconds)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    res = wrk(url, body_file, seconds, 2, 2)
    record.wait()
    stat.wait()
    with open(f"{data}.stat") as f:
        text = f.read()
    cpu_ms = float(re.search(r"([\d,.]+)\s+msec task-clock", text).group(1).replace(",", ""))
    faults = int(re.search(r"([\d,]+)\s+page-faults", text).group(1).replace(",", ""))
    report = subprocess.run(["perf", "report", "-i", data, "--sort", "dso,sym", "--stdio",
                             "-F", "overhead,dso,sym"], capture_output=True, text=True).stdout
    shares = dict.fromkeys((c for c, _ in CATEGORIES), 0.0)
    for line in report.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\S+(?: tid \d+)?)\s+\[(.)\]\s+(.*)", line)
        if m:
            pct, dso, kind, sym = float(m.group(1)), m.group(2), m.group(3), m.group(4)
            category = next(c for c, test in CATEGORIES if test(dso, kind, sym))
            shares[category] += pct
    per_request = 1000 * cpu_ms / res["requests"]
    return {"cpu_us": per_request, "faults": faults / res["requests"], "p50_us": res["p50"],
            "categories_us": {c: per_request * pct / 100 for c, pct in shares.items()}}


def post(url, body_file):
    with open(body_file, "rb") as f:
        request = urllib.request.Request(url, data=f.read(),
                                         headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)["response"]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--policy", default=os.path.join(ROOT, "annotated-policy.wasm"))
    p.add_argument("--floor", default=os.path.join(ROOT, "..", "shared", "bench", "floor.wasm"))
    p.add_argument("--floor-metadata",
                   default=os.path.join(ROOT, "..", "shared", "bench", "floor", "metadata.yml"))
    p.add_argument("--baseline", help="an earlier annotated build of this policy, compared in the same run")
    p.add_argument("--control", action="store_true",
                   help="add a second copy of the baseline (or of this policy): the run's A/A noise")
    p.add_argument("--peer", help="a peer policy .wasm, e.g. Kubewarden's pod-ndots")
    p.add_argument("--peer-metadata", help="its metadata.yml")
    p.add_argument("--peer-name", default="pod-ndots")
    p.add_argument("--selectors", default="1,10,100,1000")
    p.add_argument("--seconds", type=int, default=4, help="per wrk run")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--connections", type=int, default=2)
    p.add_argument("--load", type=int, default=60, help="seconds per load test; 0 skips it")
    p.add_argument("--breakdown", action="store_true", help="profile the server with perf")
    p.add_argument("--output", default=os.path.join(ROOT, "docs", "bench", "policy-server.json"))
    p.add_argument("--markdown", default=os.path.join(ROOT, "BENCHMARKS.md"))
    args = p.parse_args()

    tools = {t: shutil.which(t) for t in ("policy-server", "kwctl", "wrk")
             + (("perf",) if args.breakdown else ())}
    missing = [t for t, path in tools.items() if not path]
    if missing:
        sys.exit(f"bench-policy-server: {', '.join(missing)} not on PATH")
    if not os.path.exists(args.policy):
        sys.exit(f"bench-policy-server: {args.policy} is missing (make annotated-policy.wasm)")
    counts = [int(n) for n in args.selectors.split(",")]

    work = tempfile.mkdtemp(prefix="eci-profile-bench-")
    floor = annotate(tools["kwctl"], args.floor, args.floor_metadata, f"{work}/floor.wasm")
    peer = None
    if args.peer:
        peer = annotate(tools["kwctl"], args.peer, args.peer_metadata, f"{work}/peer.wasm")
    policies = {}
    for n in counts:
        modules = [(f"ours-{n}", args.policy), (f"floor-{n}", floor)]
        if args.baseline:
            modules.append((f"before-{n}", args.baseline))
        if args.control:
            control = f"{work}/control.wasm"
            shutil.copyfile(args.baseline or args.policy, control)
            modules.append((f"control-{n}", control))
        for name, module in modules:
            policies[name] = {"module": f"file://{os.path.abspath(module)}", "allowedToMutate": True,
                              "settings": settings(n)}
    if peer:
        policies["peer"] = {"module": f"file://{peer}", "allowedToMutate": True, "settings": {}}
    with open(f"{work}/policies.yml", "w") as f:
        json.dump(policies, f)  # JSON is YAML
    bodies = {}
    for pod, path in (("matched", MATCHED), ("unmatched", UNMATCHED)):
        with open(os.path.join(ROOT, path)) as f:
            request = json.load(f)
        bodies[pod] = f"{work}/{pod}.json"
        with open(bodies[pod], "w") as f:
            json.dump({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                       "request": request}, f)

    port, ready = free_port(), free_port()
    log = open(f"{work}/policy-server.log", "w")
    server = subprocess.Popen(
        [tools["policy-server"], "--addr", "127.0.0.1", "--port", str(port),
         "--readiness-probe-port", str(ready), "--policies", f"{work}/policies.yml",
         "--policies-download-dir", work, "--workers", "2", "--log-level", "warn",
         "--ignore-kubernetes-connection-failure"], stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(1200):
            if server.poll() is not None:
                sys.exit(f"policy-server exited; see {work}/policy-server.log")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{ready}/readiness", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        base = f"http://127.0.0.1:{port}/validate"
        # What each contestant answers, checked before anything is timed.
        for n in counts:
            if "patch" not in post(f"{base}/ours-{n}", bodies["matched"]):
                sys.exit(f"ours-{n} did not mutate the matched pod")
            if post(f"{base}/ours-{n}", bodies["unmatched"]).get("patch"):
                sys.exit(f"ours-{n} mutated the unmatched pod")
        machine = {
            "cpus": os.cpu_count(),
            "load_before": os.getloadavg()[0],
            "policy_server": subprocess.run([tools["policy-server"], "--version"], capture_output=True,
                                            text=True).stdout.strip().splitlines()[0],
        }
        print(f"{machine['policy_server']}, {machine['cpus']} CPUs, "
              f"load {machine['load_before']:.2f}; wrk -c{args.connections} -t{args.connections}"
              f" {args.seconds}s x {args.rounds} rounds, interleaved")

        contestants = (["floor", "ours"] + (["before"] if args.baseline else [])
                       + (["control"] if args.control else [])
                       + (["peer"] if peer else []))
        samples = {}
        for r in range(args.rounds):
            for n in counts:
                for pod in ("matched", "unmatched"):
                    order = contestants[r % len(contestants):] + contestants[:r % len(contestants)]
                    for who in order:
                        policy = "peer" if who == "peer" else f"{who}-{n}"
                        cpu = cpu_seconds(server.pid)
                        res = wrk(f"{base}/{policy}", bodies[pod], args.seconds,
                                  args.connections, args.connections)
                        res["cpu_us"] = 1e6 * (cpu_seconds(server.pid) - cpu) / res["requests"]
                        if res["non2xx"] or res["errors"]:
                            sys.exit(f"{policy} {pod}: {res}")
                        samples.setdefault((n, pod, who), []).append(res)
            print(f"round {r + 1}/{args.rounds} done")

        rows = []
        for n in counts:
            for pod in ("matched", "unmatched"):
                med = {who: statistics.median(s["p50"] for s in samples[(n, pod, who)])
                       for who in contestants}
                row = {"selectors": n, "pod": pod, "floor_p50_us": med["floor"],
                       "ours_p50_us": med["ours"], "ratio": med["ours"] / med["floor"],
                       "ours_minus_floor_us": med["ours"] - med["floor"]}
                # Against the baseline: the median of the rounds' own ratios, each
                # from runs a few seconds apart, so drift in machine load cancels.
                reference = "before" if args.baseline else "ours"
                cpu = {who: statistics.median(s["cpu_us"] for s in samples[(n, pod, who)])
                       for who in contestants}
                row["floor_cpu_us"], row["ours_cpu_us"] = cpu["floor"], cpu["ours"]
                for who, key in (("before", "after_over_before"), ("control", "control_ratio")):
                    if who not in contestants:
                        continue
                    a, b = ("ours", who) if who == "before" else ("control", reference)
                    for metric, suffix in (("p50", ""), ("cpu_us", "_cpu")):
                        pairs = [x[metric] / y[metric] for x, y in zip(samples[(n, pod, a)],
                                                                       samples[(n, pod, b)])]
                        q = statistics.quantiles(pairs, n=4) if len(pairs) > 1 else [pairs[0]] * 3
                        row[key + suffix] = statistics.median(pairs)
                        row[key + suffix + "_iqr"] = [q[0], q[2]]
                    if who == "before":
                        row["before_p50_us"] = med["before"]
                        row["before_cpu_us"] = cpu["before"]
                if peer:
                    row["peer_p50_us"] = med["peer"]
                    row["peer_ratio"] = med["peer"] / med["floor"]
                rows.append(row)
                print(f"  n={n:<5} {pod:<9} floor {med['floor']:7.0f} us  ours {med['ours']:7.0f} us"
                      f"  ratio {row['ratio']:.2f}"
                      + (f"  before {med['before']:7.0f} us (now/before {row['after_over_before']:.3f},"
                         f" IQR {row['after_over_before_iqr'][0]:.3f}-{row['after_over_before_iqr'][1]:.3f})"
                         if args.baseline else "")
                      + (f"  control/{reference} {row['control_ratio']:.3f} (IQR {row['control_ratio_iqr'][0]:.3f}"
                         f"-{row['control_ratio_iqr'][1]:.3f})" if args.control else "")
                      + (f"  {args.peer_name} {med['peer']:7.0f} us ({row['peer_ratio']:.2f})" if peer else "")
                      + f"\n{'':17}server CPU/request: floor {cpu['floor']:5.0f} us  ours {cpu['ours']:5.0f} us"
                      + (f"  before {cpu['before']:5.0f} us (now/before {row['after_over_before_cpu']:.3f},"
                         f" IQR {row['after_over_before_cpu_iqr'][0]:.3f}-{row['after_over_before_cpu_iqr'][1]:.3f})"
                         if args.baseline else "")
                      + (f"  control/{reference} {row['control_ratio_cpu']:.3f} (IQR "
                         f"{row['control_ratio_cpu_iqr'][0]:.3f}-{row['control_ratio_cpu_iqr'][1]:.3f})"
                         if args.control else ""))

        load = []
        if args.load:
            n = 10 if 10 in counts else counts[0]
            for pod in ("matched", "unmatched"):
                before = rss_kb(server.pid)
                res = wrk(f"{base}/ours-{n}", bodies[pod], args.load, 32, 2)
                after = rss_kb(server.pid)
                entry = {"selectors": n, "pod": pod, "connections": 32, "seconds": args.load,
                         "requests": res.get("requests"), "rps": res.get("rps"),
                         "non2xx": res["non2xx"], "socket_errors": res["errors"],
                         "p50_us": res.get("p50"), "p99_us": res.get("p99"),
                         "rss_before_kb": before, "rss_after_kb": after}
                load.append(entry)
                print(f"  load {pod}: {entry['requests']} requests, {entry['rps']:.0f}/s, "
                      f"non-2xx {entry['non2xx']}, p50 {entry['p50_us']:.0f} us, "
                      f"p99 {entry['p99_us']:.0f} us, RSS {before} -> {after} KB")
        breakdown = []
        if args.breakdown:
            for n in [c for c in counts if c <= 100]:
                for pod in ("matched", "unmatched"):
                    for who in ("floor", "ours") + (("before",) if args.baseline else ()):
                        prof = profile(server.pid, f"{base}/{who}-{n}", bodies[pod], args.seconds,
                                       work, f"{who}-{n}-{pod}")
                        breakdown.append({"selectors": n, "pod": pod, "policy": who, **prof})
                        print(f"  breakdown {who}-{n} {pod}: {prof['cpu_us']:.0f} us CPU/request, "
                              f"{prof['faults']:.1f} page faults/request: "
                              + ", ".join(f"{c} {v:.0f}" for c, v in prof["categories_us"].items()))
    finally:
        server.terminate()
        server.wait()

    report = {"machine": machine, "seconds": args.seconds, "rounds": args.rounds,
              "connections": args.connections, "peer": args.peer_name if peer else None,
              "baseline": bool(args.baseline), "control": args.control,
              "rows": rows, "load": load, "breakdown": breakdown}
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    write_markdown(args.markdown, report)
    print(f"wrote {args.output} and {args.markdown}")
    failed = [e for e in load if e["non2xx"] or e["socket_errors"]]
    sys.exit(1 if failed else 0)


def paired(row, key):
    """A median of per-round ratios and its interquartile range, as a table cell."""
    lo, hi = row[key + "_iqr"]
    return f"{row[key]:.3f}× ({lo:.3f}–{hi:.3f})"


def compared(report, what):
    """The before and A/A-control columns of a table: header cells and rule."""
    head = ((f" before {what} | ours / before (IQR of rounds) |" if report["baseline"] else "")
            + (" A/A control (IQR) |" if report.get("control") else ""))
    rule = ("---:|---:|" if report["baseline"] else "") + ("---:|" if report.get("control") else "")
    return head, rule


def compared_cells(report, row, before_us, suffix):
    """A row's before and A/A-control cells; `suffix` names the measure ("" is latency)."""
    cells = ""
    if report["baseline"]:
        cells += f" {row[before_us]:.0f} µs | {paired(row, 'after_over_before' + suffix)} |"
    if report.get("control"):
        cells += f" {paired(row, 'control_ratio' + suffix)} |"
    return cells


def write_markdown(path, report):
    m = report["machine"]
    peer = report["peer"]
    head, rule = compared(report, "p50")
    lines = [
        f"{m['policy_server']}, {m['cpus']} CPUs, load {m['load_before']:.2f} at the start; "
        f"wrk p50 with {report['connections']} connections, {report['seconds']} s per run, "
        f"median of {report['rounds']} interleaved rounds.",
        "",
        "| selectors | pod | floor p50 | ours p50 | ours − floor | **ours / floor** |" + head
        + (f" {peer} p50 | {peer} / floor at {report['rows'][0]['selectors']} |" if peer else ""),
        "|---:|---|---:|---:|---:|---:|" + rule + ("---:|---:|" if peer else ""),
    ]
    for r in report["rows"]:
        line = (f"| {r['selectors']} | {r['pod']} | {r['floor_p50_us']:.0f} µs | {r['ours_p50_us']:.0f} µs "
                f"| {r['ours_minus_floor_us']:+.0f} µs | **{r['ratio']:.2f}×** |"
                + compared_cells(report, r, "before_p50_us", ""))
        if peer:
            # The peer has its own (empty) settings: only the smallest floor settings compare.
            smallest = report["rows"][0]["selectors"]
            ratio = f"{r['peer_ratio']:.2f}×" if r["selectors"] == smallest else "—"
            line += f" {r['peer_p50_us']:.0f} µs | {ratio} |"
        lines.append(line)
    if "ours_cpu_us" in report["rows"][0]:
        head, rule = compared(report, "CPU")
        lines += ["", "The server's CPU time per request (user + system, all threads), median of "
                  "the same runs; the ratios are medians of each round's own ratio:", "",
                  "| selectors | pod | floor CPU | ours CPU | ours − floor |" + head,
                  "|---:|---|---:|---:|---:|" + rule]
        for r in report["rows"]:
            lines.append(f"| {r['selectors']} | {r['pod']} | {r['floor_cpu_us']:.0f} µs "
                         f"| {r['ours_cpu_us']:.0f} µs | {r['ours_cpu_us'] - r['floor_cpu_us']:+.0f} µs |"
                         + compared_cells(report, r, "before_cpu_us", "_cpu"))
    if report["load"]:
        lines += ["", "Load: 32 connections, 2 wrk threads, "
                  f"{report['load'][0]['seconds']} s per pod, {report['load'][0]['selectors']} selectors:", "",
                  "| pod | requests | requests/s | non-2xx | p50 | p99 | server RSS before → after |",
                  "|---|---:|---:|---:|---:|---:|---|"]
        for e in report["load"]:
            lines.append(f"| {e['pod']} | {e['requests']} | {e['rps']:.0f} | {e['non2xx']} "
                         f"| {e['p50_us'] / 1000:.2f} ms | {e['p99_us'] / 1000:.2f} ms "
                         f"| {e['rss_before_kb'] / 1024:.1f} → {e['rss_after_kb'] / 1024:.1f} MiB |")
    if report["breakdown"]:
        categories = list(report["breakdown"][0]["categories_us"])
        lines += ["", "Where the server's CPU time goes, µs per request (perf, cpu-clock samples; "
                  "2 connections):", "",
                  "| selectors | pod | policy | CPU | page faults | " + " | ".join(categories) + " |",
                  "|---:|---|---|---:|---:|" + "---:|" * len(categories)]
        for b in report["breakdown"]:
            lines.append(f"| {b['selectors']} | {b['pod']} | {b['policy']} | {b['cpu_us']:.0f} "
                         f"| {b['faults']:.1f} | "
                         + " | ".join(f"{b['categories_us'][c]:.0f}" for c in categories) + " |")
    begin, end = "<!-- policy-server:begin -->", "<!-- policy-server:end -->"
    with open(path) as f:
        text = f.read()
    if begin not in text:
        sys.exit(f"{path} has no {begin} ... {end} section")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(path, "w") as f:
        f.write(head + begin + "\n" + "\n".join(lines) + "\n" + end + tail)


if __name__ == "__main__":
    main()
