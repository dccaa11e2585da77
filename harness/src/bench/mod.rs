//! `eci-profile bench`: what one admission request costs the policy,
//! measured against the floor policy (`shared/bench/floor.wasm`, which accepts
//! without reading anything) side by side in one run.
//!
//! Method, in short (BENCHMARKS.md has the long form):
//! - both modules are loaded into the harness's engine (wapc + wasmtime) and
//!   kept warm: one instance across calls, as `kwctl bench` does, except in
//!   the fresh-instance scenarios, which renew the instance before every
//!   call as policy-server (>= 1.10) does. `make bench-policy-server`
//!   measures the real policy-server end to end;
//! - every payload is serialised once, before timing, and both policies get
//!   the very same bytes: only `Policy::call` (the guest call, with the
//!   host's copy of the payload in and the answer out) is inside the clock;
//! - after a warm-up, the contestants of one scenario run in interleaved
//!   rounds (a batch of one, a batch of the next, the starting one rotating
//!   every round), so drift in machine load touches them alike;
//! - each call is timed on its own; the median is the headline, p90/p99 show
//!   the tail. Only ratios measured in one run mean anything on a shared
//!   machine, so every row carries its floor figure from the same rounds.
//!
//! Figures are printed as they come, then written to `results.json`, a chart
//! (`latency-vs-selectors.svg`) and the generated part of `BENCHMARKS.md`.

mod chart;
mod measurement;
mod report;
mod scenarios;

use chart::*;
use measurement::*;
use report::*;
use scenarios::*;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use serde_json::{Value, json};

use eci_profile::evaluate::{NamespaceLabels, Verdict, evaluate_pod};
use eci_profile::settings::{Checked, Profile};
use eci_profile_harness::files::{admission_request_from_document, read_document};
use eci_profile_harness::{
    Answer, Cluster, Policy, PolicyOptions, ValidationResponse, patch, workspace_root,
};

/// Selector counts every selector-dependent figure is measured at.
const SELECTOR_COUNTS: [usize; 4] = [1, 10, 100, 1000];
/// Selector counts of the live-profile rows (SPEC "Live profile").
const LIVE_SELECTOR_COUNTS: [usize; 2] = [10, 100];
/// Pod sizes: labels on the pod, containers in its spec.
const LABEL_COUNTS: [usize; 3] = [1, 100, 1000];
const CONTAINER_COUNTS: [usize; 2] = [1, 20];
/// The selector count the pod-size scenarios use.
const POD_SIZE_SELECTORS: usize = 10;
/// Issue 4's targets.
const RATIO_TARGET: f64 = 2.0;
/// The floor's median under `kwctl bench` on this class of machine (shared/bench/README.md).
const KWCTL_FLOOR_US: f64 = 38.0;
/// The module's size cap (issue 11: size is reported, with a ceiling).
const SIZE_TARGET_BYTES: u64 = 600_000;
const MARK_BEGIN: &str = "<!-- bench:begin -->";
const MARK_END: &str = "<!-- bench:end -->";

/// What `bench` is asked to do.
pub struct Options {
    pub policy: PathBuf,
    pub floor: Option<PathBuf>,
    pub quick: bool,
    pub out: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
}

/// One measured scenario: our policy, and the floor on the same bytes.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub group: String,
    pub settings: String,
    pub pod: String,
    pub selectors: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub containers: Option<usize>,
    pub payload_bytes: usize,
    pub settings_bytes: usize,
    pub ours: Stats,
    pub floor: Stats,
    /// ours / floor, medians.
    pub ratio: f64,
    /// Namespace lookups our policy made per call.
    pub lookups: usize,
}

/// The decision core compiled for the host, called directly.
#[derive(Clone, Debug, Serialize)]
pub struct NativeRow {
    pub what: String,
    pub selectors: usize,
    pub stats: Stats,
}

#[derive(Clone, Debug, Serialize)]
pub struct Slope {
    pub series: String,
    pub per: String,
    pub ours_us: f64,
    pub floor_us: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Module {
    pub path: String,
    pub bytes: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub memory: String,
    pub load_before: String,
    pub load_after: String,
    pub wasmtime: String,
    pub rustc: String,
    pub host_build: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub mode: String,
    pub machine: Machine,
    pub policy: Module,
    pub floor: Module,
    pub validate: Vec<Row>,
    pub end_to_end: Vec<Row>,
    pub lookup: Vec<Row>,
    pub cache_miss: Vec<Row>,
    pub fresh_instance: Vec<Row>,
    pub live_profile: Vec<Row>,
    pub pod_size: Vec<Row>,
    pub validate_settings: Vec<Row>,
    pub native: Vec<NativeRow>,
    pub slopes: Vec<Slope>,
    pub seconds: f64,
}

/// What a contestant's answer must look like, checked once before timing so
/// a benchmark never measures an error path by mistake.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    Mutated,
    Unchanged,
    Accepted,
    SettingsValid,
}

