//! The structural diff of two lockfiles and the compatibility classification of each change.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::rc::Rc;

use super::ast::{self, name_text, short_type, BodyAst, Def, FieldAst, Repr, TypeExpr, TypeRef};
use super::ast::{VariantAst, VariantKind};
use super::format::{FieldKey, Lockfile, ModelEntry, TypeEntry, TypeMeta};
use crate::version::Version;

/// The kind of codec the classification is made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum CodecKind {
    /// Self-describing and human-readable: JSON (`JsonCodec`). Fields and variants are read by
    /// name; `readable<human, compact>` types use their human form.
    #[default]
    Json,
    /// Self-describing and compact: MessagePack with structs as maps (`MsgPackCodec`). Read by
    /// name like JSON; `readable<…>` types use their compact form.
    MsgPack,
    /// Positional and compact: postcard (`PostcardCodec`), bincode, MessagePack with structs as
    /// arrays. Nothing is named on the wire: fields and variants are read by position.
    Positional,
}

impl CodecKind {
    /// Whether fields and variants are written by name.
    pub fn self_describing(self) -> bool {
        !matches!(self, CodecKind::Positional)
    }

    /// Whether the codec is human-readable (`Serializer::is_human_readable`).
    pub fn human_readable(self) -> bool {
        matches!(self, CodecKind::Json)
    }

    /// The name used on the command line (`json`, `msgpack`, `positional`).
    pub fn name(self) -> &'static str {
        match self {
            CodecKind::Json => "json",
            CodecKind::MsgPack => "msgpack",
            CodecKind::Positional => "positional",
        }
    }
}

impl fmt::Display for CodecKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A codec name that is not `json`, `msgpack` or `positional` (or `postcard`, `bincode`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCodec(pub String);

impl fmt::Display for UnknownCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown codec `{}` (expected json, msgpack, positional, postcard or bincode)",
            self.0
        )
    }
}

impl std::error::Error for UnknownCodec {}

impl core::str::FromStr for CodecKind {
    type Err = UnknownCodec;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "json" => Ok(CodecKind::Json),
            "msgpack" => Ok(CodecKind::MsgPack),
            "positional" | "postcard" | "bincode" => Ok(CodecKind::Positional),
            _ => Err(UnknownCodec(s.to_owned())),
        }
    }
}

/// Whether the old and the new build can read each other's values, for one change or a whole
/// model. "Backward" is Confluent's: the new build reads what the old build wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compatibility {
    /// Nothing that is written changed (reader-side metadata at most).
    Identical,
    /// Each build reads what the other wrote.
    Both,
    /// The new build reads old values; the old build cannot read new ones.
    BackwardOnly,
    /// The old build reads new values; the new build cannot read old ones.
    ForwardOnly,
    /// Neither reads the other's values (or the meaning changed: a manual bump).
    Breaking,
}

impl Compatibility {
    /// From the two directions.
    pub fn from_directions(backward: bool, forward: bool) -> Compatibility {
        match (backward, forward) {
            (true, true) => Compatibility::Both,
            (true, false) => Compatibility::BackwardOnly,
            (false, true) => Compatibility::ForwardOnly,
            (false, false) => Compatibility::Breaking,
        }
    }

    /// The new build reads old values.
    pub fn backward(self) -> bool {
        matches!(
            self,
            Compatibility::Identical | Compatibility::Both | Compatibility::BackwardOnly
        )
    }

    /// The old build reads new values.
    pub fn forward(self) -> bool {
        matches!(
            self,
            Compatibility::Identical | Compatibility::Both | Compatibility::ForwardOnly
        )
    }

    /// Both changes together.
    pub fn join(self, other: Compatibility) -> Compatibility {
        if self == Compatibility::Identical {
            return other;
        }
        if other == Compatibility::Identical {
            return self;
        }
        Compatibility::from_directions(
            self.backward() && other.backward(),
            self.forward() && other.forward(),
        )
    }

    /// `identical`, `compatible both ways`, `backward only`, `forward only`, `breaking`.
    pub fn label(self) -> &'static str {
        match self {
            Compatibility::Identical => "identical",
            Compatibility::Both => "compatible both ways",
            Compatibility::BackwardOnly => "backward only",
            Compatibility::ForwardOnly => "forward only",
            Compatibility::Breaking => "breaking",
        }
    }
}

impl fmt::Display for Compatibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What changed (the path is on [`Change`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChangeKind {
    /// The model is new.
    ModelAdded,
    /// The model is gone.
    ModelRemoved,
    /// The model was registered under another label; name and shape are the same.
    ModelRelabeled {
        /// The old label.
        from: String,
    },
    /// The model name used in keys changed.
    KeyNameChanged {
        /// Old name.
        from: String,
        /// New name.
        to: String,
    },
    /// A field was added.
    FieldAdded {
        /// The field (as written, or `#i` for a positional field).
        field: String,
        /// Its type.
        ty: String,
    },
    /// A field was removed.
    FieldRemoved {
        /// The field.
        field: String,
        /// Its type.
        ty: String,
    },
    /// A field was renamed: certain when an `alias` links the names, a guess (`renamed?`) when
    /// a removed and an added field sit at the same position with the same type.
    FieldRenamed {
        /// The old written name.
        from: String,
        /// The new written name.
        to: String,
        /// The (new) type.
        ty: String,
        /// Linked by an alias (not just by position and type).
        certain: bool,
    },
    /// A field is now written only sometimes (`skip_serializing_if`), or now always.
    FieldPresenceChanged {
        /// Whether it may now be absent.
        now_maybe_absent: bool,
    },
    /// The name the reader expects (`rename(deserialize = "...")`) changed.
    ReaderNameChanged {
        /// Old reader name.
        from: String,
        /// New reader name.
        to: String,
    },
    /// A type changed (`u32` to `u64`, `str` to `option<str>`, …).
    TypeChanged {
        /// Old type.
        from: String,
        /// New type.
        to: String,
    },
    /// A named type became another kind (struct to enum, …).
    KindChanged {
        /// Old kind.
        from: String,
        /// New kind.
        to: String,
    },
    /// An enum variant was added.
    VariantAdded {
        /// The variant.
        variant: String,
    },
    /// An enum variant was removed.
    VariantRemoved {
        /// The variant.
        variant: String,
    },
    /// An enum variant was renamed (see [`ChangeKind::FieldRenamed`] for `certain`).
    VariantRenamed {
        /// Old name.
        from: String,
        /// New name.
        to: String,
        /// Linked by an alias.
        certain: bool,
    },
    /// A variant changed style (unit, newtype, tuple, struct).
    VariantKindChanged {
        /// Old style.
        from: String,
        /// New style.
        to: String,
    },
    /// Variants kept their order but moved to other indices (positional codecs write them).
    VariantIndexShifted {
        /// `(variant, old index, new index)`.
        moved: Vec<(String, usize, usize)>,
    },
    /// The representation changed (enum tag/content/untagged, struct tag, variant untagged).
    ReprChanged {
        /// Old representation.
        from: String,
        /// New representation.
        to: String,
    },
    /// The order of fields or variants changed.
    OrderChanged {
        /// Old order.
        from: Vec<String>,
        /// New order.
        to: Vec<String>,
    },
    /// A manual `#[cache_version(bump = N)]` changed.
    BumpChanged {
        /// Old bump (0: none).
        from: u32,
        /// New bump.
        to: u32,
    },
    /// Reader-side metadata changed (not part of the version).
    MetaChanged {
        /// What changed.
        what: String,
    },
    /// The definition changed in a way the diff does not break down further.
    DefinitionChanged {
        /// Old text.
        from: String,
        /// New text.
        to: String,
    },
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChangeKind::ModelAdded => f.write_str("model added"),
            ChangeKind::ModelRemoved => f.write_str("model removed"),
            ChangeKind::ModelRelabeled { from } => write!(f, "registered as `{from}` before"),
            ChangeKind::KeyNameChanged { from, to } => {
                write!(f, "model name in keys changed: `{from}` → `{to}`")
            }
            ChangeKind::FieldAdded { field, ty } => write!(f, "field added: `{field}` ({ty})"),
            ChangeKind::FieldRemoved { field, ty } => {
                write!(f, "field removed: `{field}` ({ty})")
            }
            ChangeKind::FieldRenamed {
                from,
                to,
                ty,
                certain,
            } => {
                let q = if *certain { "" } else { "?" };
                write!(f, "field renamed{q}: `{from}` → `{to}` ({ty})")
            }
            ChangeKind::FieldPresenceChanged { now_maybe_absent } => {
                f.write_str(if *now_maybe_absent {
                    "field may now be absent (skip_serializing_if)"
                } else {
                    "field is now always written"
                })
            }
            ChangeKind::ReaderNameChanged { from, to } => {
                write!(f, "reader's name changed: `{from}` → `{to}`")
            }
            ChangeKind::TypeChanged { from, to } => write!(f, "type changed: {from} → {to}"),
            ChangeKind::KindChanged { from, to } => write!(f, "kind changed: {from} → {to}"),
            ChangeKind::VariantAdded { variant } => write!(f, "variant added: `{variant}`"),
            ChangeKind::VariantRemoved { variant } => write!(f, "variant removed: `{variant}`"),
            ChangeKind::VariantRenamed { from, to, certain } => {
                let q = if *certain { "" } else { "?" };
                write!(f, "variant renamed{q}: `{from}` → `{to}`")
            }
            ChangeKind::VariantKindChanged { from, to } => {
                write!(f, "variant style changed: {from} → {to}")
            }
            ChangeKind::VariantIndexShifted { moved } => {
                f.write_str("variant indices shifted: ")?;
                for (i, (v, a, b)) in moved.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "`{v}` {a} → {b}")?;
                }
                Ok(())
            }
            ChangeKind::ReprChanged { from, to } => {
                write!(f, "representation changed: {from} → {to}")
            }
            ChangeKind::OrderChanged { from, to } => {
                write!(f, "order changed: {} → {}", from.join(", "), to.join(", "))
            }
            ChangeKind::BumpChanged { from, to } => write!(f, "manual bump changed: {from} → {to}"),
            ChangeKind::MetaChanged { what } => write!(f, "reader metadata: {what}"),
            ChangeKind::DefinitionChanged { from, to } => {
                write!(f, "definition changed: {from} → {to}")
            }
        }
    }
}

