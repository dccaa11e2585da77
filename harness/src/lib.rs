//! Runs the eci-profile policy `.wasm` the way Kubewarden's policy-server
//! does: `wapc` + `wasmtime-provider`, a fresh guest instance per call,
//! `get_resource` answered from a fixture, the JSON patch computed with
//! `json_patch::diff`.
//!
//! - [`engine`]: load a module, call `validate_settings` / `validate` /
//!   `protocol_version`.
//! - [`host`]: the host calls the policy may make, and their record.
//! - [`case`]: replay cases (`test_data/cases/*.yml`, format in `docs/DESIGN.md`).
//! - [`replay`]: run cases, compare, report readable differences.
//! - [`patch`]: the patch of a mutation, and one line per operation for people.
//! - [`convert`]: an eci-profile ConfigMap → the equivalent ClusterAdmissionPolicy.
//! - [`explain`]: which selectors matched and what each added (host build of the core).
//! - [`files`]: YAML/JSON documents (settings, requests, namespaces).
//! - [`policy_wasm`]: build (or find) the policy module.

pub mod case;
pub mod convert;
pub mod engine;
pub mod explain;
pub mod files;
pub mod host;
pub mod patch;
pub mod policy_wasm;
pub mod replay;

pub use case::{Case, Expectation, ExpectedOutcome};
pub use engine::{Evaluation, Policy, PolicyOptions, SettingsVerdict, ValidationResponse};
pub use host::{Answer, Cluster, GetResourceRequest, HostActivity, Lookup};
pub use policy_wasm::{build_policy, workspace_root};
pub use replay::{CaseReport, Replay, replay_dir, replay_files, run_case};
