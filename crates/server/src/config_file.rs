//! The configuration file (`hypnos server --config /etc/hypnos/hypnos.toml`): TOML whose keys are
//! the server's flags without their dashes (`listen = "0.0.0.0:8080"`, `max-connections = 512`,
//! `trusted-proxies = ["10.0.0.0/8"]`).
//!
//! A file's values become the flags' defaults, so a flag or an environment variable still wins
//! over the file, and the file over the built-in default. Each value goes through the flag's own
//! parser: the file accepts exactly what the command line does, and says which key is wrong.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use clap::{Arg, ArgMatches, Command, parser::ValueSource};

use crate::config::{DefaultsOnly, ServerConfig};

/// The largest configuration file read (a real one is a few KiB).
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// A configuration file, read and checked against the server's flags.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    path: PathBuf,
    /// Each key (a flag's long name) and its values as command-line text.
    values: BTreeMap<String, Vec<String>>,
}

/// Why a configuration file cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct ConfigFileError {
    path: String,
    problem: String,
}

impl ConfigFile {
    /// Reads `path` and checks every key and value against the server's flags.
    pub fn read(path: &Path) -> Result<Self, ConfigFileError> {
        let fail = |problem: String| ConfigFileError {
            path: path.display().to_string(),
            problem,
        };
        let size = std::fs::metadata(path)
            .map_err(|err| fail(format!("cannot be read: {err}")))?
            .len();
        if size > MAX_FILE_BYTES {
            return Err(fail(format!(
                "is {size} bytes; a configuration file is at most {MAX_FILE_BYTES}"
            )));
        }
        let text =
            std::fs::read_to_string(path).map_err(|err| fail(format!("cannot be read: {err}")))?;
        let table: toml::Table = text.parse().map_err(|err: toml::de::Error| {
            fail(format!("is not valid TOML: {}", err.message().trim()))
        })?;
        let flags = settings();
        let mut values = BTreeMap::new();
        for (key, value) in table {
            let Some(flag) = flags
                .iter()
                .find(|flag| flag.get_long() == Some(key.as_str()))
            else {
                return Err(fail(format!(
                    "unknown setting `{key}` (the keys are `hypnos server`'s flags without their \
                     dashes, e.g. `listen` or `max-connections`)"
                )));
            };
            let texts = as_texts(&value).ok_or_else(|| {
                fail(format!(
                    "`{key}` must be a string, a number, a boolean or a list of them"
                ))
            })?;
            if texts.len() != 1 && !takes_many(flag) {
                return Err(fail(format!("`{key}` takes one value, not a list")));
            }
            check_value(&key, &texts).map_err(|problem| fail(format!("`{key}`: {problem}")))?;
            values.insert(key, texts);
        }
        Ok(Self {
            path: path.to_owned(),
            values,
        })
    }

    /// The file's path, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file sets the flag with this long name.
    pub fn sets(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }

    /// `command` (one whose arguments include the server's flags, e.g. `hypnos server`) with the
    /// file's values as the flags' defaults.
    pub fn apply(&self, mut command: Command) -> Command {
        for (key, texts) in &self.values {
            let id = command
                .get_arguments()
                .find(|arg| arg.get_long() == Some(key.as_str()))
                .map(|arg| arg.get_id().clone());
            if let Some(id) = id {
                command = command.mut_arg(id, |arg| arg.default_values(texts.clone()));
            }
        }
        command
    }

    /// The server's settings from the file, the environment and the defaults (no command line):
    /// what the operator commands run with.
    pub fn server_config(file: Option<&Self>) -> Result<ServerConfig, String> {
        let mut command = <DefaultsOnly as clap::CommandFactory>::command();
        if let Some(file) = file {
            command = file.apply(command);
        }
        let matches = command
            .try_get_matches_from(["hypnos"])
            .map_err(|err| clap_problem(&err))?;
        <DefaultsOnly as clap::FromArgMatches>::from_arg_matches(&matches)
            .map(|parsed| parsed.config)
            .map_err(|err| clap_problem(&err))
    }
}

/// The server's flags.
fn settings() -> Vec<Arg> {
    <DefaultsOnly as clap::CommandFactory>::command()
        .get_arguments()
        .filter(|arg| arg.get_long().is_some())
        .cloned()
        .collect()
}

fn takes_many(flag: &Arg) -> bool {
    flag.get_value_delimiter().is_some()
        || flag
            .get_num_args()
            .is_some_and(|range| range.max_values() > 1)
}

/// A TOML value as the command line's text: strings as they are, numbers and booleans written
/// out, arrays element by element (one level).
fn as_texts(value: &toml::Value) -> Option<Vec<String>> {
    let scalar = |value: &toml::Value| match value {
        toml::Value::String(text) => Some(text.clone()),
        toml::Value::Integer(number) => Some(number.to_string()),
        toml::Value::Float(number) => Some(number.to_string()),
        toml::Value::Boolean(flag) => Some(flag.to_string()),
        _ => None,
    };
    match value {
        toml::Value::Array(items) => items.iter().map(scalar).collect(),
        other => scalar(other).map(|text| vec![text]),
    }
}

