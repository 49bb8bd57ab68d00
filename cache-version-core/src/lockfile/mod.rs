//! The schema lockfile (`cache-versions.lock`) and its CI diff: every model's cache version
//! change shows up in the pull request as a readable, classified diff, and the author accepts
//! it on purpose.
//!
//! # In a test
//!
//! Register the models once (feature `registry`, on by default; generic models by the
//! instantiations you cache), and check the lockfile from a normal `#[test]`:
//!
//! ```
//! use cache_version_core::{lockfile, CacheVersion};
//!
//! #[derive(serde::Serialize, CacheVersion)]
//! struct Item { sku: String }
//!
//! #[derive(serde::Serialize, CacheVersion)]
//! #[serde(rename_all = "camelCase")]
//! struct User { user_id: u64, full_name: String }
//!
//! #[derive(serde::Serialize, CacheVersion)]
//! struct Page<T> { items: Vec<T>, next: Option<String> }
//!
//! cache_version_core::register!(User, Page<Item>);
//!
//! // #[test] fn cache_versions() {
//! # let dir = std::env::temp_dir().join(format!("cv-lock-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! # let path = dir.join("cache-versions.lock");
//! # lockfile::check_lockfile_with(&path, lockfile::registered(),
//! #     lockfile::CheckOptions { mode: lockfile::Mode::Overwrite, ..Default::default() }).unwrap();
//! lockfile::assert_lockfile(&path, lockfile::registered());
//! // }
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```
//!
//! When a model changed, the test fails with the diff, for example (`userName` renamed to
//! `fullName`):
//!
//! ```text
//! cache-versions.lock does not match the code.
//!
//! cache versions: 1 model differs: 1 breaking; 1 unchanged (codec json)
//!
//! User  0e0ba82b3b014867 → c1d4a8a07e447a4b  [breaking]
//!   - User.userName → User.fullName: field renamed?: `userName` → `fullName` (str)  [breaking]
//!       new reads old: no (`fullName` is missing from old values (not an Option, no `default`,
//!       no `alias = "userName"`)); old reads new: no (`userName` is missing from new values and
//!       the old build requires it)
//!   rolling deploy: new key space for `User` (version 0e0ba82b3b014867 → c1d4a8a07e447a4b):
//!   entries written by the old build will miss unless you register `migrate_from::<UserV1, _>`
//!   with an explicit conversion; neither build reads the other's values, so expect a cold
//!   `User` cache during the rollout otherwise.
//!
//! If these changes are intended, rewrite the lockfile and commit it with them:
//!     CACHE_VERSION_LOCK=overwrite cargo test
//! ```
//!
//! `CACHE_VERSION_LOCK=overwrite` (like `TRYBUILD=overwrite`) makes the check write the file
//! instead of failing. Without a registry, pass the models yourself:
//! `check_lockfile(path, models![User, Page<Item>])`. A type that is not a model of its own
//! (`Vec<Item>`, cached with `Cache::model_named`) is registered with its name:
//! `register!(Vec<Item> as "Items")`. [`check_lockfile`] also runs
//! [`canonical::verify`](crate::canonical::verify) over every model's shape tree (called on
//! the models no other model reaches: `verify` walks everything below them, so each shape is
//! checked without repeating the walk for every model of a deep graph).
//!
//! # Opaque leaves
//!
//! A field written by custom code (`#[serde(with = "...")]`, `serialize_with`) is an opaque
//! leaf: changing that code never changes the version. [`Lockfile::opaque_leaves`] lists every
//! model's leaves with their paths, and whether they were acknowledged: stated on purpose with
//! `#[cache_version(opaque)]` (or described with `as`, which makes them no leaf at all). The
//! check prints a warning for the others, naming each path (it does not fail: a leaf is a
//! choice, but it should be a visible one), and so does `cache-version check`:
//!
//! ```text
//! warning: 1 opaque leaf(s) written by custom code nobody stated: changing that code never changes the model's version
//!   Event.at  opaque("ts::serialize")
//!   state what each writes with #[cache_version(as = "Type")] (check it with conformance::check), or acknowledge it with #[cache_version(opaque)] and bump the model when the code changes
//! ```
//!
//! Such fields carry a `with` flag in their `meta field` line.
//!
//! # The format
//!
//! Line-oriented UTF-8, `\n` line ends, sorted, one fact per line, so that `git diff` shows
//! exactly what changed. Lines starting with `#` and empty lines are comments.
//!
//! ```text
//! # (three comment lines)
//! cache-version-lock 1 canonical 1
//!
//! model Page<Item>
//!   name "Page<Item>"
//!   short 5b0a3c1d2e4f6a7b
//!   version 5b0a3c1d2e4f6a7b…(64 hex digits)
//!   root Page@5b0a3c1d…(64)
//!
//! model User
//!   name User
//!   short 9c8e…
//!   version 9c8e…(64)
//!   root User@9c8e…(64)
//!
//! type Item@77aa…(64) = struct{sku:str}
//! type Page@5b0a…(64) = struct{items:seq<Item@77aa…(64)>,next:option<str>}
//! type User@9c8e…(64) = struct{userId:u64,fullName:str,email?:option<str>}
//!   meta deny_unknown_fields
//!   meta field fullName alias=userName
//!   meta field email default
//! ```
//!
//! - **Header**: `cache-version-lock <lockfile format> canonical <canonical-form format>`
//!   (both `1`); a reader refuses formats it does not know.
//! - **`model <label>`** blocks, sorted by label (the Rust type as registered, whitespace
//!   removed), each with exactly four indented lines in this order: `name` (the model name used
//!   in cache keys, [`CacheModel::model_name`] such as
//!   `Page<Item>`, or the name given at registration, `register!(Vec<Item> as "Items")`;
//!   written bare when it is an identifier, quoted otherwise; unique in a file generated from
//!   code: two models with one model name would share a key space, so the check refuses them,
//!   naming both Rust types), `short` (the version's 16-digit short
//!   form, [`Version::short`](crate::Version::short); the key version in cache keys is a
//!   digest of the version, the model name, the codec and the value format), `version` (64 hex
//!   digits), `root` (the root as a canonical type expression: `User@<version>`, or e.g.
//!   `seq<User@…>`).
//! - **`type <Name>@<version> = <definition>`** lines: every named type reachable from any
//!   model, **once for the whole file**, sorted by name then version. The definition is the
//!   canonical form (`docs/canonical-form.md`), with nested named types as `Name@<version>`
//!   references that resolve to other `type` lines. Together with the model's `root` this is
//!   the model's whole schema; storing each definition once instead of once per model keeps
//!   the file (and the diff of a change deep in a shared type) linear in the number of types
//!   (200 models that each reach the previous ones would otherwise repeat ~40 000 definitions).
//! - **`  meta …`** lines right after a `type` line: evolution metadata, **not** part of any
//!   version, used to classify changes. `meta default deny_unknown_fields` (container flags,
//!   either or both); `meta field <field> [default] [skip_deserializing] [with] [alias=<name>]…`;
//!   `meta variant <variant> [other] [skip_deserializing] [alias=<name>]…`; a field's `with`
//!   flag marks custom code nobody stated (see "Opaque leaves"). A `<field>` is a
//!   written name, `#<index>` for positional and flattened fields, prefixed by `<variant>.` for
//!   a variant's fields. Names are bare identifiers or quoted strings with the canonical
//!   form's escapes. A field's `default` is written only when the container has no `default`.
//!
//! The reader ([`Lockfile::parse`]) checks everything it can: structure, hex, that `short` is
//! the start of `version`, that every definition and root hashes to its version (recomputed
//! from the text, so a hand edit is caught), that every reference has its `type` line, and no
//! duplicates. Every problem is a [`ParseError`] with its line number; no input panics
//! (nesting is bounded). Writing a parsed lockfile gives the same text back.
//!
//! # The diff
//!
//! [`diff`] compares two lockfiles model by model (by label) and follows references into
//! nested definitions, so each change has a path: `User.address.zip`, `User.tags[]`,
//! `User.scores{}` (map value), `User.scores{key}`, `Pair.0` (tuple element),
//! `Status::Suspended.reason` (a variant's field). `Option`, `Box` and newtype structs add no
//! path segment. A type used at several paths is reported at the first one. Changes found:
//! field added / removed / renamed (linked by an `alias`, or guessed — `renamed?` — when a
//! removed and an added field sit at the same position with the same type), type changed,
//! presence changed (`skip_serializing_if`), reader name changed, enum variant added /
//! removed / renamed / style changed / indices shifted, representation changed (`tag`,
//! `content`, `untagged`, struct tag), order changed, manual bump changed, reader metadata
//! changed, model added / removed / relabeled, key name changed.
//!
//! # Classification
//!
//! Each change is classified for a [`CodecKind`] as identical, compatible both ways, backward
//! only (the new build reads old values), forward only (the old build reads new values) or
//! breaking, and a model takes the combination of its changes. The rules, by codec:
//!
//! | change | self-describing (JSON, MessagePack maps) | positional (postcard, bincode) |
//! |---|---|---|
//! | field added | backward if the new field is lenient*; forward unless the old type has `deny_unknown_fields` | breaking |
//! | field removed | backward unless the new type has `deny_unknown_fields`; forward if the old field was lenient* | breaking |
//! | field renamed | backward if the new field accepts the old name (`alias`) or is lenient*; forward likewise | both (names are not written) if the position is the same |
//! | field order | both | breaking |
//! | now `skip_serializing_if` | backward; forward if the old field is lenient* | breaking |
//! | `T` → `Option<T>` | backward only | breaking |
//! | `u32` → `u64`, `i32` → `i64`, `u32` → `i64`, int → float, `f32` → `f64` | backward only (the reverse: forward only) | breaking |
//! | other type change, kind change, representation change | breaking | breaking |
//! | variant added | backward; forward if the old enum has an `#[serde(other)]` variant | backward if no index shifts |
//! | variant removed | forward; backward if the new enum has `other` | forward if no index shifts |
//! | variant renamed | by `alias` / `other`, as fields | both if the index is the same |
//! | variant indices shifted / reordered | both | breaking |
//! | manual `bump` changed | breaking (the meaning changed) | breaking |
//! | reader metadata only | identical (keys unchanged) | identical |
//!
//! \*Lenient: the reader fills the field in when it is missing: `#[serde(default)]` on the
//! field or the container, `skip_deserializing`, or an **`Option` type**. serde's derive reads
//! a missing `Option<T>` field as `None` even without `default` (for every self-describing
//! format: the missing-field path deserializes `None`), *unless* the field has
//! `deserialize_with`/`with` (then it is required; such fields are opaque in the canonical
//! form, or stated with `#[cache_version(as = "...")]`, in which case state an `Option` only
//! together with `default`). Untagged enums are order-sensitive: only a variant added at the end
//! is backward compatible. `readable<human, compact>` types are compared in the form the codec
//! writes (human for JSON, compact otherwise). Newtype structs are compared by their content
//! (every codec this library ships writes them transparently).
//!
//! Any version change is a **new key space** for the model: entries written by the old build
//! miss in the new one. The classification says what a migration costs, and each model's
//! [`ModelDiff::deploy_advice`] says it in words ("new key space for `User`; entries written
//! by the old build will miss unless you register `migrate_from::<UserV1, _>` …", or "identical:
//! keys unchanged").
//!
//! # The command-line tool
//!
//! ```text
//! cache-version diff OLD.lock NEW.lock [--format text|markdown] [--codec json|msgpack|positional]
//!                                      [--fail-on breaking|backward|forward|any|never]
//! cache-version check FILE.lock
//! ```
//!
//! `diff` prints the report (default: text, json, fail on breaking) and exits 1 when the
//! `--fail-on` level is reached ([`FailOn`]), 2 on bad input (unreadable or invalid lockfile,
//! bad arguments), 0 otherwise. `check` validates one lockfile (exit 0 or 2). Install it with
//! `cargo install cache-version-core --bin cache-version` (it needs no extra dependency).
//!
//! # CI recipe (GitHub Actions)
//!
//! The job regenerates both lockfiles from the code (so a stale checked-in file cannot hide a
//! change), diffs them and posts the Markdown report on the pull request. It assumes the
//! lockfile test lives in `tests/cache_versions.rs` and writes `cache-versions.lock` at the
//! crate root.
//!
//! ```yaml
//! name: cache versions
//! on: pull_request
//! permissions:
//!   contents: read
//!   pull-requests: write
//! jobs:
//!   cache-versions:
//!     runs-on: ubuntu-latest
//!     steps:
//!       - uses: actions/checkout@v4
//!         with: { path: pr }
//!       - uses: actions/checkout@v4
//!         with: { ref: "${{ github.event.pull_request.base.sha }}", path: base }
//!       - uses: dtolnay/rust-toolchain@stable
//!       - name: Lockfiles of base and PR, regenerated from the code
//!         run: |
//!           (cd base && CACHE_VERSION_LOCK=overwrite cargo test --test cache_versions)
//!           (cd pr && CACHE_VERSION_LOCK=overwrite cargo test --test cache_versions)
//!       # From the registry; inside this repository: cargo install --path pr/cache-version-core
//!       - run: cargo install cache-version-core --bin cache-version --locked
//!       - name: Diff
//!         id: diff
//!         run: |
//!           set +e
//!           cache-version diff base/cache-versions.lock pr/cache-versions.lock \
//!             --format markdown --codec json --fail-on breaking > cache-versions.md
//!           echo "status=$?" >> "$GITHUB_OUTPUT"
//!           cat cache-versions.md >> "$GITHUB_STEP_SUMMARY"
//!       - name: Comment on the pull request
//!         env:
//!           GH_TOKEN: ${{ github.token }}
//!         run: gh pr comment ${{ github.event.pull_request.number }} --repo ${{ github.repository }} --body-file cache-versions.md
//!       - name: Fail on breaking changes
//!         if: steps.diff.outputs.status != '0'
//!         run: exit ${{ steps.diff.outputs.status }}
//! ```
//!
//! If the base branch has no lockfile test yet, skip its step and diff against a lockfile
//! that holds only the header line (every model then shows as added). On pull requests from
//! forks the token cannot comment; the job summary still shows the report. The normal `cargo test` of the pull request
//! still fails when its checked-in lockfile is stale, so the accepted file is reviewed in the
//! diff like code.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use std::borrow::Cow;

