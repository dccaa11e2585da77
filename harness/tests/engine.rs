//! The harness itself, through the real engine: host calls, failures of the
//! guest, and replay against a policy whose behaviour is known.
//!
//! A tiny waPC guest written in WAT stands in for a policy where a test needs
//! a behaviour no real policy should have (refused host calls, traps, endless
//! loops). `floor.wasm` (shared/bench, beside the repository) is a real
//! Kubewarden policy that accepts everything.

use std::path::{Path, PathBuf};
use std::time::Duration;

use eci_profile_harness::{
    Answer, Case, Cluster, Policy, PolicyOptions, replay_files, run_case, workspace_root,
};
use serde_json::{Value, json};

/// A waPC guest. Operations, by first letter: `echo`/`validate*` answer the
/// payload; `get` calls `get_resource` with the payload; `host` makes a host
/// call nobody serves; `loop` never returns; `count` answers how many times
/// this instance was called with `count` (one digit); anything else traps.
/// Host calls answer the host's response, or its error text.
const GUEST: &str = r#"
(module
  (import "wapc" "__guest_request" (func $guest_request (param i32 i32)))
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (import "wapc" "__host_call" (func $host_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wapc" "__host_response_len" (func $host_response_len (result i32)))
  (import "wapc" "__host_response" (func $host_response (param i32)))
  (import "wapc" "__host_error_len" (func $host_error_len (result i32)))
  (import "wapc" "__host_error" (func $host_error (param i32)))
  (memory (export "memory") 2)
  (data (i32.const 0) "kubewarden")
  (data (i32.const 16) "kubernetes")
  (data (i32.const 32) "get_resource")
  (data (i32.const 48) "oci")
  (data (i32.const 64) "verify")
  (global $counted (mut i32) (i32.const 0))
  (func $answer_host (param $ok i32) (result i32)
    (if (local.get $ok)
      (then
        (call $host_response (i32.const 65536))
        (call $guest_response (i32.const 65536) (call $host_response_len)))
      (else
        (call $host_error (i32.const 65536))
        (call $guest_response (i32.const 65536) (call $host_error_len))))
    (i32.const 1))
  (func (export "__guest_call") (param $op_len i32) (param $msg_len i32) (result i32)
    (local $op i32)
    (call $guest_request (i32.const 1024) (i32.const 4096))
    (local.set $op (i32.load8_u (i32.const 1024)))
    (if (i32.or (i32.eq (local.get $op) (i32.const 101)) (i32.eq (local.get $op) (i32.const 118)))
      (then
        (call $guest_response (i32.const 4096) (local.get $msg_len))
        (return (i32.const 1))))
    (if (i32.eq (local.get $op) (i32.const 103))
      (then
        (return (call $answer_host (call $host_call
          (i32.const 0) (i32.const 10) (i32.const 16) (i32.const 10) (i32.const 32) (i32.const 12)
          (i32.const 4096) (local.get $msg_len))))))
    (if (i32.eq (local.get $op) (i32.const 104))
      (then
        (return (call $answer_host (call $host_call
          (i32.const 0) (i32.const 10) (i32.const 48) (i32.const 3) (i32.const 64) (i32.const 6)
          (i32.const 4096) (i32.const 0))))))
    (if (i32.eq (local.get $op) (i32.const 108))
      (then (loop $forever (br $forever))))
    (if (i32.eq (local.get $op) (i32.const 99))
      (then
        (global.set $counted (i32.add (global.get $counted) (i32.const 1)))
        (i32.store8 (i32.const 2048) (i32.add (i32.const 48) (global.get $counted)))
        (call $guest_response (i32.const 2048) (i32.const 1))
        (return (i32.const 1))))
    unreachable)
)
"#;

fn guest() -> Policy {
    guest_with(PolicyOptions::default())
}

fn guest_with(options: PolicyOptions) -> Policy {
    Policy::from_bytes(GUEST.as_bytes(), "guest.wat", options).unwrap_or_else(|e| panic!("{e:#}"))
}

fn get_resource_payload(name: &str) -> Vec<u8> {
    json!({
        "api_version": "v1", "kind": "Namespace", "name": name, "namespace": null,
        "disable_cache": false, "field_masks": null
    })
    .to_string()
    .into_bytes()
}

#[test]
fn host_calls_outside_the_protocol_are_refused_by_name() {
    let mut policy = guest();
    let answer = policy.call("host", b"").unwrap();
    assert_eq!(
        String::from_utf8(answer).unwrap(),
        "eci-profile does not serve the host call binding \"kubewarden\", \
         namespace \"oci\", operation \"verify\": only kubewarden/kubernetes/get_resource \
         and kubewarden/tracing/log are served"
    );
    let activity = policy.activity();
    assert_eq!(activity.refused.len(), 1);
    assert!(activity.lookups.is_empty());
}

#[test]
fn get_resource_is_answered_from_the_cluster_and_recorded() {
    let mut policy = guest();
    let namespace = json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "team-a", "labels": {"alibabacloud.com/eci": "true"}}
    });
    policy.set_cluster(
        Cluster::new()
            .with("team-a", Answer::Found(namespace.clone()))
            .with("down", Answer::Error("connection refused".into())),
    );

    let answer = policy.call("get", &get_resource_payload("team-a")).unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&answer).unwrap(), namespace);
    let activity = policy.activity();
    assert_eq!(activity.lookups.len(), 1);
    let request = activity.lookups[0].request.as_ref().unwrap();
    assert_eq!(request.api_version, "v1");
    assert_eq!(request.kind, "Namespace");
    assert!(!request.disable_cache);

    let answer = policy.call("get", &get_resource_payload("ghost")).unwrap();
    assert_eq!(
        answer,
        b"Callback evaluation failure: Cannot find v1/Namespace named 'ghost' inside of namespace 'None'"
    );
    let answer = policy.call("get", &get_resource_payload("down")).unwrap();
    assert_eq!(answer, b"Callback evaluation failure: connection refused");
    assert_eq!(
        policy.activity().lookups.len(),
        1,
        "the record covers the latest guest call only"
    );
}

