//! Native-speed hashing of the start of a named type's version.
//!
//! A named type's version is `BLAKE3(template digest ‖ v(child₁) ‖ … ‖ v(childₙ))`, hashed in
//! const evaluation, where one 64-byte compression costs about half a millisecond of compile
//! time. The template digest is known here; so are the versions of the std types serde writes
//! as leaves and simple structures (`u64`, `String`, `Vec<String>`, `Option<f64>`, …). For
//! the leading children whose tokens name such a type, the derive compresses those blocks
//! itself and emits the chaining value, and `__private::version_resumed` goes on from it. A
//! name in the tokens may be the user's own type (`struct String;`, an alias), so the derive
//! also emits the std types it assumed, and the compiler answers whether they are the field
//! types (`__private::SameProbe`, an inherent constant that applies only to two equal types);
//! when they are not, the version is hashed in full. The version is the same either way.
//!
//! When every child is known, the derive computes the whole version ([`full`]). Named types
//! among the children (`Prev`, `Option<Box<Prev>>`, `Vec<Prev>`) are known from the versions
//! earlier derives of the same compilation computed in full ([`record`]): a hint, confirmed
//! by the compiler, which compares each named type's real `VERSION` with the one assumed (and
//! the std structure around it, as above). The type's `VERSION`, and the versions of the std
//! structures around named types among its children, are then chosen by type
//! (`__private::Holds`): with the assumptions confirmed, const evaluation hashes nothing;
//! otherwise it hashes as it would without the hint. On a crate of 200 models holding each
//! other that removes nearly all of the derive's const evaluation (`scripts/compile_bench.py`).
use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::out::Out;
use syn::{GenericArgument, PathArguments, Type};

use crate::model::{Body, FieldIr, TyIr};

/// The std types the tokens may name: (name, canonical text, the type by a path nobody can
/// shadow).
const LEAVES: &[(&str, &str, &str)] = &[
    ("bool", "bool", "bool"),
    ("i8", "i8", "i8"),
    ("i16", "i16", "i16"),
    ("i32", "i32", "i32"),
    ("i64", "i64", "i64"),
    ("isize", "i64", "isize"),
    ("i128", "i128", "i128"),
    ("u8", "u8", "u8"),
    ("u16", "u16", "u16"),
    ("u32", "u32", "u32"),
    ("u64", "u64", "u64"),
    ("usize", "u64", "usize"),
    ("u128", "u128", "u128"),
    ("f32", "f32", "f32"),
    ("f64", "f64", "f64"),
    ("char", "char", "char"),
    ("String", "str", "String"),
];

fn digest(text: &str) -> [u8; 32] {
    memo(0, text.as_bytes(), || crate::template::digest(text))
}

/// `BLAKE3(template ‖ children)`: the version rule.
fn combine(template: &[u8; 32], children: &[[u8; 32]]) -> [u8; 32] {
    let mut input = template.to_vec();
    for c in children {
        input.extend_from_slice(c);
    }
    memo(1, &input, || crate::hash::hash(&input))
}

/// The hashes of this process so far, by kind (0: a template text's digest, 1: the version
/// rule over a digest and children) and input: a crate's models name the same std types
/// again and again (`String`, `Vec<String>`, `Option<u64>`), and a proc macro runs
/// unoptimized, where one BLAKE3 compression costs far more than a map look-up.
static MEMO: Mutex<BTreeMap<MemoKey, [u8; 32]>> = Mutex::new(BTreeMap::new());

/// A [`MEMO`] key: the kind of hash and its input.
type MemoKey = (u8, Vec<u8>);

fn memo(kind: u8, input: &[u8], hash: impl FnOnce() -> [u8; 32]) -> [u8; 32] {
    let key = (kind, input.to_vec());
    if let Some(h) = MEMO.lock().ok().and_then(|m| m.get(&key).copied()) {
        return h;
    }
    let h = hash();
    if let Ok(mut m) = MEMO.lock() {
        m.insert(key, h);
    }
    h
}