use crate::canonical::VerifyError;
use crate::shape::Shape;
use crate::{CacheModel, CacheVersion};

mod ast;
mod diff;
mod format;
mod opaque;
mod report;

pub use diff::{
    diff, Change, ChangeKind, CodecKind, Compatibility, ModelDiff, Report, UnknownCodec,
};
pub use format::{
    FieldKey, FieldMetaEntry, Lockfile, ModelEntry, ModelsError, ParseError, TypeEntry, TypeMeta,
    VariantMetaEntry, LOCK_FORMAT,
};
pub use opaque::{opaque_warnings, OpaqueLeaf};
pub use report::{FailOn, UnknownFailOn};

/// The environment variable that makes [`check_lockfile`] rewrite the lockfile instead of
/// failing, when set to `overwrite`.
pub const OVERWRITE_ENV: &str = "CACHE_VERSION_LOCK";

/// A model as the lockfile sees it: a label (the Rust type as registered), its model name
/// (as in cache keys) and its shape.
///
/// Build it with [`register!`](crate::register) (collected by [`registered`]),
/// [`models!`](crate::models), [`Model::new`] or [`Model::named`].
#[derive(Clone, Copy)]
pub struct Model {
    label: &'static str,
    shape: &'static Shape,
    name: ModelName,
    type_name: fn() -> &'static str,
}

