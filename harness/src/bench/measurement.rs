//! Measuring: the interleaved rounds of ours against the floor (one fresh
//! instance per call where the host does that), the native decision core,
//! slopes, and the machine the figures were taken on.

use super::*;

/// How long to measure.
#[derive(Clone, Copy)]
pub(super) struct Budget {
    /// Interleaved rounds per scenario.
    pub(super) rounds: usize,
    /// Wall time to spend per contestant of a scenario.
    pub(super) per_contestant: Duration,
    /// Fewest and most timed calls per contestant.
    pub(super) min_samples: usize,
    pub(super) max_samples: usize,
    /// Untimed calls per contestant before measuring.
    pub(super) warmup: usize,
    /// Fresh instances per contestant in the fresh-instance scenarios.
    pub(super) fresh_samples: usize,
}

impl Budget {
    pub(super) fn new(quick: bool) -> Self {
        if quick {
            Budget {
                rounds: 4,
                per_contestant: Duration::from_millis(40),
                min_samples: 20,
                max_samples: 2_000,
                warmup: 5,
                fresh_samples: 8,
            }
        } else {
            Budget {
                rounds: 12,
                per_contestant: Duration::from_millis(700),
                min_samples: 300,
                max_samples: 30_000,
                warmup: 50,
                fresh_samples: 60,
            }
        }
    }
}

/// Summary of many timed calls, in microseconds.
#[derive(Clone, Debug, Serialize)]
pub struct Stats {
    pub samples: usize,
    pub median_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub mean_us: f64,
    pub min_us: f64,
}

impl Stats {
    pub(super) fn of(durations: &[Duration]) -> Stats {
        let mut us: Vec<f64> = durations.iter().map(|d| d.as_secs_f64() * 1e6).collect();
        us.sort_by(f64::total_cmp);
        let pick = |q: f64| {
            if us.is_empty() {
                return f64::NAN;
            }
            let rank = (q * (us.len() - 1) as f64).round() as usize;
            us[rank.min(us.len() - 1)]
        };
        Stats {
            samples: us.len(),
            median_us: pick(0.5),
            p90_us: pick(0.9),
            p99_us: pick(0.99),
            mean_us: us.iter().sum::<f64>() / us.len().max(1) as f64,
            min_us: us.first().copied().unwrap_or(f64::NAN),
        }
    }

    pub(super) fn short(&self) -> String {
        format!(
            "{} (p90 {}, p99 {})",
            us(self.median_us),
            us(self.p90_us),
            us(self.p99_us)
        )
    }
}

/// Ours vs floor on the same payload, interleaved.
pub(super) fn pair(policies: &mut [Policy], budget: &Budget, s: Scenario<'_>) -> Result<Row> {
    let entries = [
        Entry {
            policy: OURS,
            op: s.op,
            payload: s.payload,
            host: s.host,
        },
        Entry {
            policy: FLOOR,
            op: s.op,
            payload: s.payload,
            host: s.host,
        },
    ];
    let floor_expect = if s.expect == Expect::SettingsValid {
        Expect::SettingsValid
    } else {
        Expect::Accepted
    };
    let lookups = check(policies, &entries[0], s.expect, None)?;
    check(policies, &entries[1], floor_expect, None)?;
    let times = interleave(policies, &entries, budget)?;
    let ours = Stats::of(&times[0]);
    let floor = Stats::of(&times[1]);
    Ok(Row {
        group: s.group.into(),
        settings: s.settings.into(),
        pod: s.pod.into(),
        selectors: s.selectors,
        labels: s.labels,
        containers: s.containers,
        payload_bytes: s.payload.len(),
        settings_bytes: s.settings_bytes,
        ratio: ours.median_us / floor.median_us,
        ours,
        floor,
        lookups,
    })
}

/// Calls the entry once and checks the answer; returns the number of
/// namespace lookups the call made.
pub(super) fn check(
    policies: &mut [Policy],
    entry: &Entry<'_>,
    expect: Expect,
    lookups: Option<usize>,
) -> Result<usize> {
    let policy = &mut policies[entry.policy];
    let answer = policy.call(entry.op, entry.payload)?;
    let made = policy.activity().lookups.len();
    let origin = policy.origin().to_owned();
    if expect == Expect::SettingsValid {
        let verdict: Value = serde_json::from_slice(&answer)?;
        if verdict["valid"] != json!(true) {
            bail!("{origin}: the benchmark's settings are rejected: {verdict}");
        }
        return Ok(made);
    }
    let response: ValidationResponse = serde_json::from_slice(&answer)
        .with_context(|| format!("{origin}: {}", String::from_utf8_lossy(&answer)))?;
    let ok = response.accepted
        && match expect {
            Expect::Mutated => response.mutated_object.is_some(),
            Expect::Unchanged => response.mutated_object.is_none(),
            _ => true,
        };
    if !ok {
        bail!(
            "{origin}: the benchmark request is not answered as expected: {}",
            String::from_utf8_lossy(&answer)
        );
    }
    if let Some(expected) = lookups
        && expected != made
    {
        bail!("{origin}: expected {expected} namespace lookup(s), the call made {made}");
    }
    Ok(made)
}

