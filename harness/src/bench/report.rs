//! The report: figures as text, the verdicts against the targets, and the
//! generated part of BENCHMARKS.md.

use super::*;

pub(super) fn us(v: f64) -> String {
    if !v.is_finite() {
        "–".into()
    } else if v.abs() >= 1000.0 {
        format!("{:.2} ms", v / 1000.0)
    } else if v.abs() >= 100.0 {
        format!("{v:.0} µs")
    } else if v.abs() >= 10.0 {
        format!("{v:.1} µs")
    } else {
        format!("{v:.2} µs")
    }
}

pub(super) fn kb(bytes: usize) -> String {
    let k = bytes as f64 / 1000.0;
    if k >= 100.0 {
        format!("{k:.0}")
    } else {
        format!("{k:.1}")
    }
}

/// Each target of issue 4: met or not, with the figure.
pub(super) fn verdicts(report: &Report) -> Vec<String> {
    let mut lines = Vec::new();
    let worst = |rows: &[&Row]| {
        rows.iter()
            .copied()
            .max_by(|a, b| a.ratio.total_cmp(&b.ratio))
            .cloned()
    };
    let no_lookup: Vec<&Row> = report
        .validate
        .iter()
        .filter(|r| r.settings == "object-only")
        .collect();
    if let Some(w) = worst(&no_lookup) {
        lines.push(format!(
            "- **Median `validate` ≤ {RATIO_TARGET:.1}× floor, guest call only, no namespace lookup, 1–1000 selectors (warm instance): {}** — worst ratio {:.2} ({} selectors, {} pod: {} vs {}).",
            if w.ratio <= RATIO_TARGET { "met" } else { "NOT met" },
            w.ratio,
            w.selectors,
            w.pod,
            us(w.ours.median_us),
            us(w.floor.median_us)
        ));
    }
    let e2e: Vec<&Row> = report.end_to_end.iter().collect();
    if let Some(w) = worst(&e2e) {
        lines.push(format!(
            "- **Median `validate` ≤ {RATIO_TARGET:.1}× floor, end to end (host work included), no lookup, 1–1000 selectors: {}** — worst ratio {:.2} ({} selectors, {} pod: {} vs {}).",
            if w.ratio <= RATIO_TARGET { "met" } else { "NOT met" },
            w.ratio,
            w.selectors,
            w.pod,
            us(w.ours.median_us),
            us(w.floor.median_us)
        ));
    }
    // What no mutating policy avoids end to end: the host's work on its answer.
    for r in e2e.iter().filter(|r| r.pod == "match" && r.selectors <= 10) {
        let Some(host) = report
            .native
            .iter()
            .find(|h| h.what == HOST_MUTATION && h.selectors == r.selectors)
        else {
            continue;
        };
        let bound = (r.floor.median_us + host.stats.median_us) / r.floor.median_us;
        lines.push(format!(
            "- End to end, {} selector(s), mutated pod: the host's own work on a mutated answer (parse it, compute the JSON patch; {} measured natively) puts even a policy that answered instantly at {:.2}× the floor ({} + {} over {}); ours is {:.2}×, i.e. {:.2}× that bound.",
            r.selectors,
            us(host.stats.median_us),
            bound,
            us(r.floor.median_us),
            us(host.stats.median_us),
            us(r.floor.median_us),
            r.ratio,
            r.ours.median_us / (r.floor.median_us + host.stats.median_us),
        ));
    }
    // kwctl bench (not available here): the floor it measures, plus the
    // policy's own cost over the floor, plus — for a mutated pod — the
    // host's work on the mutated answer, which kwctl does too.
    for pod in ["no match", "match"] {
        let own = no_lookup
            .iter()
            .filter(|r| r.selectors <= 10 && r.pod == pod)
            .map(|r| r.ours.median_us - r.floor.median_us)
            .fold(f64::NAN, f64::max);
        let host = if pod == "match" {
            report
                .native
                .iter()
                .filter(|h| h.what == HOST_MUTATION && h.selectors <= 10)
                .map(|h| h.stats.median_us)
                .fold(f64::NAN, f64::max)
        } else {
            0.0
        };
        if !(own.is_finite() && host.is_finite()) {
            continue;
        }
        let ratio = (KWCTL_FLOOR_US + own + host) / KWCTL_FLOOR_US;
        lines.push(format!(
            "- `kwctl bench`, projected (this benchmark does not run kwctl), {pod} pod, 1–10 selectors: kwctl's floor of ≈ {KWCTL_FLOOR_US:.0} µs (shared/bench/README.md) + the policy's own cost over the floor ({}){} projects to ≈ {ratio:.2}× ({} 2.0×; a projection, not a measurement).",
            us(own),
            if pod == "match" {
                format!(" + the host's work on the mutated answer ({})", us(host))
            } else {
                String::new()
            },
            if ratio <= RATIO_TARGET { "within" } else { "over" },
        ));
    }
    let mixed: Vec<&Row> = report
        .validate
        .iter()
        .filter(|r| r.settings == "mixed")
        .collect();
    if let Some(w) = worst(&mixed) {
        lines.push(format!(
            "- Mixed selectors (one namespace lookup through the host): worst ratio {:.2} ({} selectors, {} pod) — {} {RATIO_TARGET:.1}×.",
            w.ratio,
            w.selectors,
            w.pod,
            if w.ratio <= RATIO_TARGET { "within" } else { "over" }
        ));
    }
    let costs: Vec<String> = report
        .lookup
        .chunks(2)
        .map(|p| {
            format!(
                "{} at {}",
                us(p[0].ours.median_us - p[1].ours.median_us),
                p[0].selectors
            )
        })
        .collect();
    lines.push(format!(
        "- **Namespace-lookup path: reported** — one lookup costs {} selector(s) over the no-lookup path.",
        costs.join(", ")
    ));
    let size = report.policy.bytes;
    lines.push(format!(
        "- **Release module ≤ 600 KB: {}** — `policy.wasm` is {size} bytes ({:.1} KB).",
        if size <= SIZE_TARGET_BYTES {
            "met"
        } else {
            "NOT met"
        },
        size as f64 / 1000.0
    ));
    if let Some(w) = report
        .fresh_instance
        .iter()
        .max_by(|a, b| a.ratio.total_cmp(&b.ratio))
    {
        lines.push(format!(
            "- Fresh instance per request (policy-server ≥ 1.10): worst ratio {:.2} ({} selectors: {} vs {}) — {} {RATIO_TARGET:.1}×.",
            w.ratio,
            w.selectors,
            us(w.ours.median_us),
            us(w.floor.median_us),
            if w.ratio <= RATIO_TARGET { "within" } else { "over" }
        ));
    }
    lines.push("- **Cost growth: reported** — slopes below.".into());
    lines
}

