//! The opaque leaves of a lockfile's models: values written by custom code (`with`,
//! `serialize_with`, `opaque`) whose changes the version cannot see.

use std::collections::HashSet;
use std::fmt;

use super::ast::{self, BodyAst, Def, FieldAst, TypeExpr, TypeRef, VariantKind};
use super::format::{FieldKey, Lockfile, TypeMeta};

/// An opaque leaf of a model: its version does not change when the code behind it does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpaqueLeaf {
    /// The model (its label).
    pub model: String,
    /// Where in the model: `User.created_at`, `User.events[].at`, `Status::Custom.0` (like
    /// the paths of the diff). A named type reached at several paths is listed at the first.
    pub path: String,
    /// What the leaf is named by: the custom code's path (`ts::serialize`) or the type.
    pub leaf: String,
    /// Stated on purpose (`#[cache_version(opaque)]` or a `#[cache_version(opaque)]` type);
    /// `false` for `with`/`serialize_with` code nobody stated, which the lockfile check reports
    /// as a warning.
    pub acknowledged: bool,
}

impl fmt::Display for OpaqueLeaf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}  opaque({:?})", self.path, self.leaf)?;
        if self.acknowledged {
            f.write_str("  acknowledged")
        } else {
            f.write_str("  not acknowledged: state what it writes with #[cache_version(as = \"Type\")], or acknowledge it with #[cache_version(opaque)]")
        }
    }
}

impl Lockfile {
    /// Every model's opaque leaves, in model order.
    pub fn opaque_leaves(&self) -> Vec<OpaqueLeaf> {
        let mut out = Vec::new();
        for m in &self.models {
            let mut walk = Walk {
                lock: self,
                model: &m.label,
                seen: HashSet::new(),
                out: &mut out,
            };
            match ast::parse_definition(&m.root) {
                Ok(Def::Type(root)) => walk.ty(&root, &m.label, true),
                Ok(Def::Body { body, .. }) => walk.body(&body, &TypeMeta::default(), &m.label),
                Err(_) => {}
            }
        }
        out
    }
}

/// The warning the lockfile check prints for the leaves nobody acknowledged, if any.
pub fn opaque_warnings(leaves: &[OpaqueLeaf]) -> Option<String> {
    let unacknowledged: Vec<&OpaqueLeaf> = leaves.iter().filter(|l| !l.acknowledged).collect();
    if unacknowledged.is_empty() {
        return None;
    }
    let mut text = format!(
        "warning: {} opaque leaf(s) written by custom code nobody stated: changing that code \
         never changes the model's version\n",
        unacknowledged.len()
    );
    for l in unacknowledged {
        text.push_str(&format!("  {}  opaque({:?})\n", l.path, l.leaf));
    }
    text.push_str(
        "  state what each writes with #[cache_version(as = \"Type\")] (check it with \
         conformance::check), or acknowledge it with #[cache_version(opaque)] and bump the \
         model when the code changes\n",
    );
    Some(text)
}

struct Walk<'a> {
    lock: &'a Lockfile,
    model: &'a str,
    seen: HashSet<TypeRef>,
    out: &'a mut Vec<OpaqueLeaf>,
}

impl Walk<'_> {
    /// `acknowledged`: what a leaf found here would be (from its field's metadata).
    fn ty(&mut self, t: &TypeExpr, path: &str, acknowledged: bool) {
        match t {
            TypeExpr::Leaf(_) => {}
            TypeExpr::Option(t) => self.ty(t, path, acknowledged),
            TypeExpr::Seq(t) => self.ty(t, &format!("{path}[]"), acknowledged),
            TypeExpr::Map(k, v) => {
                self.ty(k, &format!("{path}{{key}}"), acknowledged);
                self.ty(v, &format!("{path}{{}}"), acknowledged);
            }
            TypeExpr::Tuple(runs) => {
                let mut i = 0u64;
                for (t, n) in runs {
                    self.ty(t, &format!("{path}.{i}"), acknowledged);
                    i += n;
                }
            }
            TypeExpr::Readable(a, b) | TypeExpr::Proxy(a, b) => {
                self.ty(a, path, acknowledged);
                self.ty(b, path, acknowledged);
            }
            TypeExpr::Opaque(leaf) => self.out.push(OpaqueLeaf {
                model: self.model.to_owned(),
                path: path.to_owned(),
                leaf: leaf.clone(),
                acknowledged,
            }),
            TypeExpr::Ref(r) => {
                if !self.seen.insert(r.clone()) {
                    return;
                }
                let Some(entry) = self.lock.type_entry(&r.name, &r.version) else {
                    return;
                };
                if let Ok(Def::Body { body, .. }) = ast::parse_definition(&entry.definition) {
                    self.body(&body, &entry.meta, path);
                }
            }
        }
    }

    fn body(&mut self, body: &BodyAst, meta: &TypeMeta, path: &str) {
        match body {
            BodyAst::UnitStruct => {}
            BodyAst::Newtype(t) => self.ty(t, path, true),
            BodyAst::TupleStruct(fields) | BodyAst::Struct { fields, .. } => {
                self.fields(fields, meta, None, path)
            }
            BodyAst::Enum { variants, .. } => {
                for v in variants.iter().filter(|v| !v.skipped) {
                    let vpath = format!("{path}::{}", v.name);
                    if let VariantKind::Tuple(f) | VariantKind::Struct(f) = &v.kind {
                        self.fields(f, meta, Some(&v.name), &vpath);
                    }
                }
            }
        }
    }

    fn fields(&mut self, fields: &[FieldAst], meta: &TypeMeta, variant: Option<&str>, path: &str) {
        for (i, f) in fields.iter().enumerate() {
            let (key, fpath) = if f.name.is_empty() || f.flatten {
                (FieldKey::Index(i), format!("{path}.{i}"))
            } else {
                (FieldKey::Name(f.name.clone()), format!("{path}.{}", f.name))
            };
            let unstated = meta.field(variant, &key).is_some_and(|m| m.with_unstated);
            self.ty(&f.ty, &fpath, !unstated);
        }
    }
}
