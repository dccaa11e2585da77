//! Positions in JSON text that serde has already read (so known to be
//! well-formed): whitespace, tokens, where a value starts after its field
//! name and where it ends before the next one. These let the adapter and
//! the pod reader place values without reading them a second time.

/// A byte range of a text.
pub type Span = (usize, usize);

/// JSON's whitespace.
pub fn is_ws(byte: u8) -> bool {
    matches!(byte, b' ' | b'\n' | b'\r' | b'\t')
}

/// The first position at or after `at` that is not whitespace.
pub fn skip_ws(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && is_ws(bytes[at]) {
        at += 1;
    }
    at
}

/// Skips whitespace, then `token`; the position after it.
pub fn expect(bytes: &[u8], at: usize, token: &[u8]) -> Option<usize> {
    let at = skip_ws(bytes, at);
    bytes
        .get(at..)?
        .starts_with(token)
        .then_some(at + token.len())
}

/// Where `part`, a slice of `text` (a string serde borrowed from it), lies in it.
pub fn span_of(text: &[u8], part: &str) -> Span {
    let start = part.as_ptr() as usize - text.as_ptr() as usize;
    (start, start + part.len())
}

/// Where the value of the field whose name serde borrowed from `text`
/// starts: after the name's closing quote, the `:` and whitespace.
pub fn value_start(text: &[u8], name: &str) -> Option<usize> {
    Some(skip_ws(
        text,
        expect(text, span_of(text, name).1 + 1, b":")?,
    ))
}

/// Where the value before `limit` (a field name's opening quote, or the
/// closing `}` of its mapping) ends: back over whitespace, the `,` when
/// `comma`, and whitespace again.
pub fn value_end(bytes: &[u8], limit: usize, comma: bool) -> Option<usize> {
    let mut at = limit;
    let back = |at: &mut usize| {
        while *at > 0 && is_ws(bytes[*at - 1]) {
            *at -= 1;
        }
    };
    back(&mut at);
    if comma {
        if at == 0 || bytes[at - 1] != b',' {
            return None;
        }
        at -= 1;
        back(&mut at);
    }
    Some(at)
}

/// Where the value before the field name `next` (borrowed from `text`) ends.
pub fn value_end_before(text: &[u8], next: &str) -> Option<usize> {
    value_end(text, span_of(text, next).0.checked_sub(1)?, true)
}
