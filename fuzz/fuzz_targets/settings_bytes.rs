//! Arbitrary bytes → settings, read from their text as `validate` reads them
//! (`settings::Checked`): compiled or refused with messages, never a panic,
//! and alike read from a `serde_json::Value` of the same text (keys given
//! twice included); whatever compiles evaluates the sample pods.
#![no_main]

use eci_profile_fuzz::{check, compile_text, sample_pods};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(profile) = compile_text(text) {
        let labels: eci_profile::evaluate::NamespaceLabels =
            [("alibabacloud.com/eci".to_string(), "true".to_string())].into();
        for pod in sample_pods() {
            check(&profile, &pod, "team-a", &Ok(labels.clone()));
            check(&profile, &pod, "team-a", &Err("connection refused".into()));
        }
    }
});
