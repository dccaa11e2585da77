//! `artifacthub-pkg.yml` stays in sync with `metadata.yml` and `questions-ui.yml`:
//! runs `scripts/check-artifacthub.py` (the same rules as the generator
//! `scripts/artifacthub.py` and `kwctl scaffold artifacthub`), and checks that
//! the check does catch a difference.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// python3 with PyYAML, or None (the test then says why it did not run).
fn python() -> Option<&'static str> {
    let ok = Command::new("python3")
        .args(["-c", "import yaml"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "SKIPPED: python3 with PyYAML is not available (Debian: apt-get install python3-yaml)"
        );
    }
    ok.then_some("python3")
}

fn run(python: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(python)
        .args(args)
        .current_dir(root())
        .output()
        .expect("python3 runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn artifacthub_pkg_is_in_sync_with_metadata() {
    let Some(python) = python() else { return };
    let (ok, text) = run(python, &["scripts/check-artifacthub.py"]);
    assert!(ok, "{text}");
}

#[test]
fn the_check_catches_a_stale_package() {
    let Some(python) = python() else { return };
    let dir = std::env::temp_dir().join(format!("eci-profile-artifacthub-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let metadata = std::fs::read_to_string(root().join("metadata.yml")).unwrap();
    let bumped: String = metadata
        .lines()
        .map(
            |line| match line.split_once("io.kubewarden.policy.version:") {
                Some((indent, _)) => format!("{indent}io.kubewarden.policy.version: 9.9.9\n"),
                None => format!("{line}\n"),
            },
        )
        .collect();
    assert_ne!(
        bumped, metadata,
        "metadata.yml has io.kubewarden.policy.version"
    );
    std::fs::write(dir.join("metadata.yml"), bumped).unwrap();
    std::fs::copy(
        root().join("questions-ui.yml"),
        dir.join("questions-ui.yml"),
    )
    .unwrap();
    let pkg = root().join("artifacthub-pkg.yml");
    let (ok, text) = run(
        python,
        &[
            "scripts/check-artifacthub.py",
            "--metadata",
            dir.join("metadata.yml").to_str().unwrap(),
            "--pkg",
            pkg.to_str().unwrap(),
        ],
    );
    assert!(!ok, "a version bump must be caught:\n{text}");
    assert!(
        text.contains("version: metadata.yml gives '9.9.9'"),
        "{text}"
    );

    // The generator brings it back in sync.
    let regenerated = dir.join("artifacthub-pkg.yml");
    let (ok, text) = run(
        python,
        &[
            "scripts/artifacthub.py",
            "--metadata",
            dir.join("metadata.yml").to_str().unwrap(),
            "--output",
            regenerated.to_str().unwrap(),
            "--created-at",
            "2026-01-01T00:00:00Z",
        ],
    );
    assert!(ok, "{text}");
    let (ok, text) = run(
        python,
        &[
            "scripts/check-artifacthub.py",
            "--metadata",
            dir.join("metadata.yml").to_str().unwrap(),
            "--pkg",
            regenerated.to_str().unwrap(),
        ],
    );
    assert!(ok, "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