/// One change, where it is, and what it means for the chosen codec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Where: `User.address.zip`, `Status::Active.since`, `Page<Item>.items[]`.
    pub path: String,
    /// For renames: the new path.
    pub new_path: Option<String>,
    /// What changed.
    pub kind: ChangeKind,
    /// Whether each build reads the other's values after this change.
    pub compat: Compatibility,
    /// Why, per direction.
    pub why: String,
}

impl Change {
    /// `path`, or `old path → new path` for renames.
    pub fn location(&self) -> String {
        match &self.new_path {
            Some(n) if *n != self.path => format!("{} → {n}", self.path),
            _ => self.path.clone(),
        }
    }
}

/// The changes of one model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelDiff {
    /// The model's label (as registered).
    pub label: String,
    /// The model name in keys (the new one, or the old one for a removed model).
    pub name: String,
    /// The old version (`None`: added).
    pub old: Option<Version>,
    /// The new version (`None`: removed).
    pub new: Option<Version>,
    /// The changes, in path order of discovery.
    pub changes: Vec<Change>,
    /// All changes together.
    pub compat: Compatibility,
}

impl ModelDiff {
    /// Whether the model's cache keys change (a new key space).
    pub fn keys_change(&self) -> bool {
        match (self.old, self.new) {
            (Some(a), Some(b)) => {
                a != b
                    || self
                        .changes
                        .iter()
                        .any(|c| matches!(c.kind, ChangeKind::KeyNameChanged { .. }))
            }
            _ => true,
        }
    }

    /// What the change means for a rolling deploy, in one paragraph.
    pub fn deploy_advice(&self) -> String {
        let n = &self.name;
        let old_struct = format!("{}V1", self.name.trim_matches('"'));
        let migrate = format!("`migrate_from::<{old_struct}, _>`");
        let dual = format!("`dual_write_to::<{old_struct}, _>`");
        match (self.old, self.new) {
            (None, _) => format!(
                "new model `{n}`: nothing is cached under it yet, and the old build does not use it."
            ),
            (_, None) => format!(
                "model `{n}` is gone: the new build no longer reads its entries; they expire with \
                 their TTL (or delete them with the cleanup job once the old build is gone)."
            ),
            (Some(_), Some(_)) if !self.keys_change() => format!(
                "identical: keys unchanged; the old and the new build share `{n}`'s entries."
            ),
            (Some(a), Some(b)) => {
                let head = if a == b {
                    format!(
                        "new key space for `{n}` (the model name changed, the shape did not): \
                         entries written by the old build will miss"
                    )
                } else {
                    format!(
                        "new key space for `{n}` (version {} → {}): entries written by the old \
                         build will miss",
                        a.short(),
                        b.short()
                    )
                };
                let tail = match self.compat {
                    Compatibility::Identical | Compatibility::Both => format!(
                        " unless you register {migrate} (the old struct kept as `{old_struct}` with \
                         `#[cache_version(name = \"{n}\")]`). The shapes read each other, so the \
                         conversion is a plain copy, {dual} keeps old instances warm, and a \
                         rollback is safe."
                    ),
                    Compatibility::BackwardOnly => format!(
                        " unless you register {migrate}; the new build understands old values, \
                         so the conversion is plain. The old build cannot read the new shape: \
                         {dual} must convert back, and a rollback without it starts cold."
                    ),
                    Compatibility::ForwardOnly => format!(
                        " unless you register {migrate} with an explicit conversion: the new \
                         build cannot read old values as they are (the old build can read the new \
                         shape, so {dual} is a plain copy)."
                    ),
                    Compatibility::Breaking => format!(
                        " unless you register {migrate} with an explicit conversion; neither \
                         build reads the other's values, so expect a cold `{n}` cache during the \
                         rollout otherwise."
                    ),
                };
                head + &tail
            }
        }
    }
}

/// The whole diff of two lockfiles for one codec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The codec the classification is for.
    pub codec: CodecKind,
    /// The models that differ, by label.
    pub models: Vec<ModelDiff>,
    /// How many models are the same in both.
    pub unchanged: usize,
}

impl Report {
    /// All models together.
    pub fn compat(&self) -> Compatibility {
        self.models
            .iter()
            .fold(Compatibility::Identical, |c, m| c.join(m.compat))
    }

    /// Whether nothing differs at all.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    /// The diff of one model.
    pub fn model(&self, label: &str) -> Option<&ModelDiff> {
        self.models.iter().find(|m| m.label == label)
    }
}

/// Diffs two lockfiles, classifying every change for `codec`.
pub fn diff(old: &Lockfile, new: &Lockfile, codec: CodecKind) -> Report {
    let mut ctx = Ctx {
        old: Side::new(old),
        new: Side::new(new),
        codec,
        meta_dirty: meta_dirty(old, new),
        seen: HashSet::new(),
        out: Vec::new(),
        memo: HashMap::new(),
    };
    let mut models = Vec::new();
    let mut unchanged = 0;
    let mut added: Vec<&ModelEntry> = Vec::new();
    let mut removed: Vec<&ModelEntry> = Vec::new();
    for m in &old.models {
        if new.model(&m.label).is_none() {
            removed.push(m);
        }
    }
    for n in &new.models {
        let Some(o) = old.model(&n.label) else {
            added.push(n);
            continue;
        };
        match ctx.model(o, n) {
            Some(d) => models.push(d),
            None => unchanged += 1,
        }
    }
    // A label that disappeared while another with the same name and version appeared: the
    // same model registered under another path.
    for n in added {
        let relabeled = removed
            .iter()
            .position(|o| o.version == n.version && o.name == n.name);
        if let Some(i) = relabeled {
            let o = removed.remove(i);
            models.push(ModelDiff {
                label: n.label.clone(),
                name: n.name.clone(),
                old: Some(o.version),
                new: Some(n.version),
                changes: vec![Change {
                    path: n.label.clone(),
                    new_path: None,
                    kind: ChangeKind::ModelRelabeled {
                        from: o.label.clone(),
                    },
                    compat: Compatibility::Identical,
                    why: "same model name and shape: keys unchanged".into(),
                }],
                compat: Compatibility::Identical,
            });
            continue;
        }
        models.push(ModelDiff {
            label: n.label.clone(),
            name: n.name.clone(),
            old: None,
            new: Some(n.version),
            changes: vec![Change {
                path: n.label.clone(),
                new_path: None,
                kind: ChangeKind::ModelAdded,
                compat: Compatibility::Both,
                why: "nothing was cached under it before".into(),
            }],
            compat: Compatibility::Both,
        });
    }
    for o in removed {
        models.push(ModelDiff {
            label: o.label.clone(),
            name: o.name.clone(),
            old: Some(o.version),
            new: None,
            changes: vec![Change {
                path: o.label.clone(),
                new_path: None,
                kind: ChangeKind::ModelRemoved,
                compat: Compatibility::Both,
                why: "the new build no longer uses it".into(),
            }],
            compat: Compatibility::Both,
        });
    }
    models.sort_by(|a, b| a.label.cmp(&b.label));
    Report {
        codec,
        models,
        unchanged,
    }
}