/// The version of `ty` if the tokens name a std type whose shape is known here (a leaf, or
/// `Option`, `Vec`, `VecDeque`, `Box`, `HashMap`, `BTreeMap` of such types), and that std
/// type written through `__private` (primitives as `_cv::u64`, which no user type can
/// shadow). Only a guess until the compiler compares the two types.
pub fn guess(ty: &Type) -> Option<([u8; 32], Std)> {
    guess_in(ty, &mut None)
}

/// [`guess`], and with `named` given, also a named type (one identifier, no arguments) that
/// an earlier derive of this compilation recorded ([`record`]): its version is that record,
/// pushed on `named` with the type, for the compiler to confirm.
fn guess_in(
    ty: &Type,
    named: &mut Option<&mut Vec<(String, [u8; 32])>>,
) -> Option<([u8; 32], Std)> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() || path.path.leading_colon.is_some() || path.path.segments.len() != 1 {
        return None;
    }
    let seg = &path.path.segments[0];
    let name = seg.ident.to_string();
    let args: Vec<&Type> = match &seg.arguments {
        PathArguments::None => Vec::new(),
        PathArguments::AngleBracketed(a) => {
            let mut out = Vec::new();
            for arg in &a.args {
                match arg {
                    GenericArgument::Type(t) => out.push(t),
                    _ => return None,
                }
            }
            out
        }
        PathArguments::Parenthesized(_) => return None,
    };
    match (name.as_str(), args.as_slice()) {
        (leaf, []) => {
            let Some((rust, text, _)) = LEAVES.iter().find(|(rust, _, _)| *rust == leaf) else {
                let list = named.as_mut()?;
                let v = recorded(leaf)?;
                list.push((leaf.to_owned(), v));
                return Some((v, Std::Named(leaf.to_owned())));
            };
            Some((combine(&digest(text), &[]), Std::Leaf(rust)))
        }
        ("Box", [t]) => {
            let (v, std) = guess_in(t, named)?;
            Some((v, Std::Outer("Box", vec![std])))
        }
        ("Option", [t]) => {
            let (v, std) = guess_in(t, named)?;
            Some((
                combine(&digest("option<_>"), &[v]),
                Std::Outer("Option", vec![std]),
            ))
        }
        ("Vec", [t]) | ("VecDeque", [t]) => {
            let (v, std) = guess_in(t, named)?;
            let outer = if name == "Vec" { "Vec" } else { "VecDeque" };
            Some((
                combine(&digest("seq<_>"), &[v]),
                Std::Outer(outer, vec![std]),
            ))
        }
        ("HashMap" | "BTreeMap", [k, v]) => {
            let ((kv, ks), (vv, vs)) = (guess_in(k, named)?, guess_in(v, named)?);
            let outer = if name == "HashMap" {
                "HashMap"
            } else {
                "BTreeMap"
            };
            Some((
                combine(&digest("map<_,_>"), &[kv, vv]),
                Std::Outer(outer, vec![ks, vs]),
            ))
        }
        _ => None,
    }
}

/// A type the derive took a field type for: std types (and types earlier derives recorded)
/// named by one identifier, with type arguments of the same kind, so the derive can write it
/// back as text both as the field writes it and through `__private`.
#[derive(Clone)]
pub enum Std {
    /// `u64`, `String`: a leaf by its name (in `__private` too).
    Leaf(&'static str),
    /// A type an earlier derive recorded, by the identifier the field writes.
    Named(String),
    /// `Option<..>` and the other std structures.
    Outer(&'static str, Vec<Std>),
}

impl Std {
    /// Writes the type as the field writes it (`through` false) or through `__private`
    /// (`through` true: `_cv::Option<_cv::u64>`, which no user type can shadow; named types
    /// as written).
    pub fn write(&self, o: &mut Out, through: bool) {
        // Whole pieces, one call each: the text follows `<`, `(` or `,`, so it needs no space.
        match self {
            Std::Leaf(name) if through => match through_leaf(name) {
                Some(path) => o.s(path),
                None => o.s("_cv::").s(name),
            },
            Std::Leaf(name) => o.s(name),
            Std::Named(name) => o.s(name),
            Std::Outer(name, args) => {
                match open_outer(name, through) {
                    Some(open) => o.s(open),
                    None => o.s(if through { "_cv::" } else { "" }).s(name).s("<"),
                };
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        o.s(",");
                    }
                    a.write(o, through);
                }
                o.s(">")
            }
        };
    }
}

