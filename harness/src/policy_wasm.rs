//! Finding the policy module to run: the one `ECI_PROFILE_WASM` names, or a
//! fresh release build of the `eci-profile` crate for `wasm32-wasip1`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The variable naming a prebuilt policy module to use instead of building
/// one (the Makefile points it at the wasm-opt'ed artifact).
pub const WASM_OVERRIDE_VAR: &str = "ECI_PROFILE_WASM";

/// The workspace root: the directory above this crate.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// The policy module to run.
///
/// With `ECI_PROFILE_WASM` set, that file. Otherwise runs
/// `$CARGO build --release --target wasm32-wasip1 -p eci-profile` into
/// `<target>/policy-wasm`, where `<target>` is `$CARGO_TARGET_DIR` or the
/// workspace's `target/`: a target directory of its own, because a
/// surrounding `cargo test` holds the lock on the main one. Tests call this
/// once per process.
pub fn build_policy() -> Result<PathBuf> {
    if let Some(path) = wasm_override(std::env::var_os(WASM_OVERRIDE_VAR))? {
        return Ok(path);
    }

    let root = workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|t| !t.is_empty())
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("policy-wasm");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = root.join("Cargo.toml");

    let mut command = Command::new(&cargo);
    command
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip1",
            "-p",
            "eci-profile",
        ])
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target);
    let shown = format!(
        "{} build --release --target wasm32-wasip1 -p eci-profile --manifest-path {} --target-dir {}",
        Path::new(&cargo).display(),
        manifest.display(),
        target.display()
    );
    let output = command
        .output()
        .with_context(|| format!("cannot run `{shown}`"))?;
    if !output.status.success() {
        bail!(
            "building the policy failed ({}): `{shown}`\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim_end()
        );
    }

    let wasm = target.join("wasm32-wasip1/release/eci_profile.wasm");
    if !wasm.is_file() {
        bail!(
            "`{shown}` succeeded but {} is missing: does the eci-profile crate build a cdylib?",
            wasm.display()
        );
    }
    Ok(wasm)
}

/// The module named by `ECI_PROFILE_WASM`, if set (and not empty).
fn wasm_override(value: Option<OsString>) -> Result<Option<PathBuf>> {
    let Some(path) = value.filter(|p| !p.is_empty()).map(PathBuf::from) else {
        return Ok(None);
    };
    if !path.is_file() {
        bail!(
            "{WASM_OVERRIDE_VAR}={} does not name a file",
            path.display()
        );
    }
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_override_must_name_a_file() {
        assert_eq!(wasm_override(None).unwrap(), None);
        assert_eq!(wasm_override(Some("".into())).unwrap(), None);
        let err = wasm_override(Some("/nonexistent/p.wasm".into())).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ECI_PROFILE_WASM=/nonexistent/p.wasm does not name a file"
        );
        let manifest = workspace_root().join("Cargo.toml");
        assert_eq!(
            wasm_override(Some(manifest.clone().into())).unwrap(),
            Some(manifest)
        );
    }
}
