//! The pod as the request carries it, as JSON text: a probe for the screen,
//! a *skeleton* for the decision, and the mutated pod written back as text.
//!
//! Building a `serde_json::Value` of the whole pod and serialising it again
//! cost more than the decision itself, for fields the policy never reads
//! (env, probes, resources, volume mounts …). Here the pod is read into a
//! skeleton: the same JSON with only the fields the decision reads
//! ([`METADATA`], [`SPEC`]), every other field skipped unparsed. The decision
//! runs on the skeleton as it would on the whole pod, and the mutated pod is
//! the original text with each addition inserted into the field it goes into
//! (`metadata.labels`, `metadata.annotations`, `spec.nodeSelector`,
//! `spec.tolerations`; a null or absent one gets its value written): every
//! other byte is the user's, in the user's order.
//! Anything unusual (a part that is not a mapping, …) goes the old way: the
//! whole pod as a `Value`, so that errors read exactly as before.

use crate::evaluate::{Decision, NamespaceLabels, Report, Source, Verdict, evaluate_pod};
use crate::json_struct::Str;
use crate::json_text::{Span, value_end, value_end_before};
use crate::label_selector::Labels;
use crate::scheduling::Addition;
use crate::settings::Profile;
use crate::warnings::PREFIX;
use serde::Deserialize;
use serde::de::{
    DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

// ---------------------------------------------------------------------------
// The decision on the text
// ---------------------------------------------------------------------------

/// What the policy answers, with the mutated pod as JSON text.
#[derive(Debug, Clone, PartialEq)]
pub enum TextVerdict {
    Accept,
    /// Accept with this mutated pod (JSON text, UTF-8).
    Mutate(Vec<u8>),
    Reject(String),
}

impl TextVerdict {
    /// The same verdict with the mutated pod read back as a `Value`, as
    /// [`evaluate_pod`] gives it (what tests compare the two paths by). Fails
    /// only if the mutated text is not JSON.
    pub fn to_verdict(&self) -> Result<Verdict, serde_json::Error> {
        Ok(match self {
            TextVerdict::Accept => Verdict::Accept,
            TextVerdict::Mutate(pod) => Verdict::Mutate(serde_json::from_slice(pod)?),
            TextVerdict::Reject(message) => Verdict::Reject(message.clone()),
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TextDecision {
    pub verdict: TextVerdict,
    pub warnings: Vec<String>,
    pub report: Report,
}

/// [`evaluate_pod`] on the pod's JSON text: the same decision, with the
/// mutated pod as the original text plus the additions. The namespace is the
/// request's, else the pod's `metadata.namespace`.
pub fn evaluate_pod_text<F>(
    profile: &Profile,
    text: &str,
    request_namespace: Option<&str>,
    lookup: F,
) -> TextDecision
where
    F: FnOnce(&str) -> Result<NamespaceLabels, String>,
{
    let namespace_of = |pod: &Value| {
        request_namespace
            .or(pod["metadata"]["namespace"].as_str())
            .unwrap_or("")
            .to_string()
    };
    if let Some((pod, skeleton)) = PodText::read(text) {
        let namespace = namespace_of(&skeleton);
        let d = evaluate_pod(profile, skeleton, &namespace, lookup);
        let verdict = match d.verdict {
            Verdict::Mutate(out) => TextVerdict::Mutate(pod.write(&out, &d.report.additions)),
            other => text_verdict(other),
        };
        return TextDecision {
            verdict,
            warnings: d.warnings,
            report: d.report,
        };
    }
    // The old way, whole; only odd pods get here.
    let pod: Value = match serde_json::from_slice(text.as_bytes()) {
        Ok(pod) => pod,
        Err(e) => {
            return TextDecision {
                verdict: TextVerdict::Reject(format!("{PREFIX}cannot read the pod: {e}")),
                warnings: Vec::new(),
                report: Report::default(),
            };
        }
    };
    let namespace = namespace_of(&pod);
    let Decision {
        verdict,
        warnings,
        report,
    } = evaluate_pod(profile, pod, &namespace, lookup);
    TextDecision {
        verdict: text_verdict(verdict),
        warnings,
        report,
    }
}

fn text_verdict(verdict: Verdict) -> TextVerdict {
    match verdict {
        Verdict::Accept => TextVerdict::Accept,
        Verdict::Mutate(pod) => TextVerdict::Mutate(json(&pod)),
        Verdict::Reject(message) => TextVerdict::Reject(message),
    }
}

// ---------------------------------------------------------------------------
// What the decision reads
// ---------------------------------------------------------------------------

/// Which parts of a JSON value the decision reads.
pub enum Keep {
    /// The whole value.
    All,
    /// Of a mapping, these fields (each as given); any other value whole.
    Fields(&'static [(&'static str, Keep)]),
    /// Of a list, each item as given; any other value whole.
    Each(&'static Keep),
}

const CONTAINER: Keep = Keep::Fields(&[
    ("name", Keep::All),
    (
        "securityContext",
        Keep::Fields(&[("privileged", Keep::All)]),
    ),
    (
        "ports",
        Keep::Each(&Keep::Fields(&[("hostPort", Keep::All)])),
    ),
]);

/// The `metadata` fields read by `evaluate`, `effects`, `scheduling` and the adapter.
pub const METADATA: &[(&str, Keep)] = &[
    ("namespace", Keep::All),
    ("labels", Keep::All),
    ("annotations", Keep::All),
    (
        "ownerReferences",
        Keep::Each(&Keep::Fields(&[("kind", Keep::All), ("name", Keep::All)])),
    ),
];

/// The `spec` fields read by `evaluate`, `scheduling` and `warnings`.
pub const SPEC: &[(&str, Keep)] = &[
    ("nodeName", Keep::All),
    ("nodeSelector", Keep::All),
    ("affinity", Keep::All),
    ("tolerations", Keep::All),
    ("hostNetwork", Keep::All),
    ("hostPID", Keep::All),
    ("hostIPC", Keep::All),
    ("initContainers", Keep::Each(&CONTAINER)),
    ("containers", Keep::Each(&CONTAINER)),
    (
        "volumes",
        Keep::Each(&Keep::Fields(&[
            ("name", Keep::All),
            ("hostPath", Keep::All),
        ])),
    ),
];

const METADATA_PART: Keep = Keep::Fields(METADATA);
const SPEC_PART: Keep = Keep::Fields(SPEC);

/// The fields the decision writes, per part: what it adds is inserted into
/// their text (or, where they are null or absent, their new value written).
const WRITTEN: [(&str, [&str; 2]); 2] = [
    ("metadata", ["labels", "annotations"]),
    ("spec", ["nodeSelector", "tolerations"]),
];

/// Where an addition goes: (part, field) indices into [`WRITTEN`].
fn written_at(addition: &Addition) -> (usize, usize) {
    match addition {
        Addition::Label(..) => (0, 0),
        Addition::Annotation(..) => (0, 1),
        Addition::NodeSelector(..) => (1, 0),
        Addition::Toleration(_) => (1, 1),
    }
}

/// An addition as text: a `"key":"value"` member, or a toleration.
fn addition_text(addition: &Addition) -> Vec<u8> {
    match addition {
        Addition::Label(k, v) | Addition::Annotation(k, v) | Addition::NodeSelector(k, v) => {
            member(k, &Value::from(v.as_str()))
        }
        Addition::Toleration(t) => json(t),
    }
}

// ---------------------------------------------------------------------------
// Reading the skeleton, with the places to write
// ---------------------------------------------------------------------------

/// A mapping or list of the pod's text, where items can be inserted.
#[derive(Debug, Clone, Copy)]
struct Open {
    /// Where its closing `}` or `]` is.
    close: usize,
    has_items: bool,
}

/// A value of the pod's text (a part, a written field) as it is there.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// Absent (or of a type no addition goes into).
    Absent,
    Null(Span),
    Open(Open),
}

impl Slot {
    /// The slot of `value`, which ends at `end` in the text.
    fn of(value: &Value, end: usize) -> Slot {
        match value {
            Value::Null => Slot::Null((end - 4, end)),
            Value::Object(map) => Slot::Open(Open {
                close: end - 1,
                has_items: !map.is_empty(),
            }),
            Value::Array(items) => Slot::Open(Open {
                close: end - 1,
                has_items: !items.is_empty(),
            }),
            _ => Slot::Absent,
        }
    }
}

/// The pod's text, and where the decision's additions go.
#[derive(Debug)]
pub struct PodText<'a> {
    text: &'a str,
    root: Open,
    /// `metadata` and `spec`, each with its written fields.
    parts: [(Slot, [Slot; 2]); 2],
}

impl<'a> PodText<'a> {
    /// The skeleton of a pod whose root, `metadata` and `spec` are mappings
    /// (or null/absent parts), read in one pass; `None` for anything else
    /// (and for a field name with escapes after a part or a written field,
    /// which this reader cannot place).
    pub fn read(text: &'a str) -> Option<(PodText<'a>, Value)> {
        let bytes = text.as_bytes();
        // The pod's closing `}` (the text may end in whitespace).
        let close = value_end(bytes, bytes.len(), false)?.checked_sub(1)?;
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let (read, has_items) = de.deserialize_map(RootReader { text, close }).ok()?;
        let mut skeleton = Map::new();
        let mut parts = [(Slot::Absent, [Slot::Absent; 2]); 2];
        for (p, read) in read.into_iter().enumerate() {
            let Some((value, mut found, end)) = read else {
                continue;
            };
            let slot = Slot::of(&value, end);
            match (&value, slot) {
                (Value::Object(part), Slot::Open(open)) => {
                    // A written field last in its part ends before the part's `}`.
                    found.ends.settle(None, open.close)?;
                    let mut written = [Slot::Absent; 2];
                    for (w, name) in WRITTEN[p].1.iter().enumerate() {
                        if let (Some(value), Some(end)) = (part.get(*name), found.ends.end[w]) {
                            written[w] = Slot::of(value, end);
                        }
                    }
                    // The skeleton keeps only some fields: whether the text has any is noted.
                    let open = Open {
                        has_items: found.has_fields,
                        ..open
                    };
                    parts[p] = (Slot::Open(open), written);
                }
                (Value::Null, _) => parts[p].0 = slot,
                _ => return None,
            }
            skeleton.insert(WRITTEN[p].0.to_string(), value);
        }
        let root = Open { close, has_items };
        Some((PodText { text, root, parts }, Value::Object(skeleton)))
    }

    /// The pod's text with the additions inserted where they go; a written
    /// field or part that is null or absent gets its value in `mutated` (the
    /// skeleton after the decision), which then holds only additions.
    pub fn write(&self, mutated: &Value, additions: &[(Source, Addition)]) -> Vec<u8> {
        let mut touched = [[false; 2]; 2];
        for (_, addition) in additions {
            let (p, f) = written_at(addition);
            touched[p][f] = true;
        }
        let mut edits: Vec<(Span, Vec<u8>)> = Vec::new();
        let mut new_parts = Vec::new();
        for (p, (name, fields)) in WRITTEN.iter().enumerate() {
            if !touched[p].contains(&true) {
                continue;
            }
            let new_part = &mutated[name];
            let (slot, written) = &self.parts[p];
            match slot {
                Slot::Open(open) => {
                    let mut new_fields = Vec::new();
                    for (f, field) in fields.iter().enumerate() {
                        if !touched[p][f] {
                            continue;
                        }
                        match written[f] {
                            Slot::Open(inner) => {
                                let mut text = Vec::new();
                                for (_, a) in
                                    additions.iter().filter(|(_, a)| written_at(a) == (p, f))
                                {
                                    push_item(&mut text, inner, &addition_text(a));
                                }
                                edits.push(((inner.close, inner.close), text));
                            }
                            Slot::Null(span) => edits.push((span, json(&new_part[field]))),
                            Slot::Absent => new_fields.push(member(field, &new_part[field])),
                        }
                    }
                    if !new_fields.is_empty() {
                        edits.push(insert(*open, new_fields));
                    }
                }
                Slot::Null(span) => edits.push((*span, json(new_part))),
                Slot::Absent => new_parts.push(member(name, new_part)),
            }
        }
        if !new_parts.is_empty() {
            edits.push(insert(self.root, new_parts));
        }
        let extra: usize = edits.iter().map(|(_, text)| text.len()).sum();
        let text = self.text.as_bytes();
        let mut out = Vec::with_capacity(text.len() + extra);
        let mut at = 0;
        // In text order; there are seven edits at most (a sort would cost 4 KB of module).
        while let Some(next) = (0..edits.len()).min_by_key(|&i| edits[i].0.0) {
            let ((start, end), new) = edits.swap_remove(next);
            out.extend_from_slice(&text[at..start]);
            out.extend_from_slice(&new);
            at = end;
        }
        out.extend_from_slice(&text[at..]);
        out
    }
}

/// A value's JSON text.
fn json(value: &Value) -> Vec<u8> {
    // Writing a `Value` into a `Vec` cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

/// `"name":value`.
fn member(name: &str, value: &Value) -> Vec<u8> {
    let mut out = json(&Value::from(name));
    out.push(b':');
    out.extend(json(value));
    out
}

/// Inserts items (members or list items) before a closing `}` or `]`.
fn insert(open: Open, items: Vec<Vec<u8>>) -> (Span, Vec<u8>) {
    let mut text = Vec::new();
    for item in items {
        push_item(&mut text, open, &item);
    }
    ((open.close, open.close), text)
}

/// Appends an item to the text inserted into `open`: after a comma, unless
/// it is the first item there.
fn push_item(text: &mut Vec<u8>, open: Open, item: &[u8]) {
    if open.has_items || !text.is_empty() {
        text.push(b',');
    }
    text.extend_from_slice(item);
}

/// Where the values of a mapping's fields end, for two fields of interest:
/// a value's end is found when the next field name is read (borrowed from
/// the text: the end is back over the `,` and whitespace before it) or,
/// for the last field, from the mapping's closing `}`.
struct Ends<'de> {
    text: &'de str,
    /// The field whose value was read last, if it is one of interest.
    pending: Option<usize>,
    end: [Option<usize>; 2],
}

impl<'de> Ends<'de> {
    fn new(text: &'de str) -> Self {
        Ends {
            text,
            pending: None,
            end: [None, None],
        }
    }

    /// Called with each field name as it is read (`Some`), then with `None`
    /// and the mapping's closing `}`, once known. `None` if a pending value's
    /// end cannot be placed (a field name with escapes).
    fn settle(&mut self, next_key: Option<&Str<'de>>, close: usize) -> Option<()> {
        let Some(f) = self.pending.take() else {
            return Some(());
        };
        let end = match next_key {
            Some(Str(Cow::Borrowed(next))) => value_end_before(self.text.as_bytes(), next)?,
            Some(_) => return None,
            None => value_end(self.text.as_bytes(), close, false)?,
        };
        self.end[f] = Some(end);
        Some(())
    }
}

/// What [`RootReader`] found of a part: its skeleton, the places of its
/// written fields, and where its value ends in the text.
type PartRead<'de> = Option<(Value, Found<'de>, usize)>;

/// Reads the pod's mapping in one pass: `metadata` and `spec` through
/// [`Masked`], every other field skipped unparsed.
struct RootReader<'de> {
    text: &'de str,
    close: usize,
}