/// Whether any type present in both files (same name and version) records different metadata.
fn meta_dirty(old: &Lockfile, new: &Lockfile) -> bool {
    new.types.iter().any(|t| {
        old.type_entry(&t.name, &t.version)
            .is_some_and(|o| o.meta != t.meta)
    })
}

struct Side<'a> {
    lock: &'a Lockfile,
    parsed: HashMap<(String, Version), Option<Rc<Def>>>,
}

impl<'a> Side<'a> {
    fn new(lock: &'a Lockfile) -> Self {
        Side {
            lock,
            parsed: HashMap::new(),
        }
    }

    fn get(&mut self, r: &TypeRef) -> Option<(Rc<Def>, &'a TypeEntry)> {
        let entry = self.lock.type_entry(&r.name, &r.version)?;
        let def = self
            .parsed
            .entry((r.name.clone(), r.version))
            .or_insert_with(|| ast::parse_definition(&entry.definition).ok().map(Rc::new))
            .clone()?;
        Some((def, entry))
    }
}

/// Where a field lives, for its metadata.
#[derive(Clone, Copy)]
struct Holder<'m> {
    meta: &'m TypeMeta,
    variant: Option<&'m str>,
}

impl Holder<'_> {
    fn field_key(&self, i: usize, f: &FieldAst) -> FieldKey {
        if f.flatten || f.name.is_empty() {
            FieldKey::Index(i)
        } else {
            FieldKey::Name(f.name.clone())
        }
    }

    /// The reader fills the field in when it is missing: `default` (field or container),
    /// `skip_deserializing`, or an `Option` (serde reads a missing `Option<T>` as `None`).
    fn lenient(&self, i: usize, f: &FieldAst) -> Option<&'static str> {
        let m = self.meta.field(self.variant, &self.field_key(i, f));
        if self.variant.is_none() && self.meta.default {
            Some("the container's `default` fills it in")
        } else if m.is_some_and(|m| m.default) {
            Some("its `default` fills it in")
        } else if m.is_some_and(|m| m.skip_deserializing) {
            Some("the reader skips it (`skip_deserializing`)")
        } else if matches!(f.ty, TypeExpr::Option(_)) {
            Some("a missing Option reads as None")
        } else {
            None
        }
    }

    /// The names the reader accepts for the field.
    fn accepts(&self, i: usize, f: &FieldAst, name: &str) -> bool {
        f.de_name == name
            || self
                .meta
                .field(self.variant, &self.field_key(i, f))
                .is_some_and(|m| m.aliases.iter().any(|a| a == name))
    }

    fn denies_unknown(&self) -> bool {
        self.meta.deny_unknown_fields
    }
}

/// What comparing two definitions produces: its own changes (paths relative to the pair),
/// and the pairs of nested named types to compare next.
enum Item {
    Change(Change),
    Child(String, TypeRef, TypeRef),
}

type Pair = (TypeRef, TypeRef);

struct Ctx<'a> {
    old: Side<'a>,
    new: Side<'a>,
    codec: CodecKind,
    meta_dirty: bool,
    /// The pairs already expanded for the current model (a shared type is reported once, at
    /// its first path).
    seen: HashSet<Pair>,
    /// Where comparisons push their items.
    out: Vec<Item>,
    /// Each pair's own items, computed once for all models.
    memo: HashMap<Pair, Rc<Vec<Item>>>,
}

fn yes_no(ok: bool) -> &'static str {
    if ok {
        "yes"
    } else {
        "no"
    }
}

fn why2(backward: bool, bwhy: &str, forward: bool, fwhy: &str) -> String {
    format!(
        "new reads old: {} ({bwhy}); old reads new: {} ({fwhy})",
        yes_no(backward),
        yes_no(forward)
    )
}

const POSITIONAL: &str = "a positional codec reads fields by position, so the layouts disagree";

impl<'a> Ctx<'a> {
    fn push(
        &mut self,
        path: &str,
        kind: ChangeKind,
        compat: Compatibility,
        why: impl Into<String>,
    ) {
        self.out.push(Item::Change(Change {
            path: path.to_owned(),
            new_path: None,
            kind,
            compat,
            why: why.into(),
        }));
    }

    /// The items of a pair of named types: memoized, so a type shared by many models is
    /// compared once per diff.
    fn pair_items(&mut self, pair: &Pair) -> Rc<Vec<Item>> {
        if let Some(items) = self.memo.get(pair) {
            return items.clone();
        }
        let saved = std::mem::take(&mut self.out);
        self.compare_defs("", &pair.0, &pair.1);
        let items = Rc::new(std::mem::replace(&mut self.out, saved));
        self.memo.insert(pair.clone(), items.clone());
        items
    }

    /// Flattens items into the model's changes, following child pairs depth-first (with an
    /// explicit stack: reference chains can be long), each pair once.
    fn expand(&mut self, items: Vec<Item>) -> Vec<Change> {
        let mut changes = Vec::new();
        let mut stack: Vec<(String, Rc<Vec<Item>>, usize)> =
            vec![(String::new(), Rc::new(items), 0)];
        while let Some((prefix, items, i)) = stack.pop() {
            let Some(item) = items.get(i) else { continue };
            stack.push((prefix.clone(), items.clone(), i + 1));
            match item {
                Item::Change(c) => {
                    let mut c = c.clone();
                    c.path = format!("{prefix}{}", c.path);
                    c.new_path = c.new_path.map(|p| format!("{prefix}{p}"));
                    changes.push(c);
                }
                Item::Child(rel, a, b) => {
                    let pair = (a.clone(), b.clone());
                    if self.seen.insert(pair.clone()) {
                        let child = self.pair_items(&pair);
                        stack.push((format!("{prefix}{rel}"), child, 0));
                    }
                }
            }
        }
        changes
    }

    fn model(&mut self, o: &ModelEntry, n: &ModelEntry) -> Option<ModelDiff> {
        if o.version == n.version && o.name == n.name && !self.meta_dirty {
            return None;
        }
        self.seen.clear();
        self.out.clear();
        let path = n.label.clone();
        if o.name != n.name {
            self.push(
                &path,
                ChangeKind::KeyNameChanged {
                    from: o.name.clone(),
                    to: n.name.clone(),
                },
                Compatibility::Both,
                "the model name is part of every key",
            );
        }
        match (
            ast::parse_definition(&o.root),
            ast::parse_definition(&n.root),
        ) {
            (Ok(Def::Type(a)), Ok(Def::Type(b))) => self.ty(&path, &a, &b),
            _ => self.push(
                &path,
                ChangeKind::DefinitionChanged {
                    from: short_type(&o.root),
                    to: short_type(&n.root),
                },
                Compatibility::Breaking,
                "the root cannot be compared",
            ),
        }
        let items = std::mem::take(&mut self.out);
        let mut changes = self.expand(items);
        if o.version != n.version
            && !changes.iter().any(|c| {
                !matches!(
                    c.kind,
                    ChangeKind::MetaChanged { .. } | ChangeKind::KeyNameChanged { .. }
                )
            })
        {
            changes.push(Change {
                path: path.clone(),
                new_path: None,
                kind: ChangeKind::DefinitionChanged {
                    from: short_type(&o.root),
                    to: short_type(&n.root),
                },
                compat: Compatibility::Breaking,
                why: "the version changed in a way this diff does not break down; assumed breaking"
                    .into(),
            });
        }
        if changes.is_empty() {
            return None;
        }
        let compat = changes
            .iter()
            .fold(Compatibility::Identical, |c, x| c.join(x.compat));
        Some(ModelDiff {
            label: n.label.clone(),
            name: n.name.clone(),
            old: Some(o.version),
            new: Some(n.version),
            changes,
            compat,
        })
    }