#[derive(Clone, Copy)]
enum ModelName {
    /// `CacheModel::model_name` of the type.
    Of(fn() -> Cow<'static, str>),
    /// Given at registration (`register!(Vec<User> as "Users")`).
    Given(&'static str),
}

impl Model {
    /// The model `T` under `label` (normally the type as written: `"Page<Item>"`; whitespace
    /// is normalized away), named by [`CacheModel::model_name`] as
    /// [`Cache::model`](crate::Cache::model) names it.
    pub const fn new<T: CacheModel + ?Sized>(label: &'static str) -> Model {
        Model {
            label,
            shape: T::SHAPE,
            name: ModelName::Of(T::model_name),
            type_name: std::any::type_name::<T>,
        }
    }

    /// The type `T` cached under the model name `name`, as
    /// [`Cache::model_named`](crate::Cache::model_named) names it: for types that are not a
    /// model of their own (`Vec<User>`, `String`). The check rejects an invalid name.
    pub const fn named<T: CacheVersion + ?Sized>(label: &'static str, name: &'static str) -> Model {
        Model {
            label,
            shape: T::SHAPE,
            name: ModelName::Given(name),
            type_name: std::any::type_name::<T>,
        }
    }

    /// The label, whitespace removed except between two words (`Page < Item >` → `Page<Item>`).
    pub fn label(&self) -> String {
        normalize_label(self.label)
    }

    /// The shape.
    pub fn shape(&self) -> &'static Shape {
        self.shape
    }

    /// The model name used in cache keys (`Page<Item>`, `User`, or the name given to
    /// [`Model::named`]).
    pub fn name(&self) -> Cow<'static, str> {
        match self.name {
            ModelName::Of(f) => f(),
            ModelName::Given(name) => Cow::Borrowed(name),
        }
    }