/// One contestant of a scenario: which policy, which call, which bytes.
struct Entry<'a> {
    policy: usize,
    op: &'a str,
    payload: &'a [u8],
    /// When set, each timed call is `Policy::validate(request, settings)`:
    /// the host's own work (serialising both, parsing the answer, the JSON
    /// patch of a mutated pod) inside the clock, as under kwctl and
    /// policy-server. `payload` is then only used to check the answer.
    host: Option<(&'a Value, &'a Value)>,
}

/// One timed call of an entry.
fn invoke(policy: &mut Policy, entry: &Entry<'_>) -> Result<()> {
    match entry.host {
        Some((request, settings)) => policy.validate(request, settings).map(drop),
        None => policy.call(entry.op, entry.payload).map(drop),
    }
}

/// Index of each loaded policy in the `Vec<Policy>`.
const OURS: usize = 0;
const OURS_B: usize = 1;
const FLOOR: usize = 2;

pub fn run(options: &Options) -> Result<()> {
    let started = Instant::now();
    let root = workspace_root();
    let floor_path = options
        .floor
        .clone()
        .unwrap_or_else(|| root.join("../shared/bench/floor.wasm"));
    if !floor_path.is_file() {
        bail!(
            "the floor policy {} is not there: pass --floor PATH (it is shared/bench/floor.wasm beside the repository)",
            floor_path.display()
        );
    }
    let out = options
        .out
        .clone()
        .unwrap_or_else(|| root.join("docs/bench"));
    let markdown = options
        .markdown
        .clone()
        .unwrap_or_else(|| root.join("BENCHMARKS.md"));
    let budget = Budget::new(options.quick);
    let mut machine = machine(&root);
    println!(
        "eci-profile bench ({}): {} vs floor {}",
        if options.quick { "quick" } else { "full" },
        options.policy.display(),
        floor_path.display()
    );
    println!(
        "machine: {} CPU(s), {}, {}; load {}; wasmtime {}",
        machine.cpus, machine.cpu_model, machine.memory, machine.load_before, machine.wasmtime
    );

    // Warm: each scenario says whether it renews the instance (fresh()) or not.
    let warm = PolicyOptions {
        warm: true,
        ..PolicyOptions::default()
    };
    let mut policies = vec![
        Policy::load_with(&options.policy, warm)?,
        Policy::load_with(&options.policy, warm)?,
        Policy::load_with(&floor_path, warm)?,
    ];
    let cluster = Cluster::new().with("default", Answer::Found(namespace_fixture()));
    for policy in &mut policies {
        policy.set_cluster(cluster.clone());
    }
    let module = |path: &Path| -> Result<Module> {
        Ok(Module {
            path: path.display().to_string(),
            bytes: std::fs::metadata(path)
                .with_context(|| path.display().to_string())?
                .len(),
        })
    };
    let policy_module = module(&options.policy)?;
    let floor_module = module(&floor_path)?;
    println!(
        "modules: policy {} bytes, floor {} bytes\n",
        policy_module.bytes, floor_module.bytes
    );

    let requests = root.join("test_data/requests");
    let eci_pod = admission_request_from_document(read_document(
        &requests.join("deployment-pod-eci-label.json"),
    )?)?;
    let plain_pod =
        admission_request_from_document(read_document(&requests.join("deployment-pod.json"))?)?;
    let pods = [
        ("match", &eci_pod, Expect::Mutated),
        ("no match", &plain_pod, Expect::Unchanged),
    ];

    // ── validate vs selector count ──────────────────────────────────────
    println!(
        "== validate: median per call, ours vs floor, same bytes (warm instance, settings cached)"
    );
    let mut validate = Vec::new();
    for kind in [SettingsKind::ObjectOnly, SettingsKind::Mixed] {
        for n in SELECTOR_COUNTS {
            let settings = settings(kind, n, Last::Object);
            check_settings(&mut policies[OURS], &settings, kind.name(), n)?;
            for (pod, request, expect) in pods {
                let payload = validate_payload(request, &settings);
                let row = pair(
                    &mut policies,
                    &budget,
                    Scenario {
                        group: "validate",
                        settings: kind.name(),
                        pod,
                        selectors: n,
                        settings_bytes: settings.to_string().len(),
                        payload: &payload,
                        expect,
                        ..Scenario::default()
                    },
                )?;
                print_row(&row);
                validate.push(row);
            }
        }
    }

    // Settings files for `shared/bench/compare.sh` (kwctl bench), which needs
    // settings without namespace lookups: the object-only ones.
    let kwctl_dir = root.join("target/bench");
    std::fs::create_dir_all(&kwctl_dir).with_context(|| kwctl_dir.display().to_string())?;
    for n in SELECTOR_COUNTS {
        let path = kwctl_dir.join(format!("settings-object-only-{n}.json"));
        std::fs::write(
            &path,
            settings(SettingsKind::ObjectOnly, n, Last::Object).to_string(),
        )
        .with_context(|| path.display().to_string())?;
    }

    // ── end to end: the host's work included ────────────────────────────
    println!(
        "\n== end to end: each call also serialises request + settings, parses the answer and diffs the patch (host work, as kwctl bench and policy-server do it)"
    );
    let mut end_to_end = Vec::new();
    for n in SELECTOR_COUNTS {
        let settings = settings(SettingsKind::ObjectOnly, n, Last::Object);
        for (pod, request, expect) in pods {
            let payload = validate_payload(request, &settings);
            let row = pair(
                &mut policies,
                &budget,
                Scenario {
                    group: "end-to-end",
                    settings: "object-only",
                    pod,
                    selectors: n,
                    settings_bytes: settings.to_string().len(),
                    payload: &payload,
                    expect,
                    host: Some((request, &settings)),
                    ..Scenario::default()
                },
            )?;
            print_row(&row);
            end_to_end.push(row);
        }
    }

    // ── the namespace-lookup path ───────────────────────────────────────
    println!(
        "\n== namespace lookup: the last selector matches by namespaceSelector (1 lookup) vs by objectSelector (none)"
    );
    let mut lookup = Vec::new();
    for n in SELECTOR_COUNTS {
        let with = settings(SettingsKind::ObjectOnly, n, Last::Namespace);
        let without = settings(SettingsKind::ObjectOnly, n, Last::Object);
        check_settings(&mut policies[OURS], &with, "namespace-last", n)?;
        let with_payload = validate_payload(&eci_pod, &with);
        let without_payload = validate_payload(&eci_pod, &without);
        let entries = [
            Entry {
                policy: OURS,
                op: "validate",
                payload: &with_payload,
                host: None,
            },
            Entry {
                policy: OURS_B,
                op: "validate",
                payload: &without_payload,
                host: None,
            },
            Entry {
                policy: FLOOR,
                op: "validate",
                payload: &with_payload,
                host: None,
            },
        ];
        check(&mut policies, &entries[0], Expect::Mutated, Some(1))?;
        check(&mut policies, &entries[1], Expect::Mutated, Some(0))?;
        check(&mut policies, &entries[2], Expect::Accepted, None)?;
        let times = interleave(&mut policies, &entries, &budget)?;
        let [with_t, without_t, floor_t] = [&times[0], &times[1], &times[2]].map(|t| Stats::of(t));
        let row_with = Row {
            group: "lookup".into(),
            settings: "namespace-last".into(),
            pod: "match".into(),
            selectors: n,
            labels: None,
            containers: None,
            payload_bytes: with_payload.len(),
            settings_bytes: with.to_string().len(),
            ratio: with_t.median_us / floor_t.median_us,
            ours: with_t,
            floor: floor_t.clone(),
            lookups: 1,
        };
        let row_without = Row {
            settings: "object-last".into(),
            payload_bytes: without_payload.len(),
            settings_bytes: without.to_string().len(),
            ratio: without_t.median_us / floor_t.median_us,
            ours: without_t,
            lookups: 0,
            ..row_with.clone()
        };
        println!(
            "  n={n:<5} lookup {}  no lookup {}  floor {}  lookup cost {}",
            row_with.ours.short(),
            row_without.ours.short(),
            us(floor_t.median_us),
            us(row_with.ours.median_us - row_without.ours.median_us)
        );
        lookup.push(row_with);
        lookup.push(row_without);
    }

    // ── settings cache: a miss on every call ────────────────────────────
    println!(
        "\n== settings cache miss: two equivalent settings texts alternate, so every call compiles"
    );
    let mut cache_miss = Vec::new();
    for n in SELECTOR_COUNTS {
        let a = settings(SettingsKind::ObjectOnly, n, Last::Object);
        let mut b = a.clone();
        b["onNamespaceLookupError"] = json!("Ignore");
        let pa = validate_payload(&eci_pod, &a);
        let pb = validate_payload(&eci_pod, &b);
        let times = alternate_miss(&mut policies, &pa, &pb, &budget)?;
        let ours = Stats::of(&times[0]);
        let floor = Stats::of(&times[1]);
        let row = Row {
            group: "cache-miss".into(),
            settings: "object-only".into(),
            pod: "match".into(),
            selectors: n,
            labels: None,
            containers: None,
            payload_bytes: pa.len(),
            settings_bytes: a.to_string().len(),
            ratio: ours.median_us / floor.median_us,
            ours,
            floor,
            lookups: 0,
        };
        print_row(&row);
        cache_miss.push(row);
    }

    // ── fresh instance per request (policy-server ≥ 1.10) ───────────────
    println!(
        "\n== fresh instance: first validate on a new instance, as policy-server creates one per request"
    );
    let mut fresh_instance = Vec::new();
    for n in SELECTOR_COUNTS {
        let s = settings(SettingsKind::ObjectOnly, n, Last::Object);
        for (pod, request) in [("match", &eci_pod), ("no match", &plain_pod)] {
            let payload = validate_payload(request, &s);
            let times = fresh(&mut policies, &payload, &budget)?;
            let ours = Stats::of(&times[0]);
            let floor = Stats::of(&times[1]);
            let row = Row {
                group: "fresh-instance".into(),
                settings: "object-only".into(),
                pod: pod.into(),
                selectors: n,
                labels: None,
                containers: None,
                payload_bytes: payload.len(),
                settings_bytes: s.to_string().len(),
                ratio: ours.median_us / floor.median_us,
                ours,
                floor,
                lookups: 0,
            };
            print_row(&row);
            fresh_instance.push(row);
        }
    }

    // ── live profile: the ConfigMap read and compiled on every request ──
    println!(
        "\n== live profile: the same selectors in the eci-profile ConfigMap (configMapRef), fresh instance"
    );
    let mut live_profile = Vec::new();
    let live_settings =
        json!({"configMapRef": {"namespace": "kube-system", "name": "eci-profile"}});
    for n in LIVE_SELECTOR_COUNTS {
        let s = settings(SettingsKind::ObjectOnly, n, Last::Object);
        let config_map = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "eci-profile", "namespace": "kube-system"},
            "data": {"selectors": s["selectors"].to_string()}
        });
        let config_map_bytes = config_map.to_string().len();
        let mut live_cluster = cluster.clone();
        live_cluster.insert_config_map("kube-system", "eci-profile", Answer::Found(config_map));
        policies[OURS].set_cluster(live_cluster);
        for (pod, request, expect) in [
            ("match", &eci_pod, Expect::Mutated),
            ("no match", &plain_pod, Expect::Unchanged),
        ] {
            let payload = validate_payload(request, &live_settings);
            let entry = Entry {
                policy: OURS,
                op: "validate",
                payload: &payload,
                host: None,
            };
            check(&mut policies, &entry, expect, Some(1))?;
            let times = fresh(&mut policies, &payload, &budget)?;
            let ours = Stats::of(&times[0]);
            let floor = Stats::of(&times[1]);
            let row = Row {
                group: "live-profile".into(),
                settings: "live".into(),
                pod: pod.into(),
                selectors: n,
                labels: None,
                containers: None,
                payload_bytes: payload.len(),
                settings_bytes: config_map_bytes,
                ratio: ours.median_us / floor.median_us,
                ours,
                floor,
                lookups: 1,
            };
            print_row(&row);
            live_profile.push(row);
        }
        policies[OURS].set_cluster(cluster.clone());
    }

    // ── pod size ────────────────────────────────────────────────────────
    println!(
        "\n== pod size: labels x containers, {POD_SIZE_SELECTORS} objectSelector selectors (last one matches the ECI-labelled pod)"
    );
    let mut pod_size = Vec::new();
    let size_settings = settings(SettingsKind::ObjectOnly, POD_SIZE_SELECTORS, Last::Object);
    for (pod, base, expect) in pods {
        for labels in LABEL_COUNTS {
            for containers in CONTAINER_COUNTS {
                let request = sized_pod(base, pod == "match", labels, containers);
                let payload = validate_payload(&request, &size_settings);
                let row = pair(
                    &mut policies,
                    &budget,
                    Scenario {
                        group: "pod-size",
                        settings: "object-only",
                        pod,
                        selectors: POD_SIZE_SELECTORS,
                        labels: Some(labels),
                        containers: Some(containers),
                        settings_bytes: size_settings.to_string().len(),
                        payload: &payload,
                        expect,
                        ..Scenario::default()
                    },
                )?;
                print_row(&row);
                pod_size.push(row);
            }
        }
    }

    // ── validate_settings ───────────────────────────────────────────────
    println!("\n== validate_settings: parse, check and compile the settings (mixed selectors)");
    let mut validate_settings = Vec::new();
    for n in SELECTOR_COUNTS {
        let s = settings(SettingsKind::Mixed, n, Last::Object);
        let payload = serde_json::to_vec(&s)?;
        let row = pair(
            &mut policies,
            &budget,
            Scenario {
                group: "validate_settings",
                op: "validate_settings",
                settings: "mixed",
                pod: "-",
                selectors: n,
                settings_bytes: payload.len(),
                payload: &payload,
                expect: Expect::SettingsValid,
                ..Scenario::default()
            },
        )?;
        print_row(&row);
        validate_settings.push(row);
    }

    // ── the decision core, natively ─────────────────────────────────────
    println!(
        "\n== decision core on the host (dev profile: eci-profile at opt-level 1, see BENCHMARKS.md)"
    );
    let native = native(&budget, &eci_pod, &plain_pod)?;

    let slopes = slopes(&validate, &pod_size);
    println!("\n== slopes (least squares over the medians)");
    for s in &slopes {
        println!(
            "  {:<40} {:<14} ours {:>9}  floor {:>9}",
            s.series,
            s.per,
            us(s.ours_us),
            us(s.floor_us)
        );
    }

    machine.load_after = load_average();
    let report = Report {
        mode: if options.quick { "quick" } else { "full" }.into(),
        machine,
        policy: policy_module,
        floor: floor_module,
        validate,
        end_to_end,
        lookup,
        cache_miss,
        fresh_instance,
        live_profile,
        pod_size,
        validate_settings,
        native,
        slopes,
        seconds: started.elapsed().as_secs_f64(),
    };

    std::fs::create_dir_all(&out).with_context(|| out.display().to_string())?;
    let json_path = out.join("results.json");
    std::fs::write(&json_path, serde_json::to_string_pretty(&report)? + "\n")
        .with_context(|| json_path.display().to_string())?;
    let svg_path = out.join("latency-vs-selectors.svg");
    chart(&report, &svg_path)?;
    update_markdown(&markdown, &render_markdown(&report, &markdown, &svg_path))?;
    println!(
        "\nwrote {}, {} and the tables of {} ({:.0} s)",
        json_path.display(),
        svg_path.display(),
        markdown.display(),
        report.seconds
    );
    for line in verdicts(&report) {
        println!("{line}");
    }
    println!(
        "\nkwctl bench (where kwctl is installed): make annotated-policy.wasm, then for N in {SELECTOR_COUNTS:?}:\n  \
         ../shared/bench/compare.sh annotated-policy.wasm test_data/requests/deployment-pod-eci-label.json {}/settings-object-only-N.json 3",
        relative(&kwctl_dir, &root)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_pick_ranks() {
        let d: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        let s = Stats::of(&d);
        assert_eq!(s.samples, 100);
        assert!((s.median_us - 51.0).abs() < 1.01);
        assert!((s.p90_us - 90.0).abs() < 1.01);
        assert!((s.p99_us - 99.0).abs() < 1.01);
    }

    #[test]
    fn slope_of_a_line() {
        assert!((slope(&[(1.0, 3.0), (10.0, 21.0), (100.0, 201.0)]) - 2.0).abs() < 1e-9);
    }

    #[test]
    fn generated_settings_put_the_matching_selector_last() {
        let s = settings(SettingsKind::Mixed, 10, Last::Object);
        let list = s["selectors"].as_array().unwrap();
        assert_eq!(list.len(), 10);
        assert_eq!(list[9]["name"], "eci-pods");
        assert!(Profile::from_settings(&s).is_ok());
        let s = settings(SettingsKind::ObjectOnly, 1, Last::Namespace);
        assert!(s["selectors"][0]["namespaceSelector"].is_object());
    }

    #[test]
    fn markers_are_replaced_or_appended() {
        let dir = std::env::temp_dir().join(format!("eci-bench-md-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("B.md");
        std::fs::write(
            &path,
            format!("intro\n{MARK_BEGIN}\nold\n{MARK_END}\nafter\n"),
        )
        .unwrap();
        update_markdown(&path, "new\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("intro\n{MARK_BEGIN}\nnew\n{MARK_END}\nafter\n")
        );
        std::fs::write(&path, "intro\n").unwrap();
        update_markdown(&path, "x\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("intro\n{MARK_BEGIN}\nx\n{MARK_END}\n")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