    /// Compares two type expressions at `path`.
    fn ty(&mut self, path: &str, o: &TypeExpr, n: &TypeExpr) {
        use TypeExpr as T;
        match (o, n) {
            (T::Ref(a), T::Ref(b)) => self.refs(path, a, b),
            (T::Readable(..), _) | (_, T::Readable(..)) => {
                // Compare the form this codec writes; a change in the other form only moves
                // the key space.
                let human = self.codec.human_readable();
                let (o_used, o_other) = readable_forms(o, human);
                let (n_used, n_other) = readable_forms(n, human);
                if o_other != n_other {
                    let form = if human { "compact" } else { "human-readable" };
                    self.push(
                        path,
                        ChangeKind::TypeChanged {
                            from: type_text(o),
                            to: type_text(n),
                        },
                        Compatibility::Both,
                        format!("only the {form} form changed, which this codec does not write"),
                    );
                }
                self.ty(path, o_used, n_used);
            }
            (T::Ref(a), other) | (other, T::Ref(a)) => {
                let new = matches!(n, T::Ref(_));
                match self.newtype_inner(new, a) {
                    Some(inner) => {
                        self.push(
                            path,
                            ChangeKind::TypeChanged {
                                from: type_text(o),
                                to: type_text(n),
                            },
                            Compatibility::Both,
                            format!(
                                "`{}` is a newtype struct, which every codec of this library \
                                 writes as its content",
                                name_text(&a.name)
                            ),
                        );
                        if new {
                            self.ty(path, other, &inner);
                        } else {
                            self.ty(path, &inner, other);
                        }
                    }
                    None => self.type_changed(path, o, n),
                }
            }
            (T::Option(a), T::Option(b)) => self.ty(path, a, b),
            (T::Seq(a), T::Seq(b)) => self.ty(&format!("{path}[]"), a, b),
            (T::Map(k1, v1), T::Map(k2, v2)) => {
                self.ty(&format!("{path}{{key}}"), k1, k2);
                self.ty(&format!("{path}{{}}"), v1, v2);
            }
            (T::Proxy(w1, r1), T::Proxy(w2, r2)) => {
                self.ty(&format!("{path}(write)"), w1, w2);
                self.ty(&format!("{path}(read)"), r1, r2);
            }
            (T::Tuple(a), T::Tuple(b)) if tuple_len(a) == tuple_len(b) => {
                // Walk both run lists in step, comparing each aligned segment once.
                let (mut i, mut j, mut used_a, mut used_b, mut at) = (0, 0, 0u64, 0u64, 0u128);
                while let (Some((x, nx)), Some((y, ny))) = (a.get(i), b.get(j)) {
                    let len = (nx - used_a).min(ny - used_b);
                    let seg = if len == 1 {
                        format!("{path}.{at}")
                    } else {
                        format!("{path}.{at}..{}", at + u128::from(len) - 1)
                    };
                    self.ty(&seg, x, y);
                    at += u128::from(len);
                    used_a += len;
                    used_b += len;
                    if used_a == *nx {
                        (i, used_a) = (i + 1, 0);
                    }
                    if used_b == *ny {
                        (j, used_b) = (j + 1, 0);
                    }
                }
            }
            (T::Leaf(a), T::Leaf(b)) if a == b => {}
            (T::Opaque(a), T::Opaque(b)) if a == b => {}
            _ => self.type_changed(path, o, n),
        }
    }

    /// The content of a newtype struct (written as its content by every codec this library
    /// ships), when `r` is one.
    fn newtype_inner(&mut self, new: bool, r: &TypeRef) -> Option<TypeExpr> {
        let side = if new { &mut self.new } else { &mut self.old };
        let (def, _) = side.get(r)?;
        match &*def {
            Def::Body {
                bump: 0,
                body: BodyAst::Newtype(inner),
            } => Some(inner.clone()),
            _ => None,
        }
    }

    fn type_changed(&mut self, path: &str, o: &TypeExpr, n: &TypeExpr) {
        let from = type_text(o);
        let to = type_text(n);
        let (compat, why) = self.classify_type_change(o, n);
        self.push(path, ChangeKind::TypeChanged { from, to }, compat, why);
    }

    fn classify_type_change(&self, o: &TypeExpr, n: &TypeExpr) -> (Compatibility, String) {
        if !self.codec.self_describing() {
            return (
                Compatibility::Breaking,
                "a positional codec has no type information: the bytes no longer match".into(),
            );
        }
        if let TypeExpr::Option(inner) = n {
            if **inner == *o {
                return (
                    Compatibility::BackwardOnly,
                    why2(
                        true,
                        "an Option reads a plain value as Some",
                        false,
                        "the old build rejects null",
                    ),
                );
            }
        }
        if let TypeExpr::Option(inner) = o {
            if **inner == *n {
                return (
                    Compatibility::ForwardOnly,
                    why2(
                        false,
                        "the new build rejects old nulls",
                        true,
                        "an Option reads a plain value as Some",
                    ),
                );
            }
        }
        if let (TypeExpr::Leaf(a), TypeExpr::Leaf(b)) = (o, n) {
            let back = widens(a, b);
            let fwd = widens(b, a);
            if back || fwd {
                return (
                    Compatibility::from_directions(back, fwd),
                    why2(
                        back,
                        if back {
                            "every old value fits"
                        } else {
                            "old values may not fit"
                        },
                        fwd,
                        if fwd {
                            "every new value fits"
                        } else {
                            "new values may not fit"
                        },
                    ),
                );
            }
        }
        (Compatibility::Breaking, "the written types differ".into())
    }

    /// A pair of references: compared later, once (see [`Ctx::pair_items`]).
    fn refs(&mut self, path: &str, a: &TypeRef, b: &TypeRef) {
        if a == b && !self.meta_dirty {
            return;
        }
        self.out
            .push(Item::Child(path.to_owned(), a.clone(), b.clone()));
    }