/// Times every entry in interleaved rounds; one list of durations per entry.
pub(super) fn interleave(
    policies: &mut [Policy],
    entries: &[Entry<'_>],
    budget: &Budget,
) -> Result<Vec<Vec<Duration>>> {
    // Warm-up, which also estimates the slowest entry's cost per call.
    let mut slowest = Duration::ZERO;
    for entry in entries {
        let policy = &mut policies[entry.policy];
        let begin = Instant::now();
        for _ in 0..budget.warmup {
            invoke(policy, entry)?;
        }
        slowest = slowest.max(begin.elapsed() / budget.warmup.max(1) as u32);
    }
    let per_call = slowest.max(Duration::from_nanos(100));
    let samples = ((budget.per_contestant.as_secs_f64() / per_call.as_secs_f64()) as usize)
        .clamp(budget.min_samples, budget.max_samples);
    let batch = samples.div_ceil(budget.rounds).max(1);
    let mut times: Vec<Vec<Duration>> = entries
        .iter()
        .map(|_| Vec::with_capacity(batch * budget.rounds))
        .collect();
    for round in 0..budget.rounds {
        for k in 0..entries.len() {
            let index = (round + k) % entries.len();
            let entry = &entries[index];
            let policy = &mut policies[entry.policy];
            for _ in 0..batch {
                let begin = Instant::now();
                let answer = invoke(policy, entry);
                let elapsed = begin.elapsed();
                answer?;
                times[index].push(elapsed);
            }
        }
    }
    Ok(times)
}

/// Ours and floor, each alternating two settings texts call by call, so our
/// cache of compiled settings misses every time.
pub(super) fn alternate_miss(
    policies: &mut [Policy],
    a: &[u8],
    b: &[u8],
    budget: &Budget,
) -> Result<[Vec<Duration>; 2]> {
    for payload in [a, b] {
        for policy in [OURS, FLOOR] {
            let entry = Entry {
                policy,
                op: "validate",
                payload,
                host: None,
            };
            let expect = if policy == OURS {
                Expect::Mutated
            } else {
                Expect::Accepted
            };
            check(policies, &entry, expect, None)?;
        }
    }
    let begin = Instant::now();
    for _ in 0..budget.warmup.max(2) {
        policies[OURS].call("validate", a)?;
        policies[OURS].call("validate", b)?;
    }
    let per_call = begin.elapsed() / (2 * budget.warmup.max(2)) as u32;
    let samples = ((budget.per_contestant.as_secs_f64() / per_call.as_secs_f64().max(1e-7))
        as usize)
        .clamp(budget.min_samples, budget.max_samples)
        / 2;
    let batch = samples.div_ceil(budget.rounds).max(1);
    let mut times = [Vec::new(), Vec::new()];
    for round in 0..budget.rounds {
        for k in 0..2 {
            let which = (round + k) % 2;
            let policy = &mut policies[if which == 0 { OURS } else { FLOOR }];
            for _ in 0..batch {
                for payload in [a, b] {
                    let begin = Instant::now();
                    let answer = policy.call("validate", payload);
                    let elapsed = begin.elapsed();
                    answer?;
                    times[which].push(elapsed);
                }
            }
        }
    }
    Ok(times)
}

/// The first `validate` on a fresh instance, ours and floor alternating
/// (the instance is renewed untimed).
pub(super) fn fresh(
    policies: &mut [Policy],
    payload: &[u8],
    budget: &Budget,
) -> Result<[Vec<Duration>; 2]> {
    let mut times = [Vec::new(), Vec::new()];
    for sample in 0..budget.fresh_samples + 2 {
        for k in 0..2 {
            let which = (sample + k) % 2;
            let policy = &mut policies[if which == 0 { OURS } else { FLOOR }];
            policy.renew()?;
            let begin = Instant::now();
            let answer = policy.call("validate", payload);
            let elapsed = begin.elapsed();
            answer?;
            // The first two rounds warm the host's own caches.
            if sample >= 2 {
                times[which].push(elapsed);
            }
        }
    }
    Ok(times)
}

pub(super) fn check_settings(
    policy: &mut Policy,
    settings: &Value,
    kind: &str,
    n: usize,
) -> Result<()> {
    let verdict = policy.validate_settings(settings)?;
    if !verdict.valid {
        bail!(
            "the generated {kind} settings with {n} selector(s) are rejected: {}",
            verdict.message.unwrap_or_default()
        );
    }
    Ok(())
}

pub(super) fn validate_payload(request: &Value, settings: &Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"request": request, "settings": settings}))
        .expect("a JSON value serialises")
}

