//! Model identity: [`CacheModel`], the name a model has in cache keys and lockfiles.
//!
//! A model's name is the first thing that keeps models apart in a store
//! (`{namespace}:{model}:{version}:{key}`), so two different models must never share one:
//! a cleanup of one model's old versions walks `{namespace}:{model}:*`. The name of a derived
//! struct or enum is its Rust name (or `#[cache_version(name = "...")]`) followed by its
//! generic arguments, rendered from their shapes (see [`Named::model_name`]).

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::shape::{ModelArg, Named, Shape, Ty};
use crate::CacheVersion;

/// A type that can be cached as a model of its own: a named type whose name, with its generic
/// arguments, is a valid model name in cache keys.
///
/// `#[derive(CacheVersion)]` implements it for every derived struct and enum, except
/// `#[serde(transparent)]` types and types written through an `into`/`from` proxy (their shape
/// is another type's). `Cache::model` (feature `cache`) and the lockfile's `register!` need
/// it; for any other type (`Vec<User>`, `String`, a transparent wrapper) give the name
/// yourself with `Cache::model_named` (and `register!(Vec<User> as "Users")`).
///
/// For a hand-written [`CacheVersion`] impl whose shape is a [`Named`] type, an empty impl is
/// enough:
///
/// ```
/// use cache_version_core::{Body, CacheModel, CacheVersion, Field, Named, Shape, Ty};
///
/// struct User { id: u64 }
/// impl CacheVersion for User {
///     const SHAPE: &'static Shape = &Shape::Named(&Named::new("User", Body::Struct {
///         tag: None,
///         fields: &[Field::new("id", Ty::of::<u64>())],
///     }));
/// }
/// impl CacheModel for User {}
///
/// assert_eq!(User::model_name(), "User");
/// ```
///
/// Overriding [`CacheModel::model_name`] names any type; the name must then be a valid model
/// name (non-empty, none of `:`, whitespace, control characters, `* ? [ ] \ { }`), or
/// `Cache::model` panics.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a cache model: it has no model name of its own",
    label = "not a derived struct or enum",
    note = "`Cache::model::<T>()` and `register!(T)` name the model after `T`'s own struct or \
            enum (`#[derive(CacheVersion)]`); for collections, std types and \
            `#[serde(transparent)]`/`into` types, name it yourself: \
            `cache.model_named::<{Self}>(\"Users\")` (lockfile: `register!({Self} as \"Users\")`)"
)]
pub trait CacheModel: CacheVersion {
    /// The model name used in cache keys and lockfiles. By default [`Named::model_name`] of
    /// `Self::SHAPE` (which must be a [`Shape::Named`]: checked at compile time).
    fn model_name() -> Cow<'static, str> {
        const {
            assert!(
                matches!(Self::SHAPE, Shape::Named(_)),
                "the default CacheModel::model_name needs a named shape (Shape::Named); \
                 override model_name, or use Cache::model_named"
            )
        };
        match Self::SHAPE {
            Shape::Named(named) => named.model_name(),
            _ => unreachable!("checked at compile time"),
        }
    }
}

/// How deep generic arguments are rendered; deeper ones are written `_` (only a hand-written
/// shape could nest further).
const MAX_DEPTH: usize = 32;

impl Named {
    /// The model name: [`Named::name`], followed by the generic arguments ([`Named::args`])
    /// when there are any, rendered from their shapes so that the result is always valid in a
    /// cache key:
    ///
    /// | argument | written | example |
    /// |---|---|---|
    /// | a named type | its model name (arguments included) | `Page<Page<User>>` |
    /// | a leaf | its canonical name | `Page<u64>`, `Page<str>` (`String`), `Page<unit>` |
    /// | `Option`, sequences, maps | `option<T>`, `seq<T>`, `map<K,V>` | `Pair<str,option<u64>>` |
    /// | tuples and arrays | `tuple<A,B>`, a run of equal types as `T;n` | `Grid<tuple<u8;4>>` (`[u8; 4]`) |
    /// | other structural shapes | `readable<H,C>`, `proxy<W,R>`, `opaque(path)` (`::` as `.`), `self` | |
    /// | a type parameter without a `CacheVersion` bound | `_` | `Id<_>` |
    /// | a const argument | its value | `Buf<16>`, `Flag<true>`, `Sep<'x'>` |
    ///
    /// Wire-equivalent arguments give one name (`Page<Vec<u8>>` and `Page<VecDeque<u8>>` are
    /// both `Page<seq<u8>>`), as they give one version. A character that is not allowed in a
    /// key (only possible in a hand-written name) is written `_`.
    pub fn model_name(&self) -> Cow<'static, str> {
        if self.args.is_empty() && is_key_safe(self.name) {
            return Cow::Borrowed(self.name);
        }
        let mut out = String::new();
        write_named(&mut out, self, 0);
        Cow::Owned(out)
    }
}