    /// Compares the definitions of two named types at `path`.
    fn compare_defs(&mut self, path: &str, a: &TypeRef, b: &TypeRef) {
        let (Some((od, oe)), Some((nd, ne))) = (self.old.get(a), self.new.get(b)) else {
            self.push(
                path,
                ChangeKind::DefinitionChanged {
                    from: format!("{}@{}", a.name, a.version.short()),
                    to: format!("{}@{}", b.name, b.version.short()),
                },
                Compatibility::Breaking,
                "a definition is missing or unreadable",
            );
            return;
        };
        let (Def::Body { bump: ob, body: o }, Def::Body { bump: nb, body: n }) = (&*od, &*nd)
        else {
            return;
        };
        self.meta(path, &oe.meta, &ne.meta, o, n);
        if ob != nb {
            self.push(
                path,
                ChangeKind::BumpChanged { from: *ob, to: *nb },
                Compatibility::Breaking,
                "a manual bump marks a change of meaning: old values decode but mean something else",
            );
        }
        let (om, nm) = (&oe.meta, &ne.meta);
        match (o, n) {
            (BodyAst::UnitStruct, BodyAst::UnitStruct) => {}
            (BodyAst::Newtype(x), BodyAst::Newtype(y)) => self.ty(path, x, y),
            (BodyAst::TupleStruct(x), BodyAst::TupleStruct(y)) => self.positional(path, x, y),
            (
                BodyAst::Struct {
                    tag: t1,
                    fields: f1,
                },
                BodyAst::Struct {
                    tag: t2,
                    fields: f2,
                },
            ) => {
                if t1 != t2 {
                    let show = |t: &Option<(String, String)>| match t {
                        None => "untagged struct".to_owned(),
                        Some((t, n)) => format!("tag {t:?} = {n:?}"),
                    };
                    self.push(
                        path,
                        ChangeKind::ReprChanged {
                            from: show(t1),
                            to: show(t2),
                        },
                        Compatibility::Breaking,
                        "the struct's tag is written",
                    );
                }
                let oh = Holder {
                    meta: om,
                    variant: None,
                };
                let nh = Holder {
                    meta: nm,
                    variant: None,
                };
                self.named_fields(path, f1, f2, oh, nh);
            }
            (
                BodyAst::Enum {
                    repr: r1,
                    variants: v1,
                },
                BodyAst::Enum {
                    repr: r2,
                    variants: v2,
                },
            ) => {
                if r1 != r2 {
                    self.push(
                        path,
                        ChangeKind::ReprChanged {
                            from: r1.to_string(),
                            to: r2.to_string(),
                        },
                        Compatibility::Breaking,
                        "the enum's representation is written",
                    );
                }
                self.variants(path, v1, v2, r2, om, nm);
            }
            _ => self.push(
                path,
                ChangeKind::KindChanged {
                    from: o.kind_name().into(),
                    to: n.kind_name().into(),
                },
                Compatibility::Breaking,
                "a different kind of value is written",
            ),
        }
    }

    /// Reader-side metadata changes of the fields and variants present on both sides (those
    /// of added, removed or renamed ones are part of that change's classification).
    fn meta(&mut self, path: &str, o: &TypeMeta, n: &TypeMeta, ob: &BodyAst, nb: &BodyAst) {
        if o == n {
            return;
        }
        let mut out: Vec<(String, String)> = Vec::new();
        let flag = |out: &mut Vec<(String, String)>, at: &str, name: &str, a: bool, b: bool| {
            if a != b {
                let verb = if b { "added" } else { "removed" };
                out.push((at.to_owned(), format!("{verb} `{name}`")));
            }
        };
        let aliases = |out: &mut Vec<(String, String)>, at: &str, a: &[String], b: &[String]| {
            for x in b.iter().filter(|x| !a.contains(x)) {
                out.push((at.to_owned(), format!("added alias `{x}`")));
            }
            for x in a.iter().filter(|x| !b.contains(x)) {
                out.push((at.to_owned(), format!("removed alias `{x}`")));
            }
        };
        flag(&mut out, path, "default", o.default, n.default);
        flag(
            &mut out,
            path,
            "deny_unknown_fields",
            o.deny_unknown_fields,
            n.deny_unknown_fields,
        );
        let ok = member_keys(ob);
        let nk = member_keys(nb);
        for (variant, key, at) in nk.iter().filter(|k| ok.contains(k)) {
            let at = format!("{path}{at}");
            match key {
                None => {
                    let (a, b) = (o.variant(variant), n.variant(variant));
                    flag(
                        &mut out,
                        &at,
                        "other",
                        a.is_some_and(|x| x.other),
                        b.is_some_and(|x| x.other),
                    );
                    flag(
                        &mut out,
                        &at,
                        "skip_deserializing",
                        a.is_some_and(|x| x.skip_deserializing),
                        b.is_some_and(|x| x.skip_deserializing),
                    );
                    aliases(
                        &mut out,
                        &at,
                        a.map_or(&[], |x| &x.aliases),
                        b.map_or(&[], |x| &x.aliases),
                    );
                }
                Some(key) => {
                    let v = (!variant.is_empty()).then_some(variant.as_str());
                    let (a, b) = (o.field(v, key), n.field(v, key));
                    flag(
                        &mut out,
                        &at,
                        "default",
                        a.is_some_and(|x| x.default),
                        b.is_some_and(|x| x.default),
                    );
                    flag(
                        &mut out,
                        &at,
                        "skip_deserializing",
                        a.is_some_and(|x| x.skip_deserializing),
                        b.is_some_and(|x| x.skip_deserializing),
                    );
                    flag(
                        &mut out,
                        &at,
                        "with (unstated custom code)",
                        a.is_some_and(|x| x.with_unstated),
                        b.is_some_and(|x| x.with_unstated),
                    );
                    aliases(
                        &mut out,
                        &at,
                        a.map_or(&[], |x| &x.aliases),
                        b.map_or(&[], |x| &x.aliases),
                    );
                }
            }
        }
        for (at, what) in out {
            self.push(
                &at,
                ChangeKind::MetaChanged { what },
                Compatibility::Identical,
                "reader-side only: nothing written changes (it is used to classify the other changes)",
            );
        }
    }

    /// Positional fields (tuple structs, tuple and newtype variants).
    fn positional(&mut self, path: &str, o: &[FieldAst], n: &[FieldAst]) {
        for (i, (a, b)) in o.iter().zip(n).enumerate() {
            let p = format!("{path}.{i}");
            self.common_field_bits(&p, a, b, None, false);
            self.ty(&p, &a.ty, &b.ty);
        }
        let why = "a tuple is written with its length; readers reject any other length";
        for (i, f) in o.iter().enumerate().skip(n.len()) {
            self.push(
                &format!("{path}.{i}"),
                ChangeKind::FieldRemoved {
                    field: format!("#{i}"),
                    ty: short_type(&f.ty_text),
                },
                Compatibility::Breaking,
                why,
            );
        }
        for (i, f) in n.iter().enumerate().skip(o.len()) {
            self.push(
                &format!("{path}.{i}"),
                ChangeKind::FieldAdded {
                    field: format!("#{i}"),
                    ty: short_type(&f.ty_text),
                },
                Compatibility::Breaking,
                why,
            );
        }
    }

    /// Bump and presence changes of a field present on both sides. `holders` gives the
    /// metadata for named fields (`(old index, new index, old holder, new holder)`).
    fn common_field_bits(
        &mut self,
        path: &str,
        a: &FieldAst,
        b: &FieldAst,
        holders: Option<(usize, usize, Holder<'_>, Holder<'_>)>,
        reader_name: bool,
    ) {
        if a.bump != b.bump {
            self.push(
                path,
                ChangeKind::BumpChanged {
                    from: a.bump,
                    to: b.bump,
                },
                Compatibility::Breaking,
                "a manual bump marks a change of meaning: old values decode but mean something else",
            );
        }
        if a.maybe_absent != b.maybe_absent {
            let (compat, why) = match holders {
                _ if !self.codec.self_describing() => (
                    Compatibility::Breaking,
                    "a positional codec cannot skip a field".to_owned(),
                ),
                None => (
                    Compatibility::Breaking,
                    "a tuple is written with its length".to_owned(),
                ),
                Some((oi, ni, oh, nh)) => {
                    if b.maybe_absent {
                        let fwd = oh.lenient(oi, a);
                        (
                            Compatibility::from_directions(true, fwd.is_some()),
                            why2(
                                true,
                                "old values always have it",
                                fwd.is_some(),
                                fwd.unwrap_or("the old build requires it"),
                            ),
                        )
                    } else {
                        let back = nh.lenient(ni, b);
                        (
                            Compatibility::from_directions(back.is_some(), true),
                            why2(
                                back.is_some(),
                                back.unwrap_or(
                                    "old values may lack it and the new build requires it",
                                ),
                                true,
                                "new values always have it",
                            ),
                        )
                    }
                }
            };
            self.push(
                path,
                ChangeKind::FieldPresenceChanged {
                    now_maybe_absent: b.maybe_absent,
                },
                compat,
                why,
            );
        }
        if let (Some((oi, ni, oh, nh)), true) = (holders, reader_name) {
            if a.de_name != b.de_name {
                let (compat, why) = if self.codec.self_describing() {
                    let back = nh.accepts(ni, b, &a.name) || nh.lenient(ni, b).is_some();
                    let fwd = oh.accepts(oi, a, &b.name) || oh.lenient(oi, a).is_some();
                    (
                        Compatibility::from_directions(back, fwd),
                        why2(
                            back,
                            "the new reader's names and leniency",
                            fwd,
                            "the old reader's names and leniency",
                        ),
                    )
                } else {
                    (
                        Compatibility::Both,
                        "a positional codec writes no names".to_owned(),
                    )
                };
                self.push(
                    path,
                    ChangeKind::ReaderNameChanged {
                        from: a.de_name.clone(),
                        to: b.de_name.clone(),
                    },
                    compat,
                    why,
                );
            }
        }
    }