    /// The Rust type, for messages only (`std::any::type_name`: not stable across compilers,
    /// never used to identify a model).
    pub fn type_name(&self) -> &'static str {
        (self.type_name)()
    }
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Model")
            .field("label", &self.label())
            .field("version", &crate::Version::of(self.shape))
            .finish()
    }
}

fn normalize_label(label: &str) -> String {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(label.len());
    let mut space = false;
    for c in label.chars() {
        if c.is_whitespace() || c.is_control() {
            space = true;
            continue;
        }
        if space && out.chars().next_back().is_some_and(word) && word(c) {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    out
}

#[cfg(feature = "registry")]
inventory::collect!(Model);

/// Implementation details of [`register!`](crate::register). Not public API.
#[cfg(feature = "registry")]
#[doc(hidden)]
pub mod __private {
    pub use inventory;
}

/// Every model registered with [`register!`](crate::register) in the crates linked into this
/// binary (feature `registry`), in no particular order.
///
/// A model registered in a library crate is seen when that crate is linked into the test
/// binary (used by it); registrations in an otherwise unused crate may be dropped by the
/// linker.
#[cfg(feature = "registry")]
pub fn registered() -> Vec<Model> {
    inventory::iter::<Model>.into_iter().copied().collect()
}

/// Registers models for the lockfile (feature `registry`): each type as written, generic
/// models by their concrete instantiations. Use it at module level, once per model.
///
/// Each model is named as [`Cache::model`](crate::Cache::model) names it
/// ([`CacheModel::model_name`](crate::CacheModel::model_name)); a type that is not a model of
/// its own is registered with the name it is cached under
/// ([`Cache::model_named`](crate::Cache::model_named)): `Vec<Item> as "Items"`.
///
/// ```
/// # use cache_version_core::CacheVersion;
/// #[derive(serde::Serialize, CacheVersion)]
/// struct Item { sku: String }
/// #[derive(serde::Serialize, CacheVersion)]
/// struct Page<T> { items: Vec<T> }
///
/// cache_version_core::register!(Item, Page<Item>, Vec<Item> as "Items");
///
/// let models = cache_version_core::lockfile::registered();
/// let page = models.iter().find(|m| m.label() == "Page<Item>").unwrap();
/// assert_eq!(page.name(), "Page<Item>");
/// assert!(models.iter().any(|m| m.name() == "Items"));
/// ```
#[cfg(feature = "registry")]
#[macro_export]
macro_rules! register {
    ($($ty:ty $(as $name:literal)?),+ $(,)?) => {
        $(
            $crate::lockfile::__private::inventory::submit! {
                $crate::__lockfile_model!($ty $(as $name)?)
            }
        )+
    };
}

/// Registers models for the lockfile: needs the `registry` feature (this build has it off).
#[cfg(not(feature = "registry"))]
#[macro_export]
macro_rules! register {
    ($($tt:tt)*) => {
        ::core::compile_error!(
            "cache_version_core::register! needs the `registry` feature of cache-version-core; \
             or pass the models to check_lockfile with cache_version_core::models![...]"
        );
    };
}

/// A list of models for [`check_lockfile`] without the registry:
/// `models![User, Page<Item>, Vec<Item> as "Items"]` (named as in [`register!`](crate::register)).
#[macro_export]
macro_rules! models {
    ($($ty:ty $(as $name:literal)?),* $(,)?) => {
        [$($crate::__lockfile_model!($ty $(as $name)?)),*]
    };
}

/// One model of `register!` / `models!`. Not public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __lockfile_model {
    ($ty:ty) => {
        $crate::lockfile::Model::new::<$ty>(::core::stringify!($ty))
    };
    ($ty:ty as $name:literal) => {
        $crate::lockfile::Model::named::<$ty>(::core::stringify!($ty), $name)
    };
}

/// Whether the check compares, or rewrites the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Rewrite when `CACHE_VERSION_LOCK=overwrite` is set, compare otherwise.
    #[default]
    FromEnv,
    /// Always compare.
    Check,
    /// Always rewrite.
    Overwrite,
}