impl<'de> Visitor<'de> for RootReader<'de> {
    type Value = ([PartRead<'de>; 2], bool);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut parts: [PartRead<'de>; 2] = [None, None];
        let mut ends = Ends::new(self.text);
        let mut has_items = false;
        let unplaced = || A::Error::custom("a value this reader cannot place");
        loop {
            let key = map.next_key::<Str<'de>>()?;
            ends.settle(key.as_ref(), self.close).ok_or_else(unplaced)?;
            let Some(key) = key else { break };
            has_items = true;
            let Some(p) = WRITTEN.iter().position(|(name, _)| *name == key.0) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let mut found = Found {
                names: &WRITTEN[p].1,
                ends: Ends::new(self.text),
                has_fields: false,
            };
            let keep = if p == 0 { &METADATA_PART } else { &SPEC_PART };
            let value = map.next_value_seed(Masked {
                keep,
                found: Some(&mut found),
            })?;
            parts[p] = Some((value, found, 0));
            ends.pending = Some(p);
        }
        for (p, part) in parts.iter_mut().enumerate() {
            if let (Some(part), Some(end)) = (part, ends.end[p]) {
                part.2 = end;
            }
        }
        Ok((parts, has_items))
    }
}

/// Where a part's written fields end, noted while reading it.
struct Found<'de> {
    names: &'static [&'static str; 2],
    ends: Ends<'de>,
    has_fields: bool,
}