/// Runs one key's values through the flag's own parser, alone, with the environment ignored
/// (an environment variable must not mask an error in the file).
fn check_value(key: &str, texts: &[String]) -> Result<(), String> {
    let command = <DefaultsOnly as clap::CommandFactory>::command();
    let command = command
        .get_arguments()
        .map(|arg| arg.get_id().clone())
        .collect::<Vec<_>>()
        .into_iter()
        .fold(command, |command, id| {
            command.mut_arg(id, |arg| arg.env(None::<&str>).required(false))
        })
        .no_binary_name(true)
        .ignore_errors(false);
    let mut args = Vec::with_capacity(texts.len() * 2);
    for text in texts {
        args.push(format!("--{key}"));
        args.push(text.clone());
    }
    match command.try_get_matches_from(args) {
        Ok(_) => Ok(()),
        // A flag that needs another (--tls-cert and --tls-key) is checked with the whole
        // configuration, where the other may come from anywhere.
        Err(err) if err.kind() == clap::error::ErrorKind::MissingRequiredArgument => Ok(()),
        Err(err) => Err(clap_problem(&err)),
    }
}

/// The first line of a clap error, without its "error: " prefix and the flag's placeholder.
fn clap_problem(err: &clap::Error) -> String {
    let rendered = err.render().to_string();
    let line = rendered.lines().next().unwrap_or_default();
    line.trim_start_matches("error: ").to_owned()
}

/// Where a setting's value came from, for `--check-config`.
fn origin(matches: &ArgMatches, arg: &Arg, file: Option<&ConfigFile>) -> String {
    let long = arg.get_long().unwrap_or_default();
    match matches.value_source(arg.get_id().as_str()) {
        Some(ValueSource::CommandLine) => "command line".into(),
        Some(ValueSource::EnvVariable) => format!(
            "environment ({})",
            arg.get_env()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default()
        ),
        Some(ValueSource::DefaultValue) if file.is_some_and(|file| file.sets(long)) => file
            .map(|file| file.path().display().to_string())
            .unwrap_or_default(),
        _ => "default".into(),
    }
}

/// The effective settings of `hypnos server`'s `matches`, as a configuration file (each line
/// says where its value came from), with secrets masked: a database URL's password. Hidden
/// settings (knobs for tests) are left out; unset ones are shown commented out.
pub fn describe(command: &Command, matches: &ArgMatches, file: Option<&ConfigFile>) -> String {
    let settings = settings();
    let mut out = String::new();
    for arg in command.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if arg.is_hide_set() || !settings.iter().any(|flag| flag.get_long() == Some(long)) {
            continue;
        }
        let values: Vec<String> = matches
            .get_raw(arg.get_id().as_str())
            .map(|raw| {
                raw.map(|value| mask(long, &value.to_string_lossy()))
                    .collect()
            })
            .unwrap_or_default();
        let line = match values.as_slice() {
            [] => format!("# {long} = (not set)"),
            [one] if !takes_many(arg) => format!("{long} = {}", toml_string(one)),
            many => format!(
                "{long} = [{}]",
                many.iter()
                    .map(|v| toml_string(v))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        out.push_str(&format!("{line:<60} # {}\n", origin(matches, arg, file)));
    }
    out
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// A setting's value as it may be shown: a database URL without its password.
fn mask(key: &str, value: &str) -> String {
    if key != "database" {
        return value.to_owned();
    }
    let mut shown = value.to_owned();
    // postgres://user:password@host/db
    if let Some(scheme_end) = shown.find("://") {
        let rest = &shown[scheme_end + 3..];
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@')
            && let Some(colon) = rest[..at].find(':')
        {
            let start = scheme_end + 3 + colon + 1;
            shown.replace_range(start..scheme_end + 3 + at, "****");
        }
    }
    // …?password=secret&…
    if let Some(query) = shown.find('?') {
        let (head, tail) = shown.split_at(query + 1);
        let masked: Vec<String> = tail
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if name.eq_ignore_ascii_case("password") => format!("{name}=****"),
                _ => pair.to_owned(),
            })
            .collect();
        shown = format!("{head}{}", masked.join("&"));
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_password_is_masked_wherever_it_is() {
        assert_eq!(
            mask(
                "database",
                "postgres://hypnos:s3cr@t@db:5432/hypnos?sslmode=require"
            ),
            "postgres://hypnos:****@db:5432/hypnos?sslmode=require"
        );
        assert_eq!(
            mask(
                "database",
                "postgres://db/hypnos?user=h&password=s3cret&sslmode=require"
            ),
            "postgres://db/hypnos?user=h&password=****&sslmode=require"
        );
        assert_eq!(
            mask("database", "sqlite://data/hypnos.db"),
            "sqlite://data/hypnos.db"
        );
        assert_eq!(
            mask("database", "postgres://hypnos@db/h"),
            "postgres://hypnos@db/h"
        );
        assert_eq!(mask("listen", "a:b@c"), "a:b@c");
    }
}
