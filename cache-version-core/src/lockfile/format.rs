//! The lockfile text: [`Lockfile`], its writer and its parser (the format is specified in the
//! [module docs](super)).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::{self, Write as _};

use super::ast::{self, name_text, write_name, TypeRef};
use super::Model;
use crate::shape::{Body, FieldKind, Named, Shape, VariantStyle};
use crate::version::Version;

/// The version of the lockfile format written and read by this build.
pub const LOCK_FORMAT: u32 = 1;

const HEADER: &str = "cache-version-lock";

/// A parsed or generated lockfile: every model's version and root, and every named type
/// reachable from them once, with its definition and evolution metadata.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lockfile {
    /// The models, sorted by label.
    pub models: Vec<ModelEntry>,
    /// Every named type reachable from a model, once, sorted by name then version.
    pub types: Vec<TypeEntry>,
}

/// One model of a [`Lockfile`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelEntry {
    /// The model as registered (the Rust type, e.g. `Page<Item>`); unique in a lockfile.
    pub label: String,
    /// The model name used in cache keys (`CacheModel::model_name`, or the name given at
    /// registration); unique in a lockfile generated from code.
    pub name: String,
    /// The model's version (its 16-digit short form is the `short` line).
    pub version: Version,
    /// The root as a type expression (`User@<version>` for a named type).
    pub root: String,
}

/// One named type of a [`Lockfile`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeEntry {
    /// The type's name (for people; not part of the version).
    pub name: String,
    /// The type's version.
    pub version: Version,
    /// Its canonical definition (`Shape::to_string()`).
    pub definition: String,
    /// Reader-side leniency (not part of the version).
    pub meta: TypeMeta,
}

/// Evolution metadata of one named type: reader-side leniency recorded for compatibility
/// reports. None of it is part of the version.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TypeMeta {
    /// `#[serde(default)]` on the container: every field may be missing.
    pub default: bool,
    /// `#[serde(deny_unknown_fields)]`.
    pub deny_unknown_fields: bool,
    /// Fields with some leniency, in declaration order.
    pub fields: Vec<FieldMetaEntry>,
    /// Variants with some leniency, in declaration order.
    pub variants: Vec<VariantMetaEntry>,
}

/// Which field a [`FieldMetaEntry`] is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldKey {
    /// A named field, by its serialized name.
    Name(String),
    /// A positional or flattened field, by its index in the field list.
    Index(usize),
}

/// Leniency of one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMetaEntry {
    /// The variant holding the field (for enum variants' fields).
    pub variant: Option<String>,
    /// The field.
    pub key: FieldKey,
    /// `default` on the field (a container `default` is recorded on the container).
    pub default: bool,
    /// `skip_deserializing`.
    pub skip_deserializing: bool,
    /// `alias` names (other names the reader accepts).
    pub aliases: Vec<String>,
    /// Written by `with`/`serialize_with` code nobody stated (written `with`): an opaque leaf
    /// that was not acknowledged with `as` or `opaque` (see [`Lockfile::opaque_leaves`]).
    pub with_unstated: bool,
}

/// Leniency of one variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantMetaEntry {
    /// The variant's serialized name.
    pub name: String,
    /// `#[serde(other)]`.
    pub other: bool,
    /// `skip_deserializing`.
    pub skip_deserializing: bool,
    /// `alias` names.
    pub aliases: Vec<String>,
}

impl TypeMeta {
    /// Whether the type records no leniency at all.
    pub fn is_empty(&self) -> bool {
        !self.default
            && !self.deny_unknown_fields
            && self.fields.is_empty()
            && self.variants.is_empty()
    }

    /// The leniency of a field (`None` when it has none).
    pub fn field(&self, variant: Option<&str>, key: &FieldKey) -> Option<&FieldMetaEntry> {
        self.fields
            .iter()
            .find(|f| f.variant.as_deref() == variant && &f.key == key)
    }

