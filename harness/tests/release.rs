//! What a release publishes: every file that names a release carries the
//! version of `metadata.yml` (`scripts/check-version`), and Artifact Hub's
//! package file is kwctl's own, with the install text of
//! `artifacthub-install.md` (`scripts/artifacthub-pkg`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use eci_profile_harness::convert::policy_module;
use serde_yaml::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// metadata.yml's `io.kubewarden.policy.version`.
fn version() -> String {
    let metadata: Value =
        serde_yaml::from_str(&std::fs::read_to_string(root().join("metadata.yml")).unwrap())
            .unwrap();
    metadata["annotations"]["io.kubewarden.policy.version"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The OCI reference of a release, written so that this file names none.
fn oci(version: &str) -> String {
    format!("ghcr.io/eci-profile/policies/eci-profile:v{version}")
}

fn check_version(args: &[&str]) -> Output {
    Command::new("bash")
        .arg(root().join("scripts/check-version"))
        .args(args)
        .output()
        .expect("bash runs scripts/check-version")
}

#[test]
fn the_module_the_harness_writes_is_metadata_yml_s() {
    assert_eq!(policy_module(), format!("registry://{}", oci(&version())));
}

#[test]
fn every_file_that_names_a_release_carries_the_version_of_metadata_yml() {
    let output = check_version(&[]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}{stderr}");
    let mut files: Vec<String> = [
        "README.md",
        "artifacthub-install.md",
        "examples/README.md",
        "examples/ack-eci-virtual-kubelet.yml",
        "examples/ack-vnode.yml",
        "examples/azure-aci.yml",
        "examples/live-config-map.yml",
    ]
    .map(String::from)
    .to_vec();
    // The converter's expected outputs (copying, and --live) name the module too.
    for dir in ["test_data/convert", "harness/tests/data/convert-live"] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if std::fs::read_to_string(&path)
                .unwrap()
                .contains(&oci(&version()))
            {
                files.push(format!(
                    "{dir}/{}",
                    path.file_name().unwrap().to_string_lossy()
                ));
            }
        }
    }
    files.sort();
    let mut expected = format!(
        "check-version: v{} (metadata.yml) in Cargo.toml, harness/Cargo.toml and:\n",
        version()
    );
    for file in &files {
        expected.push_str(&format!("  {file}\n"));
    }
    assert_eq!(stdout, expected);
    assert_eq!(stderr, "");
}