    /// Named fields (structs and struct variants).
    fn named_fields(
        &mut self,
        path: &str,
        o: &[FieldAst],
        n: &[FieldAst],
        oh: Holder<'_>,
        nh: Holder<'_>,
    ) {
        // Keys: the written name, or the k-th flattened field.
        let keys = |fields: &[FieldAst]| -> Vec<String> {
            let mut k = 0;
            fields
                .iter()
                .map(|f| {
                    if f.flatten {
                        k += 1;
                        format!("(flatten #{})", k - 1)
                    } else {
                        name_text(&f.name)
                    }
                })
                .collect()
        };
        let ok = keys(o);
        let nk = keys(n);
        let oi: HashMap<&str, usize> = ok
            .iter()
            .enumerate()
            .map(|(i, k)| (k.as_str(), i))
            .collect();
        let ni: HashMap<&str, usize> = nk
            .iter()
            .enumerate()
            .map(|(i, k)| (k.as_str(), i))
            .collect();
        let mut removed: Vec<usize> = (0..o.len())
            .filter(|i| !ni.contains_key(ok[*i].as_str()))
            .collect();
        let mut added: Vec<usize> = (0..n.len())
            .filter(|i| !oi.contains_key(nk[*i].as_str()))
            .collect();

        // Renames: linked by an alias first, then by position and type.
        let mut renames: Vec<(usize, usize, bool)> = Vec::new();
        for pass in 0..2 {
            let mut j = 0;
            while j < added.len() {
                let bi = added[j];
                let b = &n[bi];
                let hit = removed.iter().position(|&ai| {
                    let a = &o[ai];
                    if a.flatten || b.flatten {
                        return false;
                    }
                    if pass == 0 {
                        nh.accepts(bi, b, &a.name) || oh.accepts(ai, a, &b.name)
                    } else {
                        ai == bi && a.ty_text == b.ty_text
                    }
                });
                if let Some(r) = hit {
                    renames.push((removed.remove(r), bi, pass == 0));
                    added.remove(j);
                } else {
                    j += 1;
                }
            }
        }

        // Fields on both sides.
        for (i, a) in o.iter().enumerate() {
            if let Some(&j) = ni.get(ok[i].as_str()) {
                let b = &n[j];
                let p = format!("{path}.{}", ok[i]);
                self.common_field_bits(&p, a, b, Some((i, j, oh, nh)), true);
                self.ty(&p, &a.ty, &b.ty);
            }
        }
        for &(ai, bi, certain) in &renames {
            let (a, b) = (&o[ai], &n[bi]);
            let from_path = format!("{path}.{}", ok[ai]);
            let to_path = format!("{path}.{}", nk[bi]);
            let (compat, why) = if !self.codec.self_describing() {
                if ai == bi {
                    (
                        Compatibility::Both,
                        "a positional codec writes no names, and the position is the same"
                            .to_owned(),
                    )
                } else {
                    (Compatibility::Breaking, POSITIONAL.to_owned())
                }
            } else {
                let back_alias = nh.accepts(bi, b, &a.name);
                let back_len = nh.lenient(bi, b);
                let back = back_alias || (back_len.is_some() && !nh.denies_unknown());
                let fwd_alias = oh.accepts(ai, a, &b.name);
                let fwd_len = oh.lenient(ai, a);
                let fwd = fwd_alias || (fwd_len.is_some() && !oh.denies_unknown());
                let bw = if back_alias {
                    format!("the new reader accepts `{}`", a.name)
                } else if back {
                    format!(
                        "`{}` is missing but {}; the old `{}` value is dropped",
                        b.name,
                        back_len.unwrap_or_default(),
                        a.name
                    )
                } else if back_len.is_some() {
                    format!("the unknown `{}` is rejected (deny_unknown_fields)", a.name)
                } else {
                    format!(
                        "`{}` is missing from old values (not an Option, no `default`, no `alias = \"{}\"`)",
                        b.name, a.name
                    )
                };
                let fw = if fwd_alias {
                    format!("the old reader accepts `{}`", b.name)
                } else if fwd {
                    format!(
                        "`{}` is missing but {}",
                        a.name,
                        fwd_len.unwrap_or_default()
                    )
                } else if fwd_len.is_some() {
                    format!("the unknown `{}` is rejected (deny_unknown_fields)", b.name)
                } else {
                    format!(
                        "`{}` is missing from new values and the old build requires it",
                        a.name
                    )
                };
                (
                    Compatibility::from_directions(back, fwd),
                    why2(back, &bw, fwd, &fw),
                )
            };
            self.out.push(Item::Change(Change {
                path: from_path,
                new_path: Some(to_path.clone()),
                kind: ChangeKind::FieldRenamed {
                    from: a.name.clone(),
                    to: b.name.clone(),
                    ty: short_type(&b.ty_text),
                    certain,
                },
                compat,
                why,
            }));
            self.common_field_bits(&to_path, a, b, Some((ai, bi, oh, nh)), false);
            self.ty(&to_path, &a.ty, &b.ty);
        }
        for &ai in &removed {
            let a = &o[ai];
            let (compat, why) = if !self.codec.self_describing() {
                (Compatibility::Breaking, POSITIONAL.to_owned())
            } else {
                let back = !nh.denies_unknown();
                let fwd = oh.lenient(ai, a);
                (
                    Compatibility::from_directions(back, fwd.is_some()),
                    why2(
                        back,
                        if back {
                            "the unknown field in old values is ignored"
                        } else {
                            "the new build rejects unknown fields (deny_unknown_fields)"
                        },
                        fwd.is_some(),
                        fwd.unwrap_or("new values lack it and the old build requires it"),
                    ),
                )
            };
            self.push(
                &format!("{path}.{}", ok[ai]),
                ChangeKind::FieldRemoved {
                    field: ok[ai].clone(),
                    ty: short_type(&a.ty_text),
                },
                compat,
                why,
            );
        }
        for &bi in &added {
            let b = &n[bi];
            let (compat, why) = if !self.codec.self_describing() {
                (Compatibility::Breaking, POSITIONAL.to_owned())
            } else {
                let back = nh.lenient(bi, b);
                let fwd = !oh.denies_unknown();
                (
                    Compatibility::from_directions(back.is_some(), fwd),
                    why2(
                        back.is_some(),
                        back.unwrap_or(
                            "old values lack it and it is required (not an Option, no `default`)",
                        ),
                        fwd,
                        if fwd {
                            "the old build ignores the unknown field"
                        } else {
                            "the old build rejects unknown fields (deny_unknown_fields)"
                        },
                    ),
                )
            };
            self.push(
                &format!("{path}.{}", nk[bi]),
                ChangeKind::FieldAdded {
                    field: nk[bi].clone(),
                    ty: short_type(&b.ty_text),
                },
                compat,
                why,
            );
        }

        // Order of the fields kept (renamed ones under their new names).
        let rename_of: HashMap<usize, usize> = renames.iter().map(|&(a, b, _)| (a, b)).collect();
        let old_order: Vec<String> = (0..o.len())
            .filter_map(|i| {
                ni.get(ok[i].as_str())
                    .copied()
                    .or_else(|| rename_of.get(&i).copied())
            })
            .map(|j| nk[j].clone())
            .collect();
        let kept: HashSet<&String> = old_order.iter().collect();
        let new_order: Vec<String> = nk.iter().filter(|k| kept.contains(k)).cloned().collect();
        if old_order != new_order {
            let (compat, why) = if self.codec.self_describing() {
                (
                    Compatibility::Both,
                    "a self-describing codec reads fields by name".to_owned(),
                )
            } else {
                (Compatibility::Breaking, POSITIONAL.to_owned())
            };
            self.push(
                path,
                ChangeKind::OrderChanged {
                    from: old_order,
                    to: new_order,
                },
                compat,
                why,
            );
        }
    }