/// `_cv::u64` for `u64`: the leaf through `__private`.
fn through_leaf(name: &str) -> Option<&'static str> {
    Some(match name {
        "bool" => "_cv::bool",
        "i8" => "_cv::i8",
        "i16" => "_cv::i16",
        "i32" => "_cv::i32",
        "i64" => "_cv::i64",
        "isize" => "_cv::isize",
        "i128" => "_cv::i128",
        "u8" => "_cv::u8",
        "u16" => "_cv::u16",
        "u32" => "_cv::u32",
        "u64" => "_cv::u64",
        "usize" => "_cv::usize",
        "u128" => "_cv::u128",
        "f32" => "_cv::f32",
        "f64" => "_cv::f64",
        "char" => "_cv::char",
        "String" => "_cv::String",
        _ => return None,
    })
}

/// `Option<` or `_cv::Option<`.
fn open_outer(name: &str, through: bool) -> Option<&'static str> {
    Some(match (name, through) {
        ("Box", false) => "Box<",
        ("Box", true) => "_cv::Box<",
        ("Option", false) => "Option<",
        ("Option", true) => "_cv::Option<",
        ("Vec", false) => "Vec<",
        ("Vec", true) => "_cv::Vec<",
        ("VecDeque", false) => "VecDeque<",
        ("VecDeque", true) => "_cv::VecDeque<",
        ("HashMap", false) => "HashMap<",
        ("HashMap", true) => "_cv::HashMap<",
        ("BTreeMap", false) => "BTreeMap<",
        ("BTreeMap", true) => "_cv::BTreeMap<",
        _ => return None,
    })
}

/// A child of a type whose version the derive computed in full.
pub struct Child {
    /// The field's type.
    pub ty: Std,
    /// The version of a child that is std structure around a named type (`Option<Box<Prev>>`),
    /// which const evaluation would otherwise hash (a bare named type or a std type costs it
    /// nothing or once per crate).
    pub known: Option<[u8; 32]>,
}

fn field_guess(f: &FieldIr) -> Option<([u8; 32], Std)> {
    match (&f.ty, f.hint) {
        (TyIr::Rust(t), None) => guess(t),
        _ => None,
    }
}

/// The children of `body` in template order (the order `Version::of` hashes them).
fn children(body: &Body) -> Vec<&FieldIr> {
    match body {
        Body::Unit => Vec::new(),
        Body::Newtype(f) => vec![f],
        Body::Tuple(fields) | Body::Struct { fields, .. } => fields.iter().collect(),
        Body::Enum { variants, .. } => variants.iter().flat_map(|v| v.fields.iter()).collect(),
    }
}

/// What `VERSION` resumes from: the number of leading children hashed here, the types they
/// were taken for, the chaining value after the blocks they fill.
pub struct Prefix {
    pub children: usize,
    pub std: Vec<Std>,
    pub cv: [u8; 32],
}