    /// The leniency of a variant (`None` when it has none).
    pub fn variant(&self, name: &str) -> Option<&VariantMetaEntry> {
        self.variants.iter().find(|v| v.name == name)
    }

    fn of(named: &Named) -> TypeMeta {
        let mut meta = TypeMeta {
            default: named.meta.default,
            deny_unknown_fields: named.meta.deny_unknown_fields,
            ..TypeMeta::default()
        };
        let container_default = named.meta.default;
        let mut fields = |variant: Option<&str>, fields: &[crate::shape::Field]| {
            for (i, f) in fields.iter().enumerate() {
                let default = f.meta.default && !container_default;
                if !default
                    && !f.meta.skip_deserializing
                    && f.meta.aliases.is_empty()
                    && !f.meta.with_unstated
                {
                    continue;
                }
                let flatten = matches!(f.kind, FieldKind::Flatten | FieldKind::FlattenMaybeAbsent);
                let key = if f.name.is_empty() || flatten {
                    FieldKey::Index(i)
                } else {
                    FieldKey::Name(f.name.to_owned())
                };
                meta.fields.push(FieldMetaEntry {
                    variant: variant.map(str::to_owned),
                    key,
                    default,
                    skip_deserializing: f.meta.skip_deserializing,
                    aliases: f.meta.aliases.iter().map(|a| (*a).to_owned()).collect(),
                    with_unstated: f.meta.with_unstated,
                });
            }
        };
        match &named.body {
            Body::UnitStruct | Body::NewtypeStruct(_) => {}
            Body::TupleStruct(f) | Body::Struct { fields: f, .. } => fields(None, f),
            Body::Enum { variants, .. } => {
                for v in variants.iter() {
                    if v.style == VariantStyle::Skipped {
                        continue;
                    }
                    fields(Some(v.name), v.fields);
                }
                for v in variants.iter() {
                    if v.style == VariantStyle::Skipped
                        || (!v.meta.other
                            && !v.meta.skip_deserializing
                            && v.meta.aliases.is_empty())
                    {
                        continue;
                    }
                    meta.variants.push(VariantMetaEntry {
                        name: v.name.to_owned(),
                        other: v.meta.other,
                        skip_deserializing: v.meta.skip_deserializing,
                        aliases: v.meta.aliases.iter().map(|a| (*a).to_owned()).collect(),
                    });
                }
            }
        }
        meta
    }

    fn write(&self, out: &mut String) {
        if self.default || self.deny_unknown_fields {
            out.push_str("  meta");
            if self.default {
                out.push_str(" default");
            }
            if self.deny_unknown_fields {
                out.push_str(" deny_unknown_fields");
            }
            out.push('\n');
        }
        for f in &self.fields {
            out.push_str("  meta field ");
            if let Some(v) = &f.variant {
                write_name(out, v);
                out.push('.');
            }
            match &f.key {
                FieldKey::Name(n) => write_name(out, n),
                FieldKey::Index(i) => {
                    let _ = write!(out, "#{i}");
                }
            }
            if f.default {
                out.push_str(" default");
            }
            if f.skip_deserializing {
                out.push_str(" skip_deserializing");
            }
            if f.with_unstated {
                out.push_str(" with");
            }
            for a in &f.aliases {
                out.push_str(" alias=");
                write_name(out, a);
            }
            out.push('\n');
        }
        for v in &self.variants {
            out.push_str("  meta variant ");
            write_name(out, &v.name);
            if v.other {
                out.push_str(" other");
            }
            if v.skip_deserializing {
                out.push_str(" skip_deserializing");
            }
            for a in &v.aliases {
                out.push_str(" alias=");
                write_name(out, a);
            }
            out.push('\n');
        }
    }
}

/// Why `name` cannot be a model name in cache keys, if it cannot (the rule of
/// `key::validate_name`, which needs feature `cache`).
fn invalid_model_name(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".into());
    }
    name.chars()
        .find(|&c| !crate::model::name_char(c))
        .map(|c| format!("{c:?} is not allowed in a cache key's model name"))
}