pub(super) fn render_markdown(report: &Report, markdown: &Path, svg: &Path) -> String {
    let mut md = String::new();
    let m = &report.machine;
    let _ = writeln!(
        md,
        "_Generated by `eci-profile bench` ({} mode, {:.0} s). Machine: {} CPU(s), {}, {}; \
         load average {} before, {} after; wasmtime {}; {}; host build: {}._\n",
        report.mode,
        report.seconds,
        m.cpus,
        m.cpu_model,
        m.memory,
        m.load_before,
        m.load_after,
        m.wasmtime,
        m.rustc,
        m.host_build
    );
    let _ = writeln!(
        md,
        "Modules: `policy.wasm` {} bytes, floor {} bytes.\n",
        report.policy.bytes, report.floor.bytes
    );
    md.push_str("### Targets\n\n");
    for line in verdicts(report) {
        md.push_str(&line);
        md.push('\n');
    }
    let rel = relative(svg, markdown.parent().unwrap_or(Path::new(".")));
    let _ = writeln!(
        md,
        "\n![validate latency against selector count, ours vs floor]({rel})\n"
    );

    md.push_str("### `validate` against selector count (warm instance)\n\n");
    md.push_str(
        "The last selector is the one that matches the ECI-labelled pod (`match`: walks the whole list, mutates); \
         the plain pod matches none (`no match`: walks the whole list, accepts unchanged). \
         Median / p90 / p99 in µs; ratio = ours ÷ floor (medians, same rounds).\n\n",
    );
    md.push_str("| settings | selectors | settings KB | pod | ours median | p90 | p99 | floor median | p90 | p99 | ours − floor | ratio |\n");
    md.push_str("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in &report.validate {
        row_line(
            &mut md,
            r,
            &r.settings,
            r.selectors.to_string(),
            Some(r.settings_bytes),
        );
    }

    md.push_str("\n### `validate` end to end (host work included)\n\n");
    md.push_str(
        "Each timed call is `Policy::validate(request, settings)`: the host serialises the request and the settings, \
         calls the guest, parses the answer and, for a mutated pod, computes the JSON patch — the work kwctl bench \
         and policy-server do around every guest call (they do more: HTTP, AdmissionReview, instance creation). \
         Object-only settings.\n\n",
    );
    md.push_str("| settings | selectors | settings KB | pod | ours median | p90 | p99 | floor median | p90 | p99 | ours − floor | ratio |\n");
    md.push_str("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in &report.end_to_end {
        row_line(
            &mut md,
            r,
            &r.settings,
            r.selectors.to_string(),
            Some(r.settings_bytes),
        );
    }

    md.push_str("\n### Namespace-lookup path\n\n");
    md.push_str(
        "Object-only filler selectors; the last selector matches the ECI-labelled pod by `namespaceSelector` \
         (one `get_resource` answered from the fixture) or by `objectSelector` (no lookup), same mutation. \
         Both variants and the floor run interleaved.\n\n",
    );
    md.push_str("| selectors | ours, lookup | ours, no lookup | lookup cost | floor | ratio lookup | ratio no lookup |\n");
    md.push_str("|---:|---:|---:|---:|---:|---:|---:|\n");
    for p in report.lookup.chunks(2) {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {:.2} | {:.2} |",
            p[0].selectors,
            f(p[0].ours.median_us),
            f(p[1].ours.median_us),
            f(p[0].ours.median_us - p[1].ours.median_us),
            f(p[0].floor.median_us),
            p[0].ratio,
            p[1].ratio
        );
    }

    md.push_str("\n### Settings cache\n\n");
    md.push_str(
        "Compiled settings are cached by their exact text. Here two equivalent settings texts alternate call by call, \
         so every call re-parses and re-compiles them: the difference to the `match` rows above is the compile cost the cache saves.\n\n",
    );
    md.push_str("| selectors | settings KB | ours, miss every call | p90 | floor | ratio | ours, cache hit (above) |\n");
    md.push_str("|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in &report.cache_miss {
        let hit = report
            .validate
            .iter()
            .find(|v| v.settings == "object-only" && v.pod == "match" && v.selectors == r.selectors)
            .map_or(f64::NAN, |v| v.ours.median_us);
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {:.2} | {} |",
            r.selectors,
            kb(r.settings_bytes),
            f(r.ours.median_us),
            f(r.ours.p90_us),
            f(r.floor.median_us),
            r.ratio,
            f(hit)
        );
    }

    md.push_str("\n### Fresh instance per request\n\n");
    md.push_str(
        "policy-server (since 1.10) creates a fresh instance from a pre-instantiated module for every evaluation and discards it \
         afterwards, so there the settings are compiled on every request. Timed: the first `validate` on a new instance \
         (instantiation itself untimed), object-only settings, the ECI-labelled pod (`match`) and the plain one \
         (`no match`).\n\n",
    );
    md.push_str(
        "| selectors | settings KB | pod | ours median | p90 | floor median | p90 | ratio |\n",
    );
    md.push_str("|---:|---:|---|---:|---:|---:|---:|---:|\n");
    for r in &report.fresh_instance {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {:.2} |",
            r.selectors,
            kb(r.settings_bytes),
            r.pod,
            f(r.ours.median_us),
            f(r.ours.p90_us),
            f(r.floor.median_us),
            f(r.floor.p90_us),
            r.ratio
        );
    }

    md.push_str("\n### Live profile: the ConfigMap read and compiled on every request\n\n");
    md.push_str(
        "The same object-only selectors, once in the settings (the fresh-instance rows above) and once in the \
         eci-profile ConfigMap that `configMapRef` names: each request then also calls `get_resource` (answered by the \
         harness from memory, as policy-server answers from its cache), reads the ConfigMap and compiles its \
         `data.selectors`. \"ours − floor\" is what the policy itself costs in each form; the last column is what \
         reading the profile live adds per request.\n\n",
    );
    md.push_str(
        "| selectors | ConfigMap KB | pod | live: ours median | floor median | ours − floor | in settings: ours − floor | live adds |\n",
    );
    md.push_str("|---:|---:|---|---:|---:|---:|---:|---:|\n");
    for r in &report.live_profile {
        let in_settings = report
            .fresh_instance
            .iter()
            .find(|s| s.selectors == r.selectors && s.pod == r.pod);
        let live_cost = r.ours.median_us - r.floor.median_us;
        let (static_cost, adds) = match in_settings {
            Some(s) => {
                let cost = s.ours.median_us - s.floor.median_us;
                (f(cost), f(live_cost - cost))
            }
            None => ("—".to_owned(), "—".to_owned()),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.selectors,
            kb(r.settings_bytes),
            r.pod,
            f(r.ours.median_us),
            f(r.floor.median_us),
            f(live_cost),
            static_cost,
            adds
        );
    }

    let _ = writeln!(
        md,
        "\n### Pod size ({POD_SIZE_SELECTORS} object-only selectors)\n"
    );
    md.push_str("| pod | labels | containers | payload KB | ours median | p90 | p99 | floor median | p90 | p99 | ratio |\n");
    md.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in &report.pod_size {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.2} |",
            r.pod,
            r.labels.unwrap_or(0),
            r.containers.unwrap_or(0),
            kb(r.payload_bytes),
            f(r.ours.median_us),
            f(r.ours.p90_us),
            f(r.ours.p99_us),
            f(r.floor.median_us),
            f(r.floor.p90_us),
            f(r.floor.p99_us),
            r.ratio
        );
    }

    md.push_str("\n### Slopes\n\nLeast-squares slope of the medians (µs per unit); `ours − floor` is what the policy itself adds.\n\n");
    md.push_str("| series | per | ours | floor | ours − floor |\n|---|---|---:|---:|---:|\n");
    for s in &report.slopes {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} |",
            s.series,
            s.per,
            f3(s.ours_us),
            f3(s.floor_us),
            f3(s.ours_us - s.floor_us)
        );
    }

    md.push_str("\n### `validate_settings` (mixed selectors)\n\n");
    md.push_str("| selectors | settings KB | ours median | p90 | p99 | floor median | p90 | p99 | ratio |\n");
    md.push_str("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in &report.validate_settings {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.2} |",
            r.selectors,
            kb(r.settings_bytes),
            f(r.ours.median_us),
            f(r.ours.p90_us),
            f(r.ours.p99_us),
            f(r.floor.median_us),
            f(r.floor.p90_us),
            f(r.floor.p99_us),
            r.ratio
        );
    }

    md.push_str("\n### Decision core on the host\n\n");
    md.push_str(
        "`Profile::from_settings` (from a parsed `Value`), the settings' text read into `settings::Checked` (what `validate` does on every request) and `evaluate_pod` \
         (the decision `validate` makes on a pod the screen did not accept) called directly from the harness (no wasm, no envelope, no answer serialisation); and the host's own work \
         on a mutated answer (parse it, compute the JSON patch), which any mutating policy costs the host. Built in the dev profile: `eci-profile` itself at opt-level 1 with debug assertions, so these \
         are upper bounds for native code.\n\n",
    );
    let mut whats: Vec<&str> = Vec::new();
    for r in &report.native {
        if !whats.contains(&r.what.as_str()) {
            whats.push(&r.what);
        }
    }
    md.push_str("| what |");
    for n in SELECTOR_COUNTS {
        let _ = write!(md, " {n} sel. |");
    }
    md.push_str("\n|---|");
    for _ in SELECTOR_COUNTS {
        md.push_str("---:|");
    }
    md.push('\n');
    for what in whats {
        let _ = write!(md, "| {what} |");
        for n in SELECTOR_COUNTS {
            let v = report
                .native
                .iter()
                .find(|r| r.what == what && r.selectors == n)
                .map_or(f64::NAN, |r| r.stats.median_us);
            let _ = write!(md, " {} |", f(v));
        }
        md.push('\n');
    }
    md
}