/// Options of [`check_lockfile_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CheckOptions {
    /// The codec the changes are classified for (default JSON, the cache's default codec).
    pub codec: CodecKind,
    /// Compare or rewrite.
    pub mode: Mode,
}

/// What [`check_lockfile`] did when it succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// The file matches the code.
    UpToDate,
    /// The file was (re)written; the report is what changed (`None`: there was no valid file).
    Overwritten(Option<Box<Report>>),
}

/// Why a lockfile check failed. `Debug` prints the same readable text as `Display`, so a test
/// that returns `Result<(), CheckError>` or calls `unwrap()` shows the diff as it is.
#[non_exhaustive]
pub enum CheckError {
    /// A model's shape tree disagrees with its own digests (see
    /// [`canonical::verify`](crate::canonical::verify)).
    Verify {
        /// The model.
        label: String,
        /// What disagrees.
        error: VerifyError,
    },
    /// The models cannot form a lockfile (two models with one label).
    Models(ModelsError),
    /// There is no lockfile yet.
    Missing {
        /// Where it was expected.
        path: PathBuf,
    },
    /// The lockfile cannot be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        error: io::Error,
    },
    /// The lockfile is not valid.
    Parse {
        /// The file.
        path: PathBuf,
        /// What and where.
        error: ParseError,
    },
    /// The lockfile differs from the code.
    Changed {
        /// The file.
        path: PathBuf,
        /// The diff from the file (old) to the code (new).
        report: Box<Report>,
    },
}

