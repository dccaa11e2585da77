//! Structured settings, right or wrong (random selector names, keys, operators
//! and values; the JSON-string form, sometimes with trailing garbage; wrong
//! types at every level): compiled or refused, never a panic.
#![no_main]

use arbitrary::Unstructured;
use eci_profile_fuzz::{check, compile, namespace_answer, raw_settings, sample_pods};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(settings) = raw_settings(&mut u) else {
        return;
    };
    if let Some(profile) = compile(&settings) {
        let answer = namespace_answer(&mut u).unwrap_or(Ok(Default::default()));
        for pod in sample_pods() {
            check(&profile, &pod, "team-a", &answer);
        }
    }
});