pub(super) fn row_line(
    md: &mut String,
    r: &Row,
    first: &str,
    second: String,
    settings: Option<usize>,
) {
    let _ = writeln!(
        md,
        "| {first} | {second} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.2} |",
        settings.map_or("–".into(), kb),
        r.pod,
        f(r.ours.median_us),
        f(r.ours.p90_us),
        f(r.ours.p99_us),
        f(r.floor.median_us),
        f(r.floor.p90_us),
        f(r.floor.p99_us),
        f(r.ours.median_us - r.floor.median_us),
        r.ratio
    );
}

/// A median in µs for a table.
pub(super) fn f(v: f64) -> String {
    if !v.is_finite() {
        "–".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

pub(super) fn f3(v: f64) -> String {
    if !v.is_finite() {
        "–".into()
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    }
}

pub(super) fn relative(path: &Path, base: &Path) -> String {
    let path = std::path::absolute(path).unwrap_or(path.to_owned());
    let base = std::path::absolute(base).unwrap_or(base.to_owned());
    path.strip_prefix(&base)
        .map_or_else(|_| path.display().to_string(), |p| p.display().to_string())
}

/// Replaces what stands between the markers of `path` (appends the markers
/// when there are none, creates the file when there is none).
pub(super) fn update_markdown(path: &Path, generated: &str) -> Result<()> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|_| "# Benchmarks\n\nRegenerate with `make bench`.\n".to_owned());
    let block = format!("{MARK_BEGIN}\n{generated}{MARK_END}");
    let updated = match (text.find(MARK_BEGIN), text.find(MARK_END)) {
        (Some(begin), Some(end)) if end > begin => {
            format!("{}{block}{}", &text[..begin], &text[end + MARK_END.len()..])
        }
        _ => format!("{}\n{block}\n", text.trim_end()),
    };
    std::fs::write(path, updated).with_context(|| path.display().to_string())
}