/// Why a set of models cannot become a lockfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelsError {
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for ModelsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ModelsError {}

/// A lockfile text that cannot be read: the 1-based line and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The 1-based line number (0 when the problem is the file as a whole).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

impl std::error::Error for ParseError {}

impl Lockfile {
    /// The lockfile of `models`: their versions, roots and every reachable named type once.
    ///
    /// Two models with one label are an error unless they are the same type registered twice;
    /// so are two models with one model name (they would share a key space) and an invalid
    /// model name.
    pub fn from_models(models: impl IntoIterator<Item = Model>) -> Result<Lockfile, ModelsError> {
        Lockfile::from_models_covering(models).map(|(lock, _)| lock)
    }

    /// [`Lockfile::from_models`], and the models whose shape is not reached from another
    /// model's (verifying those covers every shape once: see `check_lockfile`).
    pub(crate) fn from_models_covering(
        models: impl IntoIterator<Item = Model>,
    ) -> Result<(Lockfile, Vec<Model>), ModelsError> {
        let mut by_label: BTreeMap<String, (Model, ModelEntry)> = BTreeMap::new();
        // Model name -> the label that has it: a model name is one key space, so it must
        // belong to one model.
        let mut by_name: HashMap<String, String> = HashMap::new();
        for m in models {
            let label = m.label();
            let shape = m.shape();
            let version = Version::of(shape);
            let name = m.name().into_owned();
            if let Some(problem) = invalid_model_name(&name) {
                return Err(ModelsError {
                    message: format!(
                        "model `{label}` (`{}`) has an invalid model name `{name}`: {problem}",
                        m.type_name()
                    ),
                });
            }
            let entry = ModelEntry {
                label: label.clone(),
                name,
                version,
                root: root_text(shape, version),
            };
            if let Some((prev_model, prev)) = by_label.get(&label) {
                if prev != &entry {
                    return Err(ModelsError {
                        message: format!(
                            "two different models are registered as `{label}` (`{}` and `{}`); \
                             register one of them by another path (e.g. `v1::{label}`)",
                            prev_model.type_name(),
                            m.type_name()
                        ),
                    });
                }
                continue;
            }
            if let Some(other) = by_name.get(&entry.name) {
                let (other_model, _) = &by_label[other];
                return Err(ModelsError {
                    message: format!(
                        "two models have the model name `{name}`: `{}` (registered as `{other}`) \
                         and `{}` (registered as `{label}`). A model name is one key space \
                         (`{{namespace}}:{name}:…`): their entries would mix and a cleanup of \
                         one would delete the other's. Give one of them another name \
                         (`#[cache_version(name = \"...\")]`); if one is an older version \
                         kept for a migration, register only the current one.",
                        other_model.type_name(),
                        m.type_name(),
                        name = entry.name,
                    ),
                });
            }
            by_name.insert(entry.name.clone(), label.clone());
            by_label.insert(label, (m, entry));
        }
        // Every reachable named type once, keyed by (name, version).
        let mut types: BTreeMap<(String, Version), TypeEntry> = BTreeMap::new();
        let mut seen: HashSet<(&'static str, Version)> = HashSet::new();
        // Named types reached from another type or from a structural root.
        let mut reached: HashSet<(&'static str, Version)> = HashSet::new();
        let mut stack: Vec<(&'static Shape, Version, bool)> = Vec::new();
        for (m, entry) in by_label.values() {
            stack.push((m.shape(), entry.version, true));
            while let Some((shape, version, root)) = stack.pop() {
                if let Shape::Named(named) = shape {
                    if !root {
                        reached.insert((named.name, version));
                    }
                    if !seen.insert((named.name, version)) {
                        continue;
                    }
                    types.insert(
                        (named.name.to_owned(), version),
                        TypeEntry {
                            name: named.name.to_owned(),
                            version,
                            definition: shape.to_string(),
                            meta: TypeMeta::of(named),
                        },
                    );
                }
                for child in shape.children().iter().rev() {
                    stack.push((child.shape(), child.version, false));
                }
            }
        }
        let uncovered = by_label
            .values()
            .filter(|(m, e)| match m.shape() {
                Shape::Named(named) => !reached.contains(&(named.name, e.version)),
                _ => true,
            })
            .map(|(m, _)| *m)
            .collect();
        let lock = Lockfile {
            models: by_label.into_values().map(|(_, e)| e).collect(),
            types: types.into_values().collect(),
        };
        Ok((lock, uncovered))
    }

    /// The lockfile's text (what [`Lockfile::parse`] reads back unchanged).
    pub fn to_text(&self) -> String {
        let mut out = String::with_capacity(256 + self.types.len() * 160);
        out.push_str(
            "# Cache versions of this crate's models: generated by cache-version, checked by a test\n\
             # (`cache_version_core::lockfile::check_lockfile`). Review changes like code; accept them\n\
             # with `CACHE_VERSION_LOCK=overwrite cargo test`. Format: cache_version_core::lockfile docs.\n",
        );
        let _ = writeln!(
            out,
            "{HEADER} {LOCK_FORMAT} canonical {}",
            crate::canonical::FORMAT_VERSION
        );
        for m in &self.models {
            let _ = write!(out, "\nmodel {}\n  name ", m.label);
            write_name(&mut out, &m.name);
            let _ = write!(
                out,
                "\n  short {}\n  version {}\n  root {}\n",
                m.version.short(),
                m.version,
                m.root
            );
        }
        if !self.types.is_empty() {
            out.push('\n');
        }
        for t in &self.types {
            out.push_str("type ");
            write_name(&mut out, &t.name);
            let _ = writeln!(out, "@{} = {}", t.version, t.definition);
            t.meta.write(&mut out);
        }
        out
    }

    /// Reads a lockfile. Every problem is a [`ParseError`] with its line; nothing panics. The
    /// definitions are checked against their versions (recomputed from the text), and every
    /// reference must have its `type` line.
    pub fn parse(text: &str) -> Result<Lockfile, ParseError> {
        parse(text)
    }

    /// The model with this label.
    pub fn model(&self, label: &str) -> Option<&ModelEntry> {
        self.models
            .binary_search_by(|m| m.label.as_str().cmp(label))
            .ok()
            .map(|i| &self.models[i])
    }

    /// The named type `name@version`.
    pub fn type_entry(&self, name: &str, version: &Version) -> Option<&TypeEntry> {
        self.types
            .binary_search_by(|t| (t.name.as_str(), &t.version).cmp(&(name, version)))
            .ok()
            .map(|i| &self.types[i])
    }
}

impl fmt::Display for Lockfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl core::str::FromStr for Lockfile {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Lockfile::parse(s)
    }
}

fn root_text(shape: &Shape, version: Version) -> String {
    match shape {
        Shape::Named(named) => format!("{}@{version}", name_text(named.name)),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing.

fn perr(line: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        line,
        message: message.into(),
    }
}

fn parse(text: &str) -> Result<Lockfile, ParseError> {
    let mut lines = text
        .split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .peekable();

    // The header.
    let (n, header) = lines.next().ok_or_else(|| {
        perr(
            0,
            format!("empty lockfile: expected a `{HEADER}` header line"),
        )
    })?;
    let words: Vec<&str> = header.split(' ').collect();
    match words.as_slice() {
        [HEADER, format, "canonical", canonical] => {
            if *format != LOCK_FORMAT.to_string() {
                return Err(perr(
                    n,
                    format!("lockfile format `{format}` is not supported (this build reads {LOCK_FORMAT})"),
                ));
            }
            if *canonical != crate::canonical::FORMAT_VERSION.to_string() {
                return Err(perr(
                    n,
                    format!(
                        "canonical form `{canonical}` is not the one of this build ({})",
                        crate::canonical::FORMAT_VERSION
                    ),
                ));
            }
        }
        _ => {
            return Err(perr(
                n,
                format!(
                    "expected the header `{HEADER} {LOCK_FORMAT} canonical {}`",
                    crate::canonical::FORMAT_VERSION
                ),
            ))
        }
    }

    let mut models: Vec<(usize, ModelEntry)> = Vec::new();
    let mut types: Vec<(usize, TypeEntry, Vec<TypeRef>)> = Vec::new();
    let mut root_refs: Vec<(usize, Vec<TypeRef>)> = Vec::new();

    while let Some((n, line)) = lines.next() {
        if let Some(label) = line.strip_prefix("model ") {
            check_label(n, label)?;
            let mut field = |key: &str| -> Result<(usize, &str), ParseError> {
                let (m, l) = lines.next().ok_or_else(|| {
                    perr(n, format!("model `{label}` ends before its `{key}` line"))
                })?;
                let prefix = format!("  {key} ");
                l.strip_prefix(prefix.as_str())
                    .map(|v| (m, v))
                    .ok_or_else(|| perr(m, format!("expected `{}<value>`", prefix)))
            };
            let (ln, name) = field("name")?;
            let (ls, short) = field("short")?;
            let (lv, version) = field("version")?;
            let (lr, root) = field("root")?;
            let name = parse_whole_name(ln, name)?;
            let version =
                Version::from_hex(version).map_err(|_| perr(lv, "a version is 64 hex digits"))?;
            if short != version.short().to_string() {
                return Err(perr(
                    ls,
                    format!(
                        "short version `{short}` is not the start of the version ({})",
                        version.short()
                    ),
                ));
            }
            let root_ast = ast::parse_definition(root).map_err(|e| {
                perr(
                    lr,
                    format!("root: expected {} at byte {}", e.expected, e.offset),
                )
            })?;
            let computed =
                crate::canonical::recompute(root).map_err(|e| perr(lr, format!("root: {e}")))?;
            if computed != version {
                return Err(perr(
                    lr,
                    format!("the root's version is {computed}, not the model's version {version}"),
                ));
            }
            let mut refs = Vec::new();
            ast::refs_of_def(&root_ast, &mut refs);
            root_refs.push((lr, refs));
            models.push((
                n,
                ModelEntry {
                    label: label.to_owned(),
                    name,
                    version,
                    root: root.to_owned(),
                },
            ));
        } else if let Some(rest) = line.strip_prefix("type ") {
            let (name, used) = parse_name_prefix(n, rest)?;
            let rest = rest.get(used..).unwrap_or_default();
            let rest = rest
                .strip_prefix('@')
                .ok_or_else(|| perr(n, "expected `type Name@<version> = <definition>`"))?;
            let hex = rest
                .get(..64)
                .ok_or_else(|| perr(n, "a version is 64 hex digits"))?;
            let version =
                Version::from_hex(hex).map_err(|_| perr(n, "a version is 64 hex digits"))?;
            let definition = rest
                .get(64..)
                .and_then(|r| r.strip_prefix(" = "))
                .ok_or_else(|| perr(n, "expected ` = <definition>` after the version"))?;
            let def = ast::parse_definition(definition).map_err(|e| {
                perr(
                    n,
                    format!("definition: expected {} at byte {}", e.expected, e.offset),
                )
            })?;
            if !matches!(def, ast::Def::Body { .. }) {
                return Err(perr(n, "a type line defines a struct or an enum"));
            }
            let computed = crate::canonical::recompute(definition)
                .map_err(|e| perr(n, format!("definition: {e}")))?;
            if computed != version {
                return Err(perr(
                    n,
                    format!(
                        "the definition's version is {computed}, not {version}: edited by hand? \
                         Regenerate the lockfile"
                    ),
                ));
            }
            let mut refs = Vec::new();
            ast::refs_of_def(&def, &mut refs);
            let mut meta = TypeMeta::default();
            let mut container = false;
            while let Some((m, l)) = lines.next_if(|(_, l)| l.starts_with("  meta")) {
                parse_meta(m, l, &mut meta, &mut container)?;
            }
            types.push((
                n,
                TypeEntry {
                    name,
                    version,
                    definition: definition.to_owned(),
                    meta,
                },
                refs,
            ));
        } else if line.starts_with("  meta") {
            return Err(perr(n, "a `meta` line belongs right after a `type` line"));
        } else {
            return Err(perr(
                n,
                "expected `model <label>`, `type <Name>@<version> = <definition>` or a comment",
            ));
        }
    }

    // Uniqueness and references.
    let mut labels: HashMap<&str, usize> = HashMap::new();
    for (n, m) in &models {
        if let Some(first) = labels.insert(&m.label, *n) {
            return Err(perr(
                *n,
                format!("model `{}` already defined on line {first}", m.label),
            ));
        }
    }
    let mut keys: HashMap<(&str, Version), usize> = HashMap::new();
    for (n, t, _) in &types {
        if let Some(first) = keys.insert((&t.name, t.version), *n) {
            return Err(perr(
                *n,
                format!(
                    "type `{}@{}` already defined on line {first}",
                    t.name, t.version
                ),
            ));
        }
    }
    let refs = root_refs
        .iter()
        .flat_map(|(n, r)| r.iter().map(move |r| (*n, r)))
        .chain(
            types
                .iter()
                .flat_map(|(n, _, r)| r.iter().map(move |r| (*n, r))),
        );
    for (n, r) in refs {
        if !keys.contains_key(&(r.name.as_str(), r.version)) {
            return Err(perr(
                n,
                format!("`{}@{}` has no `type` line", r.name, r.version.short()),
            ));
        }
    }

    let mut models: Vec<ModelEntry> = models.into_iter().map(|(_, m)| m).collect();
    models.sort_by(|a, b| a.label.cmp(&b.label));
    let mut types: Vec<TypeEntry> = types.into_iter().map(|(_, t, _)| t).collect();
    types.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    Ok(Lockfile { models, types })
}

fn check_label(n: usize, label: &str) -> Result<(), ParseError> {
    if label.is_empty() || label.trim() != label || label.chars().any(char::is_control) {
        return Err(perr(
            n,
            "a model label is the registered type, without leading or trailing spaces",
        ));
    }
    Ok(())
}

/// A name (bare or quoted) at the start of `s`; returns it and the bytes used.
fn parse_name_prefix(n: usize, s: &str) -> Result<(String, usize), ParseError> {
    let b = s.as_bytes();
    match b.first() {
        Some(b'"') => ast::unquote(b).map_err(|e| {
            perr(
                n,
                format!("expected {} at byte {} of the name", e.expected, e.offset),
            )
        }),
        Some(c) if *c == b'_' || c.is_ascii_alphabetic() => {
            let end = b
                .iter()
                .position(|c| !(*c == b'_' || c.is_ascii_alphanumeric()))
                .unwrap_or(b.len());
            Ok((s.get(..end).unwrap_or_default().to_owned(), end))
        }
        _ => Err(perr(
            n,
            "expected a name (an identifier or a quoted string)",
        )),
    }
}

fn parse_whole_name(n: usize, s: &str) -> Result<String, ParseError> {
    let (name, used) = parse_name_prefix(n, s)?;
    if used != s.len() {
        return Err(perr(n, "unexpected text after the name"));
    }
    Ok(name)
}

/// Splits a meta line into words, keeping quoted strings (which may hold spaces) whole.
fn words(n: usize, s: &str) -> Result<Vec<&str>, ParseError> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i] != b' ' {
            if b[i] == b'"' {
                let (_, used) = ast::unquote(&b[i..])
                    .map_err(|e| perr(n, format!("expected {} in a quoted name", e.expected)))?;
                i += used;
            } else {
                i += 1;
            }
        }
        if i == start {
            return Err(perr(n, "words are separated by one space"));
        }
        out.push(s.get(start..i).unwrap_or_default());
        i += 1;
        if i == b.len() {
            return Err(perr(n, "trailing space"));
        }
    }
    Ok(out)
}

