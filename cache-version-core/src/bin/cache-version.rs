//! `cache-version`: diffs two schema lockfiles (`cache-versions.lock`) for CI.
//!
//! ```text
//! cache-version diff OLD.lock NEW.lock [--format text|markdown] [--codec json|msgpack|positional]
//!                                      [--fail-on breaking|backward|forward|any|never]
//! cache-version check FILE.lock
//! ```
//!
//! Exit codes: 0 fine, 1 the `--fail-on` level was reached, 2 bad input or usage. See the
//! `cache_version_core::lockfile` docs for the format, the classification and a GitHub Actions
//! recipe.

use std::process::ExitCode;

use cache_version_core::lockfile::{diff, CodecKind, FailOn, Lockfile};

const USAGE: &str = "\
usage:
  cache-version diff OLD.lock NEW.lock [--format text|markdown] [--codec json|msgpack|positional]
                                       [--fail-on breaking|backward|forward|any|never]
  cache-version check FILE.lock

diff   prints the structural diff of two lockfiles, each change classified for the codec
       (identical, compatible both ways, backward only, forward only, breaking), and what it
       means for a rolling deploy. Defaults: --format text --codec json --fail-on breaking.
check  validates one lockfile and lists every model's opaque leaves (values written by custom
       code), warning about those nobody acknowledged.

exit codes: 0 fine, 1 the --fail-on level was reached, 2 bad input or usage";

enum Format {
    Text,
    Markdown,
}

struct DiffArgs {
    old: String,
    new: String,
    format: Format,
    codec: CodecKind,
    fail_on: FailOn,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("cache-version: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> Result<ExitCode, String> {
    match args.first().map(String::as_str) {
        Some("diff") => {
            let a = parse_diff_args(&args[1..])?;
            let old = read(&a.old)?;
            let new = read(&a.new)?;
            let report = diff(&old, &new, a.codec);
            match a.format {
                Format::Text => print!("{}", report.to_text()),
                Format::Markdown => print!("{}", report.to_markdown()),
            }
            Ok(if a.fail_on.reached(&report) {
                eprintln!(
                    "cache-version: the --fail-on {} level is reached",
                    a.fail_on.name()
                );
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Some("check") => match &args[1..] {
            [path] => {
                let lock = read(path)?;
                println!(
                    "{path}: valid ({} models, {} types)",
                    lock.models.len(),
                    lock.types.len()
                );
                // Opaque leaves are listed, the unacknowledged ones as a warning: a choice
                // to make visible, not a failure (exit 0).
                let leaves = lock.opaque_leaves();
                if !leaves.is_empty() {
                    println!("opaque leaves (their code's changes never change a version):");
                    for leaf in &leaves {
                        println!("  {leaf}");
                    }
                }
                if let Some(warning) = cache_version_core::lockfile::opaque_warnings(&leaves) {
                    eprint!("{warning}");
                }
                Ok(ExitCode::SUCCESS)
            }
            _ => Err(format!("check takes one lockfile\n\n{USAGE}")),
        },
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        Some("-V" | "--version") => {
            println!("cache-version {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
        None => Err(USAGE.to_owned()),
    }
}

fn parse_diff_args(args: &[String]) -> Result<DiffArgs, String> {
    let mut files = Vec::new();
    let mut format = Format::Text;
    let mut codec = CodecKind::Json;
    let mut fail_on = FailOn::Breaking;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        // `--name value` or `--name=value`.
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if arg.starts_with("--") => (n, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => it
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value\n\n{USAGE}")),
            }
        };
        match name {
            "--format" => {
                format = match value(name)?.as_str() {
                    "text" => Format::Text,
                    "markdown" | "md" => Format::Markdown,
                    other => return Err(format!("unknown format `{other}` (text or markdown)")),
                }
            }
            "--codec" => codec = value(name)?.parse().map_err(|e| format!("{e}"))?,
            "--fail-on" => fail_on = value(name)?.parse().map_err(|e| format!("{e}"))?,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            _ if name.starts_with("--") => {
                return Err(format!("unknown option `{name}`\n\n{USAGE}"))
            }
            _ => files.push(arg.clone()),
        }
    }
    match <[String; 2]>::try_from(files) {
        Ok([old, new]) => Ok(DiffArgs {
            old,
            new,
            format,
            codec,
            fail_on,
        }),
        Err(_) => Err(format!("diff takes two lockfiles: OLD NEW\n\n{USAGE}")),
    }
}

fn read(path: &str) -> Result<Lockfile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    Lockfile::parse(&text).map_err(|e| format!("{path}: {e}"))
}