    fn variants(
        &mut self,
        path: &str,
        o: &[VariantAst],
        n: &[VariantAst],
        repr: &Repr,
        om: &TypeMeta,
        nm: &TypeMeta,
    ) {
        let sd = self.codec.self_describing();
        let untagged = *repr == Repr::Untagged;
        let names = |vs: &[VariantAst]| -> HashMap<String, usize> {
            vs.iter()
                .enumerate()
                .filter(|(_, v)| !v.skipped)
                .map(|(i, v)| (v.name.clone(), i))
                .collect()
        };
        let on = names(o);
        let nn = names(n);
        let accepts = |meta: &TypeMeta, v: &VariantAst, name: &str| {
            v.de_name == name
                || meta
                    .variant(&v.name)
                    .is_some_and(|m| m.aliases.iter().any(|a| a == name))
        };
        let old_other = om.variants.iter().any(|v| v.other);
        let new_other = nm.variants.iter().any(|v| v.other);
        let mut removed: Vec<usize> = (0..o.len())
            .filter(|&i| !o[i].skipped && !nn.contains_key(&o[i].name))
            .collect();
        let mut added: Vec<usize> = (0..n.len())
            .filter(|&i| !n[i].skipped && !on.contains_key(&n[i].name))
            .collect();
        let mut renames: Vec<(usize, usize, bool)> = Vec::new();
        for pass in 0..2 {
            let mut j = 0;
            while j < added.len() {
                let bi = added[j];
                let b = &n[bi];
                let hit = removed.iter().position(|&ai| {
                    let a = &o[ai];
                    if pass == 0 {
                        accepts(nm, b, &a.name) || accepts(om, a, &b.name)
                    } else {
                        ai == bi && a.kind == b.kind && a.untagged == b.untagged
                    }
                });
                if let Some(r) = hit {
                    renames.push((removed.remove(r), bi, pass == 0));
                    added.remove(j);
                } else {
                    j += 1;
                }
            }
        }

        // Variants on both sides (renamed ones too).
        let mut pairs: Vec<(usize, usize)> = (0..o.len())
            .filter(|&i| !o[i].skipped)
            .filter_map(|i| nn.get(&o[i].name).map(|&j| (i, j)))
            .collect();
        pairs.extend(renames.iter().map(|&(a, b, _)| (a, b)));
        pairs.sort();
        for &(i, j) in &pairs {
            let (a, b) = (&o[i], &n[j]);
            let p = format!("{path}::{}", name_text(&b.name));
            if a.bump != b.bump {
                self.push(
                    &p,
                    ChangeKind::BumpChanged {
                        from: a.bump,
                        to: b.bump,
                    },
                    Compatibility::Breaking,
                    "a manual bump marks a change of meaning",
                );
            }
            if a.untagged != b.untagged {
                let show = |u: bool| if u { "untagged" } else { "tagged" }.to_owned();
                self.push(
                    &p,
                    ChangeKind::ReprChanged {
                        from: show(a.untagged),
                        to: show(b.untagged),
                    },
                    Compatibility::Breaking,
                    "the variant's tag is written or not",
                );
            }
            if a.name == b.name && a.de_name != b.de_name {
                let back = accepts(nm, b, &a.name) || new_other;
                let fwd = accepts(om, a, &b.name) || old_other;
                let (compat, why) = if sd && !untagged {
                    (
                        Compatibility::from_directions(back, fwd),
                        why2(
                            back,
                            "the new reader's names",
                            fwd,
                            "the old reader's names",
                        ),
                    )
                } else {
                    (
                        Compatibility::Both,
                        "variant names are not written".to_owned(),
                    )
                };
                self.push(
                    &p,
                    ChangeKind::ReaderNameChanged {
                        from: a.de_name.clone(),
                        to: b.de_name.clone(),
                    },
                    compat,
                    why,
                );
            }
            match (&a.kind, &b.kind) {
                (VariantKind::Unit, VariantKind::Unit) => {}
                (VariantKind::Tuple(x), VariantKind::Tuple(y)) => {
                    if x.len() == 1 && y.len() == 1 {
                        self.common_field_bits(&p, &x[0], &y[0], None, false);
                        self.ty(&p, &x[0].ty, &y[0].ty);
                    } else {
                        self.positional(&p, x, y);
                    }
                }
                (VariantKind::Struct(x), VariantKind::Struct(y)) => {
                    let oh = Holder {
                        meta: om,
                        variant: Some(&a.name),
                    };
                    let nh = Holder {
                        meta: nm,
                        variant: Some(&b.name),
                    };
                    self.named_fields(&p, x, y, oh, nh);
                }
                (x, y) => self.push(
                    &p,
                    ChangeKind::VariantKindChanged {
                        from: x.kind_name().into(),
                        to: y.kind_name().into(),
                    },
                    Compatibility::Breaking,
                    "the variant's content is written differently",
                ),
            }
        }

        let shifted: Vec<(String, usize, usize)> = pairs
            .iter()
            .filter(|(i, j)| i != j)
            .map(|&(i, j)| (n[j].name.clone(), i, j))
            .collect();
        let mut old_order: Vec<(usize, usize)> = pairs.clone();
        old_order.sort_by_key(|p| p.0);
        let reordered = old_order.windows(2).any(|w| w[0].1 > w[1].1);
        let last_old = o.len();

        for &(ai, bi, certain) in &renames {
            let (a, b) = (&o[ai], &n[bi]);
            let (compat, why) = if untagged {
                (
                    Compatibility::Both,
                    "an untagged enum writes no variant names".to_owned(),
                )
            } else if !sd {
                if ai == bi {
                    (
                        Compatibility::Both,
                        "a positional codec writes the index, which is the same".to_owned(),
                    )
                } else {
                    (
                        Compatibility::Breaking,
                        "the variant's index changed".to_owned(),
                    )
                }
            } else {
                let back_alias = accepts(nm, b, &a.name);
                let fwd_alias = accepts(om, a, &b.name);
                let back = back_alias || new_other;
                let fwd = fwd_alias || old_other;
                (
                    Compatibility::from_directions(back, fwd),
                    why2(
                        back,
                        if back_alias {
                            "the new reader accepts the old name"
                        } else if back {
                            "old values read as the `other` variant"
                        } else {
                            "the new build does not know the old name (add an `alias`)"
                        },
                        fwd,
                        if fwd_alias {
                            "the old reader accepts the new name"
                        } else if fwd {
                            "new values read as the old build's `other` variant"
                        } else {
                            "the old build does not know the new name"
                        },
                    ),
                )
            };
            self.out.push(Item::Change(Change {
                path: format!("{path}::{}", name_text(&a.name)),
                new_path: Some(format!("{path}::{}", name_text(&b.name))),
                kind: ChangeKind::VariantRenamed {
                    from: a.name.clone(),
                    to: b.name.clone(),
                    certain,
                },
                compat,
                why,
            }));
        }
        for &ai in &removed {
            let a = &o[ai];
            let (compat, why) = if untagged {
                let fwd = ai + 1 == last_old;
                (
                    Compatibility::from_directions(false, fwd),
                    why2(
                        false,
                        "old values of it match another variant or none",
                        fwd,
                        if fwd {
                            "the old build tries the same variants first"
                        } else {
                            "the old build may match the removed variant first"
                        },
                    ),
                )
            } else if !sd {
                let keep = shifted.is_empty();
                let back = keep && new_other;
                (
                    Compatibility::from_directions(back, keep),
                    why2(
                        back,
                        if back {
                            "its index reads as the `other` variant"
                        } else {
                            "old values may hold its index"
                        },
                        keep,
                        if keep {
                            "the other variants keep their indices"
                        } else {
                            "variant indices shifted"
                        },
                    ),
                )
            } else {
                (
                    Compatibility::from_directions(new_other, true),
                    why2(
                        new_other,
                        if new_other {
                            "old values of it read as the `other` variant"
                        } else {
                            "old values may hold it and the new build rejects it"
                        },
                        true,
                        "the new build never writes it",
                    ),
                )
            };
            self.push(
                &format!("{path}::{}", name_text(&a.name)),
                ChangeKind::VariantRemoved {
                    variant: a.name.clone(),
                },
                compat,
                why,
            );
        }
        for &bi in &added {
            let b = &n[bi];
            let (compat, why) = if untagged {
                let back = bi >= last_old && !reordered && shifted.is_empty();
                (
                    Compatibility::from_directions(back, false),
                    why2(
                        back,
                        if back {
                            "it is tried after every old variant"
                        } else {
                            "it is tried before old variants and may capture old values"
                        },
                        false,
                        "the old build cannot match new values of it",
                    ),
                )
            } else if !sd {
                let keep = shifted.is_empty();
                (
                    Compatibility::from_directions(keep, keep && old_other),
                    why2(
                        keep,
                        if keep {
                            "the old variants keep their indices"
                        } else {
                            "variant indices shifted"
                        },
                        keep && old_other,
                        if old_other {
                            "its index reads as the old build's `other` variant"
                        } else {
                            "the old build does not know its index"
                        },
                    ),
                )
            } else {
                (
                    Compatibility::from_directions(true, old_other),
                    why2(
                        true,
                        "the old build never wrote it",
                        old_other,
                        if old_other {
                            "new values of it read as the old build's `other` variant"
                        } else {
                            "the old build rejects the unknown variant"
                        },
                    ),
                )
            };
            self.push(
                &format!("{path}::{}", name_text(&b.name)),
                ChangeKind::VariantAdded {
                    variant: b.name.clone(),
                },
                compat,
                why,
            );
        }
        if reordered {
            let from: Vec<String> = old_order
                .iter()
                .map(|&(i, _)| name_text(&o[i].name))
                .collect();
            let mut by_new = pairs.clone();
            by_new.sort_by_key(|p| p.1);
            let to: Vec<String> = by_new.iter().map(|&(_, j)| name_text(&n[j].name)).collect();
            let (compat, why) = if sd && !untagged {
                (
                    Compatibility::Both,
                    "variants are written by name".to_owned(),
                )
            } else if untagged {
                (
                    Compatibility::Breaking,
                    "an untagged enum tries its variants in order".to_owned(),
                )
            } else {
                (
                    Compatibility::Breaking,
                    "a positional codec writes the variant's index".to_owned(),
                )
            };
            self.push(path, ChangeKind::OrderChanged { from, to }, compat, why);
        } else if !shifted.is_empty() {
            let (compat, why) = if sd {
                (
                    Compatibility::Both,
                    "a self-describing codec writes variant names, not indices".to_owned(),
                )
            } else {
                (
                    Compatibility::Breaking,
                    "a positional codec writes the variant's index".to_owned(),
                )
            };
            self.push(
                path,
                ChangeKind::VariantIndexShifted { moved: shifted },
                compat,
                why,
            );
        }
    }
}

