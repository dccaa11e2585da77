#!/usr/bin/env python3
"""Instructions per request, counted by valgrind: a measure that noise cannot move.

Wall-clock figures on a shared 2-core machine wander by 10-20% from run to
run (BENCHMARKS.md), too much to see a change of a few percent. This counts
the x86 instructions that one `validate` costs, on a fresh instance as
policy-server runs it: the instance's creation, the guest's code (JIT-compiled
wasm), the host calls, and the harness reading the answer. The count is the
same from run to run to within 0.1%, so two modules can be compared exactly
(page faults and cache misses are not counted; BENCHMARKS.md has those).

For every module, selector count (the settings of bench-policy-server.py) and
pod (matched and unmatched), it runs

  valgrind --tool=callgrind --toggle-collect='*Policy*validate' \\
      eci-profile run --policy MODULE --settings S --request R

which counts only inside the harness's `Policy::validate`, not the
compilation of the module nor `validate_settings`. Needs valgrind and the
harness built with the dev profile, which keeps the symbols valgrind looks
for (`cargo build -p eci-profile-harness`; its dependencies, wasmtime among
them, are optimised as in a release).

  python3 scripts/count-instructions.py --policy policy.wasm --baseline OLD.wasm
"""
import argparse
import concurrent.futures
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def bench_module():
    """The settings and pods of the policy-server benchmark, so that both count the same work."""
    spec = importlib.util.spec_from_file_location(
        "bench", os.path.join(ROOT, "scripts", "bench-policy-server.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def count(harness, module, settings_file, request_file):
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         "--toggle-collect=*Policy*validate", harness, "run", "--policy", module,
         "--settings", settings_file, "--request", request_file],
        capture_output=True, text=True)
    m = re.search(r"Collected : (\d+)", out.stderr)
    if out.returncode != 0 or not m:
        sys.exit(f"count-instructions: {module}: valgrind or the harness failed:\n{out.stderr[-2000:]}")
    return int(m.group(1))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--policy", default=os.path.join(ROOT, "policy.wasm"))
    p.add_argument("--baseline", help="another build of the policy, counted the same way")
    p.add_argument("--harness", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "debug", "eci-profile"))
    p.add_argument("--selectors", default="1,10,100")
    p.add_argument("--jobs", type=int, default=os.cpu_count())
    p.add_argument("--output", help="write the counts as JSON here")
    args = p.parse_args()
    if not shutil.which("valgrind"):
        sys.exit("count-instructions: valgrind is not on PATH (Debian: apt-get install valgrind)")
    if not os.path.exists(args.harness):
        sys.exit(f"count-instructions: {args.harness} is missing "
                 "(cargo build -p eci-profile-harness, or --harness)")
    bench = bench_module()
    counts = [int(n) for n in args.selectors.split(",")]
    modules = {"ours": args.policy} | ({"before": args.baseline} if args.baseline else {})

    work = tempfile.mkdtemp(prefix="eci-profile-count-")
    jobs = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for n in counts:
            settings_file = f"{work}/settings-{n}.json"
            with open(settings_file, "w") as f:
                json.dump(bench.settings(n), f)
            for pod, request in (("matched", bench.MATCHED), ("unmatched", bench.UNMATCHED)):
                for who, module in modules.items():
                    jobs[(n, pod, who)] = pool.submit(count, args.harness, module, settings_file,
                                                      os.path.join(ROOT, request))
        results = {key: job.result() for key, job in jobs.items()}
    shutil.rmtree(work)

    rows = []
    print("instructions per validate (fresh instance, harness answer included)")
    for n in counts:
        for pod in ("matched", "unmatched"):
            row = {"selectors": n, "pod": pod, "ours": results[(n, pod, "ours")]}
            line = f"  n={n:<4} {pod:<9} ours {row['ours']:>10,}"
            if args.baseline:
                row["before"] = results[(n, pod, "before")]
                row["ratio"] = row["ours"] / row["before"]
                line += f"  before {row['before']:>10,}  ours / before {row['ratio']:.3f}"
            rows.append(row)
            print(line)
    if args.output:
        with open(args.output, "w") as f:
            json.dump({"rows": rows}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
