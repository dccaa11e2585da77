//! Loading a policy `.wasm` and calling it, with the engine stack of
//! Kubewarden's policy-server: `wapc` over `wasmtime-provider`, WASI enabled,
//! epoch interruption enforcing a time limit on every guest call.
//!
//! As policy-server (Kubewarden >= 1.10) does, every guest call runs on a
//! fresh instance of the pre-instantiated module: nothing the guest keeps in
//! memory survives from one request to the next, and the settings are parsed
//! on every call. [`PolicyOptions::warm`] keeps one instance across calls
//! instead, as `kwctl bench` does (and as policy-server did before 1.10).

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use wapc::WapcHost;
use wasmtime_provider::wasmtime::{Config, Engine};
use wasmtime_provider::{EpochDeadlines, WasmtimeEngineProviderBuilder, WasmtimeEngineProviderPre};

use crate::host::{self, Cluster, HostActivity, SharedState};
use crate::patch;

/// How often the epoch ticks; the guest time limit is counted in ticks.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// How a [`Policy`] is run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyOptions {
    /// The longest one guest call (or the guest's initialisation) may run
    /// before it is interrupted, like policy-server's policy timeout.
    pub timeout: Duration,
    /// Keep one guest instance across calls (`kwctl bench`'s way) instead of
    /// a fresh instance per call (policy-server's way, the default).
    pub warm: bool,
}

impl Default for PolicyOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            warm: false,
        }
    }
}

/// The answer to `validate_settings` (the SDK's `SettingsValidationResponse`).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct SettingsVerdict {
    pub valid: bool,
    #[serde(default)]
    pub message: Option<String>,
}

/// The answer to `validate` (the SDK's `ValidationResponse`).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct ValidationResponse {
    pub accepted: bool,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub code: Option<u16>,
    #[serde(default)]
    pub mutated_object: Option<Value>,
    #[serde(default)]
    pub warnings: Option<Vec<String>>,
    #[serde(default)]
    pub audit_annotations: Option<std::collections::BTreeMap<String, String>>,
}

/// One evaluation of an admission request.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// What the policy answered.
    pub response: ValidationResponse,
    /// `json_patch::diff(request.object, mutated_object)`, as policy-server
    /// computes the patch it sends to the API server; `None` when the policy
    /// returned no mutated object.
    pub patch: Option<json_patch::Patch>,
    /// The host calls the policy made while evaluating.
    pub activity: HostActivity,
}

/// A loaded policy: its pre-instantiated module, the guest instance of the
/// next call, and the fake cluster its host calls are answered from.
///
/// Not `Send` (wapc's host is single-threaded): load one per thread. Loading
/// compiles the module, so load once and evaluate many requests.
pub struct Policy {
    origin: String,
    pre: WasmtimeEngineProviderPre,
    deadlines: EpochDeadlines,
    host: WapcHost,
    /// The instance `host` has served a call already (a fresh one is due
    /// before the next call unless the policy is warm).
    used: bool,
    warm: bool,
    state: SharedState,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("origin", &self.origin)
            .finish()
    }
}

impl Policy {
    /// Loads the policy module at `path` with the default options.
    pub fn load(path: &Path) -> Result<Self> {
        Self::load_with(path, PolicyOptions::default())
    }