const ACCEPT: &str =
    "If these changes are intended, rewrite the lockfile and commit it with them:\n    \
                      CACHE_VERSION_LOCK=overwrite cargo test";

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckError::Verify { label, error } => write!(
                f,
                "model `{label}`: its shape disagrees with its own digests ({error}); this is a \
                 bug in the derive or in a hand-written CacheVersion impl"
            ),
            CheckError::Models(e) => write!(f, "{e}"),
            CheckError::Missing { path } => write!(
                f,
                "{} does not exist yet. Create it with\n    CACHE_VERSION_LOCK=overwrite cargo test\n\
                 and commit it.",
                path.display()
            ),
            CheckError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            CheckError::Parse { path, error } => write!(
                f,
                "{}: {error}\nThe lockfile is not valid (a bad merge or a hand edit?). Regenerate it:\n    \
                 CACHE_VERSION_LOCK=overwrite cargo test",
                path.display()
            ),
            CheckError::Changed { path, report } => {
                writeln!(f, "{} does not match the code.\n", path.display())?;
                if report.is_empty() {
                    writeln!(
                        f,
                        "No model changed, but the file's text differs from what this build writes \
                         (comments, order or formatting).\n"
                    )?;
                } else {
                    writeln!(f, "{}", report.to_text())?;
                }
                f.write_str(ACCEPT)
            }
        }
    }
}

