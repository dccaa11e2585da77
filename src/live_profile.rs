//! The live profile (SPEC "Live profile: `configMapRef`"): with
//! `configMapRef`, the selectors and the cluster-level keys come from the
//! eci-profile ConfigMap, read on each Pod CREATE, so that an edit applies to
//! the next pod, as with Alibaba Cloud's eci-profile, and no change reaches the
//! PolicyServer.

use crate::cluster_params::cluster_param;
use crate::eci_annotations::check_annotation;
use crate::json_path::{Joined, Json, JsonMap, entry, opt_object, or_push, setting_string, show};
use crate::settings::{ConfigMapRef, Effect, Selector, compile_selectors, default_selectors};
use crate::warnings::first_line;

/// The effect-only selector that carries the ConfigMap's cluster-level keys,
/// named as the converter names it.
pub const CLUSTER_KEYS_SELECTOR: &str = "eci-profile-cluster-defaults";

/// The selectors of the host's answer for `config_map`: its `data.selectors`
/// (checked as the string form of `selectors`; absent: the built-in defaults;
/// `""`: none), then one effect-only selector with the per-pod annotations of
/// its cluster-level keys, applied after all others and never overwriting.
/// `Err` holds every problem, in one text that names the ConfigMap.
pub fn selectors(
    config_map: &ConfigMapRef,
    answer: Result<&[u8], &str>,
) -> Result<Vec<Selector>, String> {
    let answer = answer
        .map_err(|reason| format!("cannot read ConfigMap {config_map}: {}", first_line(reason)))?;
    let mut errors = Vec::new();
    let read = read(answer, &mut errors);
    let selectors = or_push(read, &mut errors).unwrap_or_default();
    if errors.is_empty() {
        Ok(selectors)
    } else {
        Err(format!("ConfigMap {config_map}: {}", Joined(&errors, "; ")))
    }
}

/// The answer's selectors; `Err` when there are none to read, and `errors`
/// for those that are refused.
fn read(answer: &[u8], errors: &mut Vec<String>) -> Result<Vec<Selector>, String> {
    let not_a_config_map = |why: String| format!("the host's answer is not a ConfigMap: {why}");
    let config_map: serde_json_borrow::Value =
        serde_json::from_slice(answer).map_err(|e| not_a_config_map(e.to_string()))?;
    let Some(config_map) = config_map.as_map() else {
        return Err(not_a_config_map(format!("found {}", show(&config_map))));
    };
    let data = opt_object(config_map.lookup("data"), "data")?;
    let mut selectors = match data.and_then(|data| data.lookup("selectors")) {
        None => default_selectors(),
        Some(text) => compile_selectors(text, errors),
    };
    let mut effect = Effect::default();
    for (key, value) in data.into_iter().flat_map(JsonMap::entries) {
        let Some(annotation) = cluster_param(key).and_then(|param| param.annotation) else {
            continue; // `selectors`, and virtual-kubelet's own keys
        };
        let here = entry("data", key);
        match setting_string(value, &here) {
            Ok("") => {}
            Ok(value) => match check_annotation(annotation, value) {
                Ok(()) => effect
                    .annotations
                    .push((annotation.to_owned(), value.to_owned())),
                Err(why) => errors.push(format!("{here}: as {annotation}: {why}")),
            },
            Err(e) => errors.push(e),
        }
    }
    if !effect.is_empty() {
        selectors.push(Selector {
            name: CLUSTER_KEYS_SELECTOR.to_owned(),
            effect,
            ..Selector::default()
        });
    }
    Ok(selectors)
}

#[cfg(test)]
mod tests;