fn parse_meta(
    n: usize,
    line: &str,
    meta: &mut TypeMeta,
    container: &mut bool,
) -> Result<(), ParseError> {
    let rest = line
        .strip_prefix("  meta ")
        .ok_or_else(|| perr(n, "expected `  meta <what>`"))?;
    let w = words(n, rest)?;
    let alias = |word: &str| -> Result<Option<String>, ParseError> {
        match word.strip_prefix("alias=") {
            Some(a) => parse_whole_name(n, a).map(Some),
            None => Ok(None),
        }
    };
    match w.first().copied() {
        Some("field") => {
            let member = w
                .get(1)
                .ok_or_else(|| perr(n, "expected the field after `field`"))?;
            let (variant, key) = parse_member(n, member)?;
            let mut entry = FieldMetaEntry {
                variant,
                key,
                default: false,
                skip_deserializing: false,
                aliases: Vec::new(),
                with_unstated: false,
            };
            for word in &w[2..] {
                match *word {
                    "default" => entry.default = true,
                    "skip_deserializing" => entry.skip_deserializing = true,
                    "with" => entry.with_unstated = true,
                    other => match alias(other)? {
                        Some(a) => entry.aliases.push(a),
                        None => return Err(perr(n, format!("unknown field flag `{other}`"))),
                    },
                }
            }
            if meta.field(entry.variant.as_deref(), &entry.key).is_some() {
                return Err(perr(n, "this field's meta is already given"));
            }
            meta.fields.push(entry);
        }
        Some("variant") => {
            let name = w
                .get(1)
                .ok_or_else(|| perr(n, "expected the variant after `variant`"))?;
            let mut entry = VariantMetaEntry {
                name: parse_whole_name(n, name)?,
                other: false,
                skip_deserializing: false,
                aliases: Vec::new(),
            };
            for word in &w[2..] {
                match *word {
                    "other" => entry.other = true,
                    "skip_deserializing" => entry.skip_deserializing = true,
                    other => match alias(other)? {
                        Some(a) => entry.aliases.push(a),
                        None => return Err(perr(n, format!("unknown variant flag `{other}`"))),
                    },
                }
            }
            if meta.variant(&entry.name).is_some() {
                return Err(perr(n, "this variant's meta is already given"));
            }
            meta.variants.push(entry);
        }
        _ => {
            if std::mem::replace(container, true) {
                return Err(perr(n, "the container meta is already given"));
            }
            for word in &w {
                match *word {
                    "default" => meta.default = true,
                    "deny_unknown_fields" => meta.deny_unknown_fields = true,
                    other => {
                        return Err(perr(
                            n,
                            format!(
                            "unknown meta `{other}` (expected `default`, `deny_unknown_fields`, \
                                 `field …` or `variant …`)"
                        ),
                        ))
                    }
                }
            }
        }
    }
    Ok(())
}

/// `[variant "."] (name | "#" index)`.
fn parse_member(n: usize, s: &str) -> Result<(Option<String>, FieldKey), ParseError> {
    let key = |s: &str| -> Result<FieldKey, ParseError> {
        if let Some(i) = s.strip_prefix('#') {
            i.parse::<usize>()
                .ok()
                .filter(|_| i.bytes().all(|c| c.is_ascii_digit()))
                .map(FieldKey::Index)
                .ok_or_else(|| perr(n, "expected `#<index>`"))
        } else {
            parse_whole_name(n, s).map(FieldKey::Name)
        }
    };
    if s.starts_with('#') {
        return Ok((None, key(s)?));
    }
    let (first, used) = parse_name_prefix(n, s)?;
    match s.get(used..).unwrap_or_default() {
        "" => Ok((None, FieldKey::Name(first))),
        rest => match rest.strip_prefix('.') {
            Some(field) => Ok((Some(first), key(field)?)),
            None => Err(perr(n, "expected `<field>` or `<variant>.<field>`")),
        },
    }
}
