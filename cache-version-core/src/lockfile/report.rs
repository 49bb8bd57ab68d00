//! Rendering a [`Report`] as text (terminal, test output) or Markdown (a pull-request comment),
//! and the `--fail-on` levels.

use std::fmt::{self, Write as _};

use super::diff::{Compatibility, ModelDiff, Report};

/// When a diff should fail a CI job (the CLI's `--fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailOn {
    /// A model whose old and new values cannot read each other in either direction.
    #[default]
    Breaking,
    /// A model the new build cannot read old values of (forward only or breaking): requires
    /// backward compatibility.
    Backward,
    /// A model the old build cannot read new values of (backward only or breaking): requires
    /// forward compatibility.
    Forward,
    /// Any difference at all, including added or removed models and reader-side metadata.
    Any,
    /// Never fail.
    Never,
}

impl FailOn {
    /// Whether `report` reaches this level.
    pub fn reached(self, report: &Report) -> bool {
        let any = |f: fn(Compatibility) -> bool| report.models.iter().any(|m| f(m.compat));
        match self {
            FailOn::Never => false,
            FailOn::Any => !report.models.is_empty(),
            FailOn::Breaking => any(|c| c == Compatibility::Breaking),
            FailOn::Backward => any(|c| !c.backward()),
            FailOn::Forward => any(|c| !c.forward()),
        }
    }

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            FailOn::Breaking => "breaking",
            FailOn::Backward => "backward",
            FailOn::Forward => "forward",
            FailOn::Any => "any",
            FailOn::Never => "never",
        }
    }
}

/// A `--fail-on` value that is not one of the levels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFailOn(pub String);

impl fmt::Display for UnknownFailOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown fail-on level `{}` (expected breaking, backward, forward, any or never)",
            self.0
        )
    }
}

impl std::error::Error for UnknownFailOn {}

impl core::str::FromStr for FailOn {
    type Err = UnknownFailOn;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "breaking" => FailOn::Breaking,
            "backward" => FailOn::Backward,
            "forward" => FailOn::Forward,
            "any" => FailOn::Any,
            "never" => FailOn::Never,
            _ => return Err(UnknownFailOn(s.to_owned())),
        })
    }
}

fn counts(report: &Report) -> String {
    let order = [
        Compatibility::Breaking,
        Compatibility::ForwardOnly,
        Compatibility::BackwardOnly,
        Compatibility::Both,
        Compatibility::Identical,
    ];
    let mut parts = Vec::new();
    for c in order {
        let n = report.models.iter().filter(|m| m.compat == c).count();
        if n > 0 {
            parts.push(format!("{n} {c}"));
        }
    }
    parts.join(", ")
}

fn versions(m: &ModelDiff) -> String {
    match (m.old, m.new) {
        (Some(a), Some(b)) if a == b => format!("{}", b.short()),
        (Some(a), Some(b)) => format!("{} → {}", a.short(), b.short()),
        (None, Some(b)) => format!("(new) {}", b.short()),
        (Some(a), None) => format!("{} (removed)", a.short()),
        (None, None) => String::new(),
    }
}

fn summary(report: &Report) -> String {
    if report.models.is_empty() {
        return format!(
            "no model differs ({} unchanged; codec {})",
            report.unchanged, report.codec
        );
    }
    format!(
        "{} model{} differ{}: {}; {} unchanged (codec {})",
        report.models.len(),
        if report.models.len() == 1 { "" } else { "s" },
        if report.models.len() == 1 { "s" } else { "" },
        counts(report),
        report.unchanged,
        report.codec
    )
}

impl Report {
    /// The report as plain text: a summary line, then per model its changes (path, what,
    /// classification and why) and what it means for a rolling deploy.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "cache versions: {}", summary(self));
        for m in &self.models {
            let _ = writeln!(out, "\n{}  {}  [{}]", m.label, versions(m), m.compat);
            for c in &m.changes {
                let _ = writeln!(out, "  - {}: {}  [{}]", c.location(), c.kind, c.compat);
                let _ = writeln!(out, "      {}", c.why);
            }
            let _ = writeln!(out, "  rolling deploy: {}", m.deploy_advice());
        }
        out
    }

    /// The report as GitHub-flavoured Markdown, for a pull-request comment.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "## Cache versions\n");
        let _ = writeln!(out, "{}.\n", md_escape(&summary(self)));
        if self.models.is_empty() {
            return out;
        }
        let _ = writeln!(out, "| model | version | verdict |\n|---|---|---|");
        for m in &self.models {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                md_code(&m.label),
                md_code(&versions(m)),
                verdict(m.compat)
            );
        }
        for m in &self.models {
            let _ = writeln!(out, "\n### {}: {}\n", md_code(&m.label), verdict(m.compat));
            let _ = writeln!(out, "| path | change | verdict | why |\n|---|---|---|---|");
            for c in &m.changes {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    md_code(&c.location()),
                    md_escape(&c.kind.to_string()),
                    verdict(c.compat),
                    md_escape(&c.why)
                );
            }
            let _ = writeln!(
                out,
                "\n**Rolling deploy:** {}",
                md_escape(&m.deploy_advice())
            );
        }
        out
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

fn verdict(c: Compatibility) -> String {
    match c {
        Compatibility::Breaking => "**breaking**".into(),
        other => other.label().into(),
    }
}

/// Escapes table separators and line breaks everywhere, and `<` outside code spans (the texts
/// use backticks for code, where GitHub shows `&lt;` literally).
fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, part) in s.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        let part = part.replace('|', "\\|").replace('\n', " ");
        if i % 2 == 0 {
            out.push_str(&part.replace('<', "&lt;"));
        } else {
            out.push_str(&part);
        }
    }
    out
}

/// A code span that survives backticks and `|` inside.
fn md_code(s: &str) -> String {
    let s = s.replace('|', "\\|").replace('\n', " ");
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}
