//! Structured pods (random labels, owners, affinities, tolerations, volumes,
//! containers, unknown fields at any depth; parts missing, null or of the wrong
//! type) against random valid settings and namespace answers. Asserts no panic,
//! no overwrite, only the reported additions, and idempotence.
#![no_main]

use arbitrary::Unstructured;
use eci_profile::settings::Profile;
use eci_profile_fuzz::{check, namespace_answer, pod, valid_settings};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let (Ok(settings), Ok(pod), Ok(answer)) = (
        valid_settings(&mut u),
        pod(&mut u),
        namespace_answer(&mut u),
    ) else {
        return;
    };
    let profile = Profile::from_settings(&settings)
        .unwrap_or_else(|e| panic!("valid settings refused: {e}\n{settings:#}"));
    check(&profile, &pod, "team-a", &answer);
});