    /// Loads the policy module at `path`.
    pub fn load_with(path: &Path, options: PolicyOptions) -> Result<Self> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read the policy module {}", path.display()))?;
        Self::from_bytes(&bytes, &path.display().to_string(), options)
    }

    /// Loads a policy from the bytes of a module (binary `.wasm`, or WAT text).
    /// `origin` names it in error messages.
    pub fn from_bytes(bytes: &[u8], origin: &str, options: PolicyOptions) -> Result<Self> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        // `perf record` can then name the guest's functions (BENCHMARKS.md,
        // "Where the time goes"); build the module unstripped to see Rust names.
        if std::env::var_os("ECI_PROFILE_PERF_MAP").is_some() {
            config.profiler(wasmtime_provider::wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = Engine::new(&config)
            .map_err(|e| anyhow!("{origin}: cannot create the wasmtime engine: {e:#}"))?;
        let ticks = (options.timeout.as_millis() / EPOCH_TICK.as_millis()).max(1);
        let ticks = u64::try_from(ticks).unwrap_or(u64::MAX);
        let deadlines = EpochDeadlines {
            wapc_init: ticks,
            wapc_func: ticks,
        };
        let pre = WasmtimeEngineProviderBuilder::new()
            .engine(engine.clone())
            .module_bytes(bytes)
            .build_pre()
            .map_err(|e| anyhow!("{origin}: not a loadable WebAssembly module: {e}"))?;
        start_epoch_ticker(&engine);

        let state = SharedState::default();
        let host = instantiate(&pre, deadlines, &state)
            .map_err(|e| anyhow!("{origin}: cannot start the policy: {e}"))?;
        Ok(Self {
            origin: origin.to_owned(),
            pre,
            deadlines,
            host,
            used: false,
            warm: options.warm,
            state,
        })
    }

    /// Where the policy was loaded from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Sets the cluster that the policy's `get_resource` calls are answered
    /// from, until it is set again.
    pub fn set_cluster(&mut self, cluster: Cluster) {
        host::lock(&self.state).cluster = cluster;
    }

    /// The host calls made during the latest guest call.
    pub fn activity(&self) -> HostActivity {
        host::lock(&self.state).activity.clone()
    }

    /// Replaces the guest instance with a fresh one, as policy-server does
    /// before every request (untimed by [`Policy::call`]'s callers that call
    /// this first).
    pub fn renew(&mut self) -> Result<()> {
        self.host = instantiate(&self.pre, self.deadlines, &self.state)
            .map_err(|e| anyhow!("{}: cannot start the policy: {e}", self.origin))?;
        self.used = false;
        Ok(())
    }

    /// Calls the guest function `operation` with `payload`, and returns its
    /// answer: on a fresh instance, unless the policy is warm. A failed call
    /// (an error from the guest, a trap, the time limit) is an error; the
    /// instance is then replaced, since a trapped instance cannot be trusted
    /// with the next request.
    pub fn call(&mut self, operation: &str, payload: &[u8]) -> Result<Vec<u8>> {
        if self.used && !self.warm {
            self.renew()?;
        }
        self.used = true;
        host::lock(&self.state).activity = HostActivity::default();
        match self.host.call(operation, payload) {
            Ok(answer) => Ok(answer),
            Err(err) => {
                let mut failure =
                    format!("{}: the policy's `{operation}` failed: {err}", self.origin);
                if failure.contains("error while executing at wasm backtrace") {
                    // wasmtime-provider keeps the backtrace but drops the trap's reason.
                    failure.push_str(
                        "\n(the policy trapped: a Rust policy that panics aborts with a trap, \
                         after printing the panic message on stderr)",
                    );
                }
                if let Err(e) = self.renew() {
                    failure.push_str(&format!("\nand the policy cannot be started again: {e}"));
                }
                Err(anyhow!(failure))
            }
        }
    }

    /// `protocol_version`: the Kubewarden protocol the policy speaks (`"v1"`).
    pub fn protocol_version(&mut self) -> Result<String> {
        let answer = self.call("protocol_version", b"")?;
        let version: Value = parse_answer(&answer, &self.origin, "protocol_version")?;
        match version {
            Value::String(v) => Ok(v),
            other => bail!(
                "{}: protocol_version answered {other}, not a version string",
                self.origin
            ),
        }
    }

    /// `validate_settings` with the settings as policy-server sends them.
    pub fn validate_settings(&mut self, settings: &Value) -> Result<SettingsVerdict> {
        let payload = serde_json::to_vec(settings)?;
        let answer = self.call("validate_settings", &payload)?;
        parse_answer(&answer, &self.origin, "validate_settings")
    }

    /// `validate` of one AdmissionRequest with these settings, and the patch
    /// policy-server would derive from the answer.
    pub fn validate(&mut self, request: &Value, settings: &Value) -> Result<Evaluation> {
        let payload = serde_json::to_vec(&serde_json::json!({
            "request": request,
            "settings": settings,
        }))?;
        let answer = self.call("validate", &payload)?;
        let response: ValidationResponse = parse_answer(&answer, &self.origin, "validate")?;
        let patch = response.mutated_object.as_ref().map(|mutated| {
            let object = request.get("object").unwrap_or(&Value::Null);
            patch::diff(object, mutated)
        });
        Ok(Evaluation {
            response,
            patch,
            activity: self.activity(),
        })
    }
}

/// Starts one guest instance whose host calls are answered from `state`.
fn instantiate(
    pre: &WasmtimeEngineProviderPre,
    deadlines: EpochDeadlines,
    state: &SharedState,
) -> Result<WapcHost> {
    let provider = pre.rehydrate(Some(deadlines))?;
    Ok(WapcHost::new(
        Box::new(provider),
        Some(host::callback(state.clone())),
    )?)
}

/// Advances the engine's epoch in the background, which is what makes the
/// deadlines expire. The thread ends once the engine has been dropped.
fn start_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    let spawned = std::thread::Builder::new()
        .name("eci-profile-epoch".to_owned())
        .spawn(move || {
            loop {
                std::thread::sleep(EPOCH_TICK);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        });
    // Without the ticker a guest simply has no time limit: not worth failing for.
    if let Err(e) = spawned {
        eprintln!("eci-profile: no time limit on the policy: cannot start a thread: {e}");
    }
}

/// Parses a guest answer, naming the call and showing the bytes when they are
/// not what the protocol says.
fn parse_answer<T: serde::de::DeserializeOwned>(
    answer: &[u8],
    origin: &str,
    operation: &str,
) -> Result<T> {
    serde_json::from_slice(answer).map_err(|e| {
        anyhow!(
            "{origin}: the answer to `{operation}` does not follow the Kubewarden protocol ({e}): {}",
            excerpt(answer)
        )
    })
}

/// The first few hundred bytes of an answer, for an error message.
fn excerpt(bytes: &[u8]) -> String {
    const MAX: usize = 300;
    let text = String::from_utf8_lossy(bytes);
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}