/// A tree with metadata.yml at `version`, both crates at `crate_versions`,
/// and `files` (path, text).
fn tree(name: &str, version: &str, crate_versions: [&str; 2], files: &[(&str, String)]) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("eci-profile-release-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("harness")).unwrap();
    std::fs::write(
        dir.join("metadata.yml"),
        format!("annotations:\n  io.kubewarden.policy.version: {version}\n"),
    )
    .unwrap();
    for (manifest, crate_version) in ["Cargo.toml", "harness/Cargo.toml"]
        .iter()
        .zip(crate_versions)
    {
        std::fs::write(
            dir.join(manifest),
            format!("[package]\nname = \"x\"\nversion = \"{crate_version}\"\n\n[dependencies]\ny = {{ version = \"9.9.9\" }}\n"),
        )
        .unwrap();
    }
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

#[test]
fn a_release_in_agreement_lists_the_files_that_carry_it() {
    let dir = tree(
        "agree",
        "0.2.0",
        ["0.2.0", "0.2.0"],
        &[
            ("README.md", format!("Pull {}.\n", oci("0.2.0"))),
            (
                "docs/install.md",
                format!(
                    "https://github.com/eci-profile/eci-profile/releases/download/v{}/policy.wasm\n",
                    "0.2.0"
                ),
            ),
        ],
    );
    let output = check_version(&["v0.2.0", "--root", dir.to_str().unwrap()]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert_eq!(
        stdout,
        "check-version: v0.2.0 (metadata.yml) in Cargo.toml, harness/Cargo.toml, the tag and:\n  README.md\n  docs/install.md\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn each_disagreement_is_named_with_its_file_and_line() {
    let dir = tree(
        "disagree",
        "0.2.0",
        ["0.2.0", "0.1.0"],
        &[
            (
                "README.md",
                format!("# x\n\nkwctl pull registry://{}\n", oci("0.1.0")),
            ),
            (
                "examples/p.yml",
                format!(
                    "module: registry://{}\n# https://raw.githubusercontent.com/eci-profile/eci-profile/v{}/examples/p.yml\n",
                    oci("0.2.0"),
                    "0.1.0"
                ),
            ),
        ],
    );
    let output = check_version(&["v0.3.0", "--root", dir.to_str().unwrap()]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        "check-version: metadata.yml says 0.2.0, but:\n\
         \x20 tag v0.3.0: metadata.yml says v0.2.0\n\
         \x20 harness/Cargo.toml: version \"0.1.0\", not \"0.2.0\"\n\
         \x20 README.md:3: v0.1.0, not v0.2.0\n\
         \x20 examples/p.yml:2: v0.1.0, not v0.2.0\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The commands of a ```console block of artifacthub-install.md, continuation
/// lines joined.
fn install_commands() -> Vec<String> {
    let install = std::fs::read_to_string(root().join("artifacthub-install.md")).unwrap();
    let mut commands = Vec::new();
    let mut in_block = false;
    let mut pending = String::new();
    for line in install.lines() {
        match line {
            "```console" => in_block = true,
            "```" => in_block = false,
            _ if in_block => {
                pending.push_str(line.trim_end_matches('\\').trim());
                if line.ends_with('\\') {
                    pending.push(' ');
                } else {
                    commands.push(std::mem::take(&mut pending));
                }
            }
            _ => {}
        }
    }
    commands
}

#[test]
fn the_artifact_hub_install_text_keeps_the_namespace_read_and_sets_failure_policy_ignore() {
    let module = policy_module();
    let raw = format!(
        "https://raw.githubusercontent.com/eci-profile/eci-profile/v{}",
        version()
    );
    assert_eq!(
        install_commands(),
        [
            format!("kubectl apply -f {raw}/examples/ack-eci-virtual-kubelet.yml"),
            "kubectl wait --for=condition=PolicyActive clusteradmissionpolicy/eci-profile --timeout=5m"
                .to_string(),
            format!("kwctl pull {module}"),
            format!(
                "kwctl scaffold manifest --allow-context-aware -t ClusterAdmissionPolicy {module} > eci-profile.yml"
            ),
            "sed -i 's/^spec:$/spec:\\n  failurePolicy: Ignore/' eci-profile.yml".to_string(),
        ]
    );
}

/// kwctl, when it is on PATH.
fn kwctl() -> Option<String> {
    let found = Command::new("kwctl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!(
            "SKIPPED: kwctl is not on PATH (https://docs.kubewarden.io/howtos/install-kwctl)"
        );
    }
    found.then(|| "kwctl".to_string())
}

#[test]
fn the_artifact_hub_package_is_kwctl_s_with_the_install_text_replaced() {
    let Some(kwctl) = kwctl() else { return };
    let dir = std::env::temp_dir().join(format!("eci-profile-artifacthub-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ours = dir.join("artifacthub-pkg.yml");
    let theirs = dir.join("kwctl.yml");
    let output = Command::new("bash")
        .arg(root().join("scripts/artifacthub-pkg"))
        .arg(&ours)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}{stderr}");
    let output = Command::new(&kwctl)
        .args(["scaffold", "artifacthub", "--metadata-path"])
        .arg(root().join("metadata.yml"))
        .arg("--questions-path")
        .arg(root().join("questions-ui.yml"))
        .arg("--output")
        .arg(&theirs)
        .output()
        .unwrap();
    assert!(output.status.success(), "{:?}", text(&output));

    let read = |path: &Path| -> serde_yaml::Mapping {
        serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let (mut ours, mut theirs) = (read(&ours), read(&theirs));
    let install = std::fs::read_to_string(root().join("artifacthub-install.md")).unwrap();
    assert_eq!(ours.remove("install"), Some(Value::String(install)));
    assert!(theirs.remove("install").is_some());
    // kwctl stamps the time it ran.
    for pkg in [&mut ours, &mut theirs] {
        let created = pkg.remove("createdAt").expect("createdAt");
        assert!(
            created.as_str().is_some_and(|t| t.contains('T')),
            "{created:?}"
        );
    }
    assert_eq!(ours, theirs, "every other field is kwctl's");
    assert_eq!(ours["version"], Value::String(version()));
    assert_eq!(
        ours["containersImages"][0]["image"],
        Value::String(oci(&version()))
    );
    let _ = std::fs::remove_dir_all(&dir);
}