fn is_key_safe(name: &str) -> bool {
    !name.is_empty() && name.chars().all(name_char)
}

/// Whether `c` may appear in a model name (`key::is_name_char`, which needs feature `cache`).
pub(crate) fn name_char(c: char) -> bool {
    !matches!(c, ':' | '*' | '?' | '[' | ']' | '\\' | '{' | '}')
        && !c.is_whitespace()
        && !c.is_control()
}

fn push_sanitized(out: &mut String, s: &str) {
    if s.is_empty() {
        out.push('_');
    }
    out.extend(s.chars().map(|c| if name_char(c) { c } else { '_' }));
}

fn write_named(out: &mut String, named: &Named, depth: usize) {
    push_sanitized(out, named.name);
    if named.args.is_empty() {
        return;
    }
    out.push('<');
    for (i, arg) in named.args.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match arg {
            ModelArg::Type(shape) => write_shape(out, shape(), depth + 1),
            ModelArg::Unbound => out.push('_'),
            ModelArg::Int(n) => {
                let _ = write!(out, "{n}");
            }
            ModelArg::Uint(n) => {
                let _ = write!(out, "{n}");
            }
            ModelArg::Bool(b) => {
                let _ = write!(out, "{b}");
            }
            ModelArg::Char(c) => {
                if name_char(*c) && !"<>,;'".contains(*c) {
                    let _ = write!(out, "'{c}'");
                } else {
                    let _ = write!(out, "'U+{:04X}'", *c as u32);
                }
            }
        }
    }
    out.push('>');
}

fn write_shape(out: &mut String, shape: &Shape, depth: usize) {
    if depth > MAX_DEPTH {
        out.push('_');
        return;
    }
    let child = |out: &mut String, ty: &Ty| write_shape(out, ty.shape(), depth + 1);
    let pair = |out: &mut String, kind: &str, a: &Ty, b: &Ty| {
        out.push_str(kind);
        out.push('<');
        child(out, a);
        out.push(',');
        child(out, b);
        out.push('>');
    };
    match shape {
        Shape::Named(named) => write_named(out, named, depth),
        Shape::Option(t) => {
            out.push_str("option<");
            child(out, t);
            out.push('>');
        }
        Shape::Seq(t) => {
            out.push_str("seq<");
            child(out, t);
            out.push('>');
        }
        Shape::Map(k, v) => pair(out, "map", k, v),
        Shape::Readable { human, compact } => pair(out, "readable", human, compact),
        Shape::Proxy { write, read } => pair(out, "proxy", write, read),
        Shape::Tuple(elems) => {
            out.push_str("tuple<");
            let mut i = 0;
            while i < elems.len() {
                let run = elems[i..]
                    .iter()
                    .take_while(|e| e.version == elems[i].version)
                    .count();
                if i > 0 {
                    out.push(',');
                }
                child(out, &elems[i]);
                if run > 1 {
                    let _ = write!(out, ";{run}");
                }
                i += run;
            }
            out.push('>');
        }
        Shape::Array(elem, len) => {
            out.push_str("tuple<");
            if *len > 0 {
                child(out, elem);
            }
            if *len > 1 {
                let _ = write!(out, ";{len}");
            }
            out.push('>');
        }
        Shape::Opaque(path) => {
            out.push_str("opaque(");
            push_sanitized(out, &path.replace("::", "."));
            out.push(')');
        }
        leaf => out.push_str(crate::canonical::leaf_text(leaf)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_chars_agree_with_keys() {
        #[cfg(feature = "cache")]
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            assert_eq!(name_char(c), crate::key::is_name_char(c), "{c:?}");
        }
        assert!(!name_char(':') && !name_char(' ') && name_char('<'));
    }
}