pub(super) fn print_row(row: &Row) {
    let mut what = format!("{} {}", row.settings, row.pod);
    if let (Some(l), Some(c)) = (row.labels, row.containers) {
        what = format!("{} labels={l} containers={c}", row.pod);
    }
    println!(
        "  n={:<5} {:<34} ours {}  floor {}  ratio {:.2}  ({} KB payload)",
        row.selectors,
        what,
        row.ours.short(),
        row.floor.short(),
        row.ratio,
        kb(row.payload_bytes)
    );
}

/// The native row of the host's work on a mutated answer.
pub(super) const HOST_MUTATION: &str = "host: parse a mutated answer + JSON patch (match)";

pub(super) fn native(
    budget: &Budget,
    eci_pod: &Value,
    plain_pod: &Value,
) -> Result<Vec<NativeRow>> {
    let mut rows = Vec::new();
    let ns_labels: NamespaceLabels = namespace_fixture()["metadata"]["labels"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    let mut push = |what: &str, n: usize, times: Vec<Duration>| {
        let stats = Stats::of(&times);
        println!("  n={n:<5} {what:<44} {}", stats.short());
        rows.push(NativeRow {
            what: what.into(),
            selectors: n,
            stats,
        });
    };
    for n in SELECTOR_COUNTS {
        let mixed = settings(SettingsKind::Mixed, n, Last::Object);
        let text = mixed.to_string();
        push(
            "Profile::from_settings (mixed, parsed Value)",
            n,
            time_native(budget, || {
                Profile::from_settings(&mixed).expect("valid settings");
            }),
        );
        push(
            "settings text → Checked (mixed, as validate)",
            n,
            time_native(budget, || {
                let Checked(checked) = serde_json::from_str(&text).expect("JSON");
                checked.expect("valid settings");
            }),
        );
        let object_only = settings(SettingsKind::ObjectOnly, n, Last::Object);
        let profile = Profile::from_settings(&object_only).expect("valid settings");
        for (name, request, mutated) in [("match", eci_pod, true), ("no match", plain_pod, false)] {
            let pod = request["object"].clone();
            let pod_text = pod.to_string();
            let lookup = |_: &str| Ok(ns_labels.clone());
            let decision = evaluate_pod(&profile, pod.clone(), "default", lookup);
            if matches!(decision.verdict, Verdict::Mutate(_)) != mutated {
                bail!("native evaluate_pod: unexpected verdict for the {name} pod");
            }
            push(
                &format!("evaluate_pod (object-only, {name}, parsed pod)"),
                n,
                time_native_with(
                    budget,
                    || pod.clone(),
                    |pod| {
                        evaluate_pod(&profile, pod, "default", lookup);
                    },
                ),
            );
            push(
                &format!("parse pod + evaluate_pod (object-only, {name})"),
                n,
                time_native(budget, || {
                    let pod: Value = serde_json::from_str(&pod_text).expect("JSON");
                    evaluate_pod(&profile, pod, "default", lookup);
                }),
            );
            if mutated {
                // What the host does with any mutated answer, whichever policy wrote
                // it: parse it and compute the JSON patch (policy-server also
                // base64-encodes the patch). A policy that answered instantly would
                // still cost the floor plus this.
                let Verdict::Mutate(out) = decision.verdict else {
                    bail!("native evaluate_pod: the {name} pod is not mutated");
                };
                let answer = serde_json::to_vec(&ValidationResponse {
                    accepted: true,
                    message: None,
                    code: None,
                    mutated_object: Some(out),
                    audit_annotations: None,
                    warnings: None,
                })?;
                push(
                    HOST_MUTATION,
                    n,
                    time_native(budget, || {
                        let response: ValidationResponse =
                            serde_json::from_slice(&answer).expect("answer");
                        let mutated = response.mutated_object.expect("mutated");
                        std::hint::black_box(patch::diff(&pod, &mutated));
                    }),
                );
            }
        }
    }
    Ok(rows)
}

pub(super) fn time_native(budget: &Budget, mut f: impl FnMut()) -> Vec<Duration> {
    time_native_with(budget, || (), |()| f())
}

/// Times `f` on inputs made by `make` outside the clock.
pub(super) fn time_native_with<T>(
    budget: &Budget,
    mut make: impl FnMut() -> T,
    mut f: impl FnMut(T),
) -> Vec<Duration> {
    let begin = Instant::now();
    for _ in 0..budget.warmup {
        f(make());
    }
    let per_call = (begin.elapsed() / budget.warmup.max(1) as u32).max(Duration::from_nanos(50));
    let samples = ((budget.per_contestant.as_secs_f64() / 2.0 / per_call.as_secs_f64()) as usize)
        .clamp(budget.min_samples, budget.max_samples);
    let mut times = Vec::with_capacity(samples);
    let chunk = 64;
    let mut done = 0;
    while done < samples {
        let inputs: Vec<T> = (0..chunk.min(samples - done)).map(|_| make()).collect();
        for input in inputs {
            let begin = Instant::now();
            f(input);
            times.push(begin.elapsed());
            done += 1;
        }
    }
    times
}

// ── slopes ──────────────────────────────────────────────────────────────

/// Least-squares slope of y over x.
pub(super) fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if points.len() < 2 {
        return f64::NAN;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = points.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    sxy / sxx
}

pub(super) fn slopes(validate: &[Row], pod_size: &[Row]) -> Vec<Slope> {
    let mut out = Vec::new();
    for kind in ["object-only", "mixed"] {
        for pod in ["match", "no match"] {
            let rows: Vec<&Row> = validate
                .iter()
                .filter(|r| r.settings == kind && r.pod == pod)
                .collect();
            let fit = |f: &dyn Fn(&Row) -> f64, x: &dyn Fn(&Row) -> f64| {
                slope(&rows.iter().map(|r| (x(r), f(r))).collect::<Vec<_>>())
            };
            out.push(Slope {
                series: format!("validate, {kind}, {pod}"),
                per: "per selector".into(),
                ours_us: fit(&|r| r.ours.median_us, &|r| r.selectors as f64),
                floor_us: fit(&|r| r.floor.median_us, &|r| r.selectors as f64),
            });
            out.push(Slope {
                series: format!("validate, {kind}, {pod}"),
                per: "per KB settings".into(),
                ours_us: fit(&|r| r.ours.median_us, &|r| r.settings_bytes as f64 / 1000.0),
                floor_us: fit(&|r| r.floor.median_us, &|r| {
                    r.settings_bytes as f64 / 1000.0
                }),
            });
        }
    }
    for pod in ["match", "no match"] {
        for containers in CONTAINER_COUNTS {
            let points = |f: &dyn Fn(&Row) -> f64| -> Vec<(f64, f64)> {
                pod_size
                    .iter()
                    .filter(|r| r.pod == pod && r.containers == Some(containers))
                    .map(|r| (r.labels.unwrap_or(0) as f64, f(r)))
                    .collect()
            };
            out.push(Slope {
                series: format!("pod size, {pod}, {containers} container(s)"),
                per: "per label".into(),
                ours_us: slope(&points(&|r| r.ours.median_us)),
                floor_us: slope(&points(&|r| r.floor.median_us)),
            });
        }
        for labels in LABEL_COUNTS {
            let points = |f: &dyn Fn(&Row) -> f64| -> Vec<(f64, f64)> {
                pod_size
                    .iter()
                    .filter(|r| r.pod == pod && r.labels == Some(labels))
                    .map(|r| (r.containers.unwrap_or(0) as f64, f(r)))
                    .collect()
            };
            out.push(Slope {
                series: format!("pod size, {pod}, {labels} label(s)"),
                per: "per container".into(),
                ours_us: slope(&points(&|r| r.ours.median_us)),
                floor_us: slope(&points(&|r| r.floor.median_us)),
            });
        }
        let points = |f: &dyn Fn(&Row) -> f64| -> Vec<(f64, f64)> {
            pod_size
                .iter()
                .filter(|r| r.pod == pod)
                .map(|r| (r.payload_bytes as f64 / 1000.0, f(r)))
                .collect()
        };
        out.push(Slope {
            series: format!("pod size, {pod}, all sizes"),
            per: "per KB payload".into(),
            ours_us: slope(&points(&|r| r.ours.median_us)),
            floor_us: slope(&points(&|r| r.floor.median_us)),
        });
    }
    out
}

// ── the machine ─────────────────────────────────────────────────────────

pub(super) fn machine(root: &Path) -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or_else(
            || "unknown memory".into(),
            |kb| format!("{:.1} GiB memory", kb / 1024.0 / 1024.0),
        );
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap_or_default();
    let wasmtime = lock
        .split("[[package]]")
        .find(|p| p.contains("name = \"wasmtime\"\n"))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = ")))
        .map(|v| v.trim_matches('"').to_owned())
        .unwrap_or_else(|| "unknown".into());
    let rustc = std::process::Command::new(std::env::var("RUSTC").unwrap_or("rustc".into()))
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    Machine {
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu_model,
        memory,
        load_before: load_average(),
        load_after: String::new(),
        wasmtime,
        rustc,
        host_build: if cfg!(debug_assertions) {
            "dev profile (dependencies opt-level 3, eci-profile and the harness opt-level 1)"
        } else {
            "release profile"
        }
        .into(),
    }
}

pub(super) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}