#[test]
fn settings_go_to_the_guest_as_they_are() {
    let mut policy = guest();
    let verdict = policy
        .validate_settings(&json!({"valid": false, "message": "echoed"}))
        .unwrap();
    assert!(!verdict.valid);
    assert_eq!(verdict.message.as_deref(), Some("echoed"));
}

#[test]
fn an_answer_outside_the_protocol_is_a_readable_error() {
    let mut policy = guest();
    let err = policy
        .validate(&json!({"uid": "1"}), &json!({}))
        .unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.starts_with("guest.wat: the answer to `validate` does not follow the Kubewarden protocol (missing field `accepted`"),
        "{text}"
    );
    assert!(
        text.contains(r#"{"request":{"uid":"1"},"settings":{}}"#),
        "{text}"
    );
}

#[test]
fn a_trap_is_a_readable_error_and_the_next_call_gets_a_fresh_instance() {
    let mut policy = guest();
    let err = policy.call("trap", b"").unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.starts_with("guest.wat: the policy's `trap` failed: "),
        "{text}"
    );
    assert!(text.ends_with("(the policy trapped: a Rust policy that panics aborts with a trap, after printing the panic message on stderr)"), "{text}");
    assert_eq!(policy.call("echo", b"still here").unwrap(), b"still here");
}

/// policy-server (>= 1.10) runs every request on a fresh instance: so does
/// the harness, unless asked to keep one warm as `kwctl bench` does.
#[test]
fn every_call_gets_a_fresh_instance_unless_the_policy_is_warm() {
    let mut fresh = guest();
    let counts: Vec<Vec<u8>> = (0..3).map(|_| fresh.call("count", b"").unwrap()).collect();
    assert_eq!(counts, [b"1", b"1", b"1"]);

    let mut warm = guest_with(PolicyOptions {
        warm: true,
        ..PolicyOptions::default()
    });
    let counts: Vec<Vec<u8>> = (0..3).map(|_| warm.call("count", b"").unwrap()).collect();
    assert_eq!(counts, [b"1", b"2", b"3"]);
    warm.renew().unwrap();
    assert_eq!(warm.call("count", b"").unwrap(), b"1");
}

#[test]
fn a_policy_that_never_returns_is_interrupted() {
    let mut policy = guest_with(PolicyOptions {
        timeout: Duration::from_millis(200),
        ..PolicyOptions::default()
    });
    let err = policy.call("loop", b"").unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("deadline exceeded"), "{text}");
    assert_eq!(policy.call("echo", b"ok").unwrap(), b"ok");
}