/// The fields and variants of a body, as `(variant or "", field key or None for the variant
/// itself, path suffix)`, keyed as the lockfile's `meta` lines key them.
fn member_keys(body: &BodyAst) -> Vec<(String, Option<FieldKey>, String)> {
    let fields = |out: &mut Vec<_>, variant: &str, prefix: &str, fields: &[FieldAst]| {
        for (i, f) in fields.iter().enumerate() {
            let (key, at) = if f.flatten || f.name.is_empty() {
                (FieldKey::Index(i), format!("{prefix}.{i}"))
            } else {
                (
                    FieldKey::Name(f.name.clone()),
                    format!("{prefix}.{}", name_text(&f.name)),
                )
            };
            out.push((variant.to_owned(), Some(key), at));
        }
    };
    let mut out = Vec::new();
    match body {
        BodyAst::UnitStruct | BodyAst::Newtype(_) => {}
        BodyAst::TupleStruct(f) | BodyAst::Struct { fields: f, .. } => fields(&mut out, "", "", f),
        BodyAst::Enum { variants, .. } => {
            for v in variants.iter().filter(|v| !v.skipped) {
                let prefix = format!("::{}", name_text(&v.name));
                out.push((v.name.clone(), None, prefix.clone()));
                if let VariantKind::Tuple(f) | VariantKind::Struct(f) = &v.kind {
                    fields(&mut out, &v.name, &prefix, f);
                }
            }
        }
    }
    out
}

/// The number of elements of a tuple's runs.
fn tuple_len(runs: &[(TypeExpr, u64)]) -> u128 {
    runs.iter().map(|(_, n)| u128::from(*n)).sum()
}

/// The form of a type a codec writes, and the other form (`None` when there is no choice).
fn readable_forms(t: &TypeExpr, human: bool) -> (&TypeExpr, Option<&TypeExpr>) {
    match t {
        TypeExpr::Readable(h, c) if human => (h, Some(c)),
        TypeExpr::Readable(h, c) => (c, Some(h)),
        other => (other, None),
    }
}

/// Whether every value of leaf `from` reads as leaf `to` in a self-describing codec.
fn widens(from: &str, to: &str) -> bool {
    fn int(t: &str) -> Option<(bool, u32)> {
        Some(match t {
            "i8" => (true, 8),
            "i16" => (true, 16),
            "i32" => (true, 32),
            "i64" => (true, 64),
            "i128" => (true, 128),
            "u8" => (false, 8),
            "u16" => (false, 16),
            "u32" => (false, 32),
            "u64" => (false, 64),
            "u128" => (false, 128),
            _ => return None,
        })
    }
    match (int(from), int(to)) {
        (Some((s1, b1)), Some((s2, b2))) => (s1 == s2 && b2 >= b1) || (!s1 && s2 && b2 > b1),
        (Some(_), None) => to == "f64" || to == "f32",
        (None, _) => from == "f32" && to == "f64",
    }
}

fn type_text(t: &TypeExpr) -> String {
    let mut s = String::new();
    write_type(&mut s, t);
    s
}

/// A type for people: references by name only.
fn write_type(out: &mut String, t: &TypeExpr) {
    let two = |out: &mut String, kw: &str, a: &TypeExpr, b: &TypeExpr| {
        out.push_str(kw);
        out.push('<');
        write_type(out, a);
        out.push(',');
        write_type(out, b);
        out.push('>');
    };
    match t {
        TypeExpr::Leaf(l) => out.push_str(l),
        TypeExpr::Option(a) => {
            out.push_str("option<");
            write_type(out, a);
            out.push('>');
        }
        TypeExpr::Seq(a) => {
            out.push_str("seq<");
            write_type(out, a);
            out.push('>');
        }
        TypeExpr::Map(a, b) => two(out, "map", a, b),
        TypeExpr::Readable(a, b) => two(out, "readable", a, b),
        TypeExpr::Proxy(a, b) => two(out, "proxy", a, b),
        TypeExpr::Tuple(e) => {
            out.push_str("tuple<");
            for (i, (x, n)) in e.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_type(out, x);
                if *n > 1 {
                    out.push_str(&format!("*{n}"));
                }
            }
            out.push('>');
        }
        TypeExpr::Opaque(p) => {
            out.push_str("opaque(");
            let _ = crate::canonical::write_quoted(out, p);
            out.push(')');
        }
        TypeExpr::Ref(r) => out.push_str(&name_text(&r.name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_and_widening() {
        use Compatibility::*;
        assert_eq!(Identical.join(Both), Both);
        assert_eq!(BackwardOnly.join(ForwardOnly), Breaking);
        assert_eq!(Both.join(ForwardOnly), ForwardOnly);
        assert!(widens("u32", "u64") && widens("u32", "i64") && !widens("u64", "i64"));
        assert!(widens("f32", "f64") && widens("i32", "f64") && !widens("f64", "f32"));
    }
}