/// A `Value` of only the parts `keep` names; with `found`, a part whose
/// written fields' places are noted.
struct Masked<'s, 'de> {
    keep: &'static Keep,
    found: Option<&'s mut Found<'de>>,
}

/// A nested value: nothing to note.
fn nested<'s, 'de>(keep: &'static Keep) -> Masked<'s, 'de> {
    Masked { keep, found: None }
}

impl<'de> DeserializeSeed<'de> for Masked<'_, 'de> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        match (self.keep, &self.found) {
            (Keep::All, None) => Value::deserialize(deserializer),
            _ => deserializer.deserialize_any(self),
        }
    }
}

/// Builds a `Value` as `Value`'s own visitor does, pruned by `keep`.
impl<'de> Visitor<'de> for Masked<'_, 'de> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let item = match self.keep {
            Keep::Each(item) => item,
            _ => &Keep::All,
        };
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element_seed(nested(item))? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<Str<'de>>()? {
            if let Some(found) = &mut self.found {
                // The part's `}` is not known here: its reader settles the last field.
                found
                    .ends
                    .settle(Some(&key), 0)
                    .ok_or_else(|| A::Error::custom("a value this reader cannot place"))?;
                found.has_fields = true;
                if let Some(w) = found.names.iter().position(|w| *w == key.0) {
                    // Kept whole; where it ends is settled by the next field name.
                    let value: Value = map.next_value()?;
                    found.ends.pending = Some(w);
                    out.insert(key.0.into_owned(), value);
                    continue;
                }
            }
            let keep = match self.keep {
                Keep::Fields(fields) => fields.iter().find(|(k, _)| *k == key.0).map(|(_, k)| k),
                _ => Some(&Keep::All),
            };
            match keep {
                Some(keep) => {
                    let value = map.next_value_seed(nested(keep))?;
                    out.insert(key.0.into_owned(), value);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(out))
    }
}