/// The prefix of `body`'s version that can be hashed here: at least one whole block, and one
/// child left for the const hasher (the last block carries the final flags). `None`: nothing
/// to gain.
pub fn prefix(template: &[u8; 32], body: &Body) -> Option<Prefix> {
    let children = children(body);
    // One chunk (1024 bytes) at most: the template and 31 children.
    if children.len() > 31 {
        return None;
    }
    let mut known = Vec::new();
    for f in &children {
        match field_guess(f) {
            Some(g) => known.push(g),
            None => break,
        }
    }
    // Whole blocks: the template and an odd number of children, one child left after them.
    if known.len() == children.len() {
        known.pop();
    }
    if known.len() % 2 == 0 {
        known.pop();
    }
    if known.is_empty() {
        return None;
    }
    let mut units = vec![*template];
    units.extend(known.iter().map(|(v, _)| *v));
    let blocks: Vec<[u8; 64]> = units
        .chunks(2)
        .map(|pair| {
            let mut block = [0u8; 64];
            block[..32].copy_from_slice(&pair[0]);
            block[32..].copy_from_slice(&pair[1]);
            block
        })
        .collect();
    Some(Prefix {
        children: known.len(),
        cv: crate::hash::chain(&blocks),
        std: known.into_iter().map(|(_, std)| std).collect(),
    })
}

/// Versions earlier derives of this compilation computed in full (`None`: two types of that
/// name disagreed). Only a hint: a use is confirmed by the compiler (see [`Full`]), so a stale
/// or wrong record (another type of the same name, an expansion order nobody promised, a
/// proc-macro server shared by several crates) costs the speed-up and never the version.
static RECORDED: Mutex<BTreeMap<String, Option<[u8; 32]>>> = Mutex::new(BTreeMap::new());

fn recorded(name: &str) -> Option<[u8; 32]> {
    RECORDED.lock().ok()?.get(name).copied().flatten()
}

/// Remembers `ident`'s version, computed in full, for the derives that follow.
pub fn record(ident: &syn::Ident, version: [u8; 32]) {
    let name = ident.to_string();
    let name = name.strip_prefix("r#").unwrap_or(&name).to_owned();
    if let Ok(mut map) = RECORDED.lock() {
        let slot = map.entry(name).or_insert(Some(version));
        if *slot != Some(version) {
            *slot = None;
        }
    }
}

/// A named type's version computed here in full: every child is a std type whose version is
/// known here, a type an earlier derive recorded, or std structure around those.
pub struct Full {
    pub version: [u8; 32],
    /// The field types the compiler is asked to confirm are the std types the derive took
    /// them for (bare named types are confirmed by their version instead).
    pub probe: Vec<Std>,
    /// The named types assumed (their identifiers), with the versions assumed for them.
    pub named: Vec<(String, [u8; 32])>,
    /// Every child, in template order.
    pub children: Vec<Child>,
}

/// The whole version of `body`, when every child can be guessed (see [`Full`]).
pub fn full(template: &[u8; 32], body: &Body) -> Option<Full> {
    let mut out = Full {
        version: [0; 32],
        probe: Vec::new(),
        named: Vec::new(),
        children: Vec::new(),
    };
    let mut versions = Vec::new();
    for f in children(body) {
        let (TyIr::Rust(t), None) = (&f.ty, f.hint) else {
            return None;
        };
        let before = out.named.len();
        let (v, std) = guess_in(t, &mut Some(&mut out.named))?;
        let bare = matches!(std, Std::Named(_));
        let named = out.named.len() > before;
        versions.push(v);
        // A bare recorded name is itself on both sides: its version comparison checks it.
        if !bare {
            out.probe.push(std.clone());
        }
        out.children.push(Child {
            ty: std,
            known: (named && !bare).then_some(v),
        });
    }
    // One comparison per named type.
    let mut seen = std::collections::BTreeSet::new();
    out.named.retain(|(name, _)| seen.insert(name.clone()));
    out.version = combine(template, &versions);
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn guesses_std_types_only() {
        let t: syn::Type = syn::parse_quote!(Vec<Option<String>>);
        assert!(super::guess(&t).is_some());
        for t in [
            syn::parse_quote!(Vec<T>),
            syn::parse_quote!(std::string::String),
            syn::parse_quote!(Address),
            syn::parse_quote!(&'a str),
        ] {
            let t: syn::Type = t;
            assert!(super::guess(&t).is_none());
        }
    }
}