impl fmt::Debug for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for CheckError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CheckError::Verify { error, .. } => Some(error),
            CheckError::Io { error, .. } => Some(error),
            CheckError::Parse { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// Checks the lockfile at `path` against `models` (JSON classification; rewrites the file when
/// `CACHE_VERSION_LOCK=overwrite`). See the [module docs](self).
pub fn check_lockfile(
    path: impl AsRef<Path>,
    models: impl IntoIterator<Item = Model>,
) -> Result<Checked, CheckError> {
    check_lockfile_with(path, models, CheckOptions::default())
}

/// [`check_lockfile`], panicking with the readable report: for a `#[test]`.
#[track_caller]
pub fn assert_lockfile(path: impl AsRef<Path>, models: impl IntoIterator<Item = Model>) {
    if let Err(e) = check_lockfile(path, models) {
        panic!("{e}");
    }
}

/// [`check_lockfile`] with options.
pub fn check_lockfile_with(
    path: impl AsRef<Path>,
    models: impl IntoIterator<Item = Model>,
    options: CheckOptions,
) -> Result<Checked, CheckError> {
    let path = path.as_ref();
    let (generated, uncovered) =
        Lockfile::from_models_covering(models).map_err(CheckError::Models)?;
    // `verify` walks everything below a model, so verifying the models no other model reaches
    // checks every shape (once per top model, not once per model: linear for a deep graph).
    for m in &uncovered {
        crate::canonical::verify(m.shape()).map_err(|error| CheckError::Verify {
            label: m.label(),
            error,
        })?;
    }
    if let Some(warning) = opaque_warnings(&generated.opaque_leaves()) {
        // Straight to the process's stderr, not through `eprintln!`, which the test harness
        // captures and shows only for failing tests: a warning must be seen when it passes.
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "cache-version: {}", path.display());
        let _ = std::io::stderr().write_all(warning.as_bytes());
    }
    let text = generated.to_text();
    let overwrite = match options.mode {
        Mode::Check => false,
        Mode::Overwrite => true,
        Mode::FromEnv => std::env::var(OVERWRITE_ENV).is_ok_and(|v| v == "overwrite"),
    };
    let existing = match std::fs::read_to_string(path) {
        Ok(s) => Some(s),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(error) => {
            return Err(CheckError::Io {
                path: path.to_owned(),
                error,
            })
        }
    };
    let existing = existing.map(|s| {
        if s.contains('\r') {
            s.replace("\r\n", "\n")
        } else {
            s
        }
    });
    if existing.as_deref() == Some(text.as_str()) {
        return Ok(Checked::UpToDate);
    }
    let old = existing.as_deref().map(Lockfile::parse);
    if overwrite {
        write_atomically(path, &text).map_err(|error| CheckError::Io {
            path: path.to_owned(),
            error,
        })?;
        let report = match old {
            Some(Ok(old)) => Some(Box::new(diff(&old, &generated, options.codec))),
            _ => None,
        };
        match &report {
            Some(r) => eprintln!("cache-version: rewrote {}\n{}", path.display(), r.to_text()),
            None => eprintln!("cache-version: wrote {}", path.display()),
        }
        return Ok(Checked::Overwritten(report));
    }
    match old {
        None => Err(CheckError::Missing {
            path: path.to_owned(),
        }),
        Some(Err(error)) => Err(CheckError::Parse {
            path: path.to_owned(),
            error,
        }),
        Some(Ok(old)) => Err(CheckError::Changed {
            path: path.to_owned(),
            report: Box::new(diff(&old, &generated, options.codec)),
        }),
    }
}

/// Writes through a temporary file and a rename, so parallel tests never see half a file.
fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}-{n}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::normalize_label;

    #[test]
    fn labels_lose_token_spaces() {
        assert_eq!(normalize_label("Page < Item >"), "Page<Item>");
        assert_eq!(normalize_label("& 'static str"), "&'static str");
        assert_eq!(
            normalize_label("std :: collections :: HashMap < String , u32 >"),
            "std::collections::HashMap<String,u32>"
        );
    }
}