// ---------------------------------------------------------------------------
// The probe: labels and nodeSelector only, borrowed
// ---------------------------------------------------------------------------

/// What the screen reads of a pod: `metadata.namespace`, `metadata.labels`
/// and `spec.nodeSelector`; every other field is skipped unparsed. The
/// reader never fails on well-formed JSON: anything else than expected (a
/// list where a mapping belongs, labels that are not strings, a field given
/// twice, …) marks the probe *unusual*, and the full path says what is
/// wrong. That lets it run inside another reader (the request's envelope)
/// without stopping it. Unlike serde's derived structs, it reads mappings only.
#[derive(Default)]
pub struct PodProbe<'a> {
    namespace: Option<Cow<'a, str>>,
    labels: Option<StringMap<'a>>,
    node_selector: Option<StringMap<'a>>,
    unusual: bool,
    /// The pod was `null`.
    null: bool,
}

impl<'a> PodProbe<'a> {
    /// The probe of a pod's (or a Namespace's) text; `None` when unusual.
    pub fn read(text: &'a [u8]) -> Option<PodProbe<'a>> {
        serde_json::from_slice::<PodProbe>(text)
            .ok()
            .filter(|p| p.is_usual() && !p.null)
    }

    /// Nothing unexpected was met.
    pub fn is_usual(&self) -> bool {
        !self.unusual
    }

    /// The pod was `null`.
    pub fn is_null(&self) -> bool {
        self.null
    }

    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    pub fn labels(&self) -> &StringMap<'a> {
        static NONE: StringMap<'static> = StringMap(Vec::new());
        self.labels.as_ref().unwrap_or(&NONE)
    }