#[test]
fn loading_errors_name_the_module() {
    let err = Policy::load(Path::new("/nonexistent/policy.wasm")).unwrap_err();
    assert!(
        format!("{err:#}").starts_with("cannot read the policy module /nonexistent/policy.wasm: "),
        "{err:#}"
    );
    let err =
        Policy::from_bytes(b"\0asm garbage", "garbage.wasm", PolicyOptions::default()).unwrap_err();
    assert!(
        format!("{err:#}").starts_with("garbage.wasm: not a loadable WebAssembly module: "),
        "{err:#}"
    );
    let err = Policy::from_bytes(b"(module)", "empty.wat", PolicyOptions::default()).unwrap_err();
    assert!(
        format!("{err:#}").starts_with("empty.wat: cannot start the policy: "),
        "{err:#}"
    );
}

/// `floor.wasm`, when shared/ is beside the repository (it is for developers
/// and CI); these tests say so and pass without it.
fn floor() -> Option<Policy> {
    let path: PathBuf = workspace_root().join("../shared/bench/floor.wasm");
    if !path.is_file() {
        eprintln!("skipped: {} is not there", path.display());
        return None;
    }
    Some(Policy::load(&path).unwrap_or_else(|e| panic!("{e:#}")))
}

fn pod_request() -> Value {
    json!({
        "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "operation": "CREATE",
        "namespace": "team-a",
        "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller"},
        "object": {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-1", "namespace": "team-a", "labels": {"alibabacloud.com/eci": "true"}},
            "spec": {"containers": [{"name": "web", "image": "nginx"}]}
        }
    })
}

#[test]
fn floor_speaks_the_kubewarden_protocol() {
    let Some(mut policy) = floor() else { return };
    assert_eq!(policy.protocol_version().unwrap(), "v1");
    let verdict = policy.validate_settings(&json!({})).unwrap();
    assert!(verdict.valid, "{verdict:?}");
    for _ in 0..3 {
        let evaluation = policy.validate(&pod_request(), &json!({})).unwrap();
        assert!(evaluation.response.accepted);
        assert_eq!(evaluation.patch, None);
        assert!(evaluation.activity.lookups.is_empty());
    }
}

fn case(expect: &str) -> Case {
    let text = format!(
        "description: floor replay\nrequest: {}\nexpect: {expect}\n",
        pod_request()
    );
    Case::parse(&text, Path::new("cases/floor.yml"), Path::new("."))
        .unwrap_or_else(|e| panic!("{e:#}"))
}

#[test]
fn replay_passes_a_case_that_matches_and_shows_the_diff_of_one_that_does_not() {
    let Some(mut policy) = floor() else { return };

    let report = run_case(&mut policy, &case("{accepted: true}"));
    assert!(report.passed(), "{report:?}");

    let report = run_case(
        &mut policy,
        &case(
            "{accepted: true, patch: [{op: add, path: /spec/nodeSelector, value: {type: virtual-kubelet}}], namespace_lookups: 1}",
        ),
    );
    assert_eq!(
        report.problems,
        vec![
            "patch differ (see the diff)",
            "namespace_lookups: expected 1, got 0"
        ]
    );
    let diff = report.diff.unwrap();
    assert!(
        diff.contains("-  \"patch\": [\n-    {\n-      \"op\": \"add\",\n-      \"path\": \"/spec/nodeSelector\","),
        "{diff}"
    );
    assert!(diff.contains("+  \"patch\": [],"), "{diff}");

    let report = run_case(&mut policy, &case("{settings_error: \"bad\"}"));
    assert_eq!(
        report.problems,
        vec!["the settings were accepted, but a settings error was expected"]
    );
}

#[test]
fn replay_reports_a_case_it_cannot_load_and_counts_it_failed() {
    let Some(mut policy) = floor() else { return };
    let replay = replay_files(
        &mut policy,
        &[PathBuf::from("/nonexistent/cases/missing.yml")],
        Path::new("/nonexistent"),
    );
    assert_eq!(replay.summary(), "0 passed, 1 failed");
    assert!(
        replay.cases[0].problems[0]
            .starts_with("cannot load the case: cannot read /nonexistent/cases/missing.yml: "),
        "{:?}",
        replay.cases[0].problems
    );
}