    pub fn node_selector(&self) -> Option<&StringMap<'a>> {
        self.node_selector.as_ref()
    }
}

/// Which part of the pod a [`ProbeSeed`] reads.
#[derive(Clone, Copy, PartialEq)]
enum ProbePart {
    Pod,
    Metadata,
    Spec,
}

/// What a [`ProbeSeed`] expects to read.
#[derive(Clone, Copy)]
enum Want {
    Part(ProbePart),
    Str,
    Strings,
}

/// What a [`ProbeSeed`] read: what it wanted (`None` for `null`), or
/// `Unusual`: any other kind of value, skipped.
enum Probed<'a> {
    Part(PodProbe<'a>),
    Str(Option<Cow<'a, str>>),
    Strings(Option<StringMap<'a>>),
    Unusual,
}

/// Reads a part of the pod, a string or a mapping of strings, and never
/// fails on well-formed JSON. One visitor for all three, so that serde_json's
/// reader is instantiated once (about 2 KB of module each).
struct ProbeSeed<'a>(Want, PhantomData<&'a ()>);

fn probe_seed<'a>(want: Want) -> ProbeSeed<'a> {
    ProbeSeed(want, PhantomData)
}

impl<'de: 'a, 'a> DeserializeSeed<'de> for ProbeSeed<'a> {
    type Value = Probed<'a>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for ProbeSeed<'a> {
    type Value = Probed<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Probed::Unusual)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Probed::Unusual)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Probed::Unusual)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Probed::Unusual)
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(match self.0 {
            Want::Str => Probed::Str(Some(Cow::Borrowed(v))),
            _ => Probed::Unusual,
        })
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(match self.0 {
            Want::Str => Probed::Str(Some(Cow::Owned(v.to_owned()))),
            _ => Probed::Unusual,
        })
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(match self.0 {
            Want::Part(_) => Probed::Part(PodProbe {
                null: true,
                ..PodProbe::default()
            }),
            Want::Str => Probed::Str(None),
            Want::Strings => Probed::Strings(None),
        })
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Probed::Unusual)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        use ProbePart::*;
        let part = match self.0 {
            Want::Part(part) => part,
            Want::Str => {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                return Ok(Probed::Unusual);
            }
            Want::Strings => {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
                let mut usual = true;
                while let Some(k) = map.next_key::<Str<'a>>()? {
                    match map.next_value_seed(probe_seed(Want::Str))? {
                        Probed::Str(Some(v)) => out.push((k.0, v)),
                        // A value that is not a string (`null` included).
                        _ => usual = false,
                    }
                }
                return Ok(if usual {
                    Probed::Strings(Some(StringMap(out)))
                } else {
                    Probed::Unusual
                });
            }
        };
        let mut probe = PodProbe::default();
        let mut seen = [false; 2];
        while let Some(key) = map.next_key::<Str<'a>>()? {
            let (slot, want) = match (part, key.0.as_ref()) {
                (Pod, "metadata") => (0, Want::Part(Metadata)),
                (Pod, "spec") => (1, Want::Part(Spec)),
                (Metadata, "namespace") => (0, Want::Str),
                (Metadata, "labels") | (Spec, "nodeSelector") => (1, Want::Strings),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            let read = map.next_value_seed(probe_seed(want))?;
            if std::mem::replace(&mut seen[slot], true) {
                // A field given twice.
                probe.unusual = true;
                continue;
            }
            match read {
                // Each part fills only its own fields.
                Probed::Part(inner) => {
                    probe.unusual |= inner.unusual;
                    probe.namespace = probe.namespace.or(inner.namespace);
                    probe.labels = probe.labels.or(inner.labels);
                    probe.node_selector = probe.node_selector.or(inner.node_selector);
                }
                Probed::Str(name) => probe.namespace = name,
                Probed::Strings(strings) if part == Metadata => probe.labels = strings,
                Probed::Strings(strings) => probe.node_selector = strings,
                Probed::Unusual => probe.unusual = true,
            }
        }
        Ok(Probed::Part(probe))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for PodProbe<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(
            match probe_seed(Want::Part(ProbePart::Pod)).deserialize(deserializer)? {
                Probed::Part(probe) => probe,
                _ => PodProbe {
                    unusual: true,
                    ..PodProbe::default()
                },
            },
        )
    }
}

/// A JSON object of strings (labels, a nodeSelector) in the order written,
/// borrowed from the request where no escape forces a copy. Looked up from
/// the end, so that a repeated key has its last value, as when the pod is
/// parsed whole; a linear scan beats a tree for the few labels pods have.
pub struct StringMap<'a>(pub Vec<(Cow<'a, str>, Cow<'a, str>)>);

impl Labels for StringMap<'_> {
    fn label(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k.len() == key.len() && k == key)
            .map(|(_, v)| v.as_ref())
    }
}

#[cfg(test)]
mod tests;
