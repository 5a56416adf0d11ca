//! The options tables of `docs/configuration.md` against the command line
//! clap knows: every visible long option is in its command's table with
//! its environment variable, and every option in a table exists.

use std::collections::BTreeMap;

use clap::CommandFactory;

use crate::cli::Cli;

const DOC: &str = include_str!("../../docs/configuration.md");
const DOC_PATH: &str = "docs/configuration.md";

/// One table row: its line, the long options of its first cell and the
/// environment variables of its second.
#[derive(Debug)]
struct Row {
    line: usize,
    flags: Vec<String>,
    envs: Vec<String>,
}

/// The rows of each command's table: "" for the service itself (the
/// "Options" section), else the subcommand named by a
/// "### `tars-camera NAME`" heading.
fn tables(doc: &str) -> BTreeMap<String, Vec<Row>> {
    let mut tables: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for (i, line) in doc.lines().enumerate() {
        if let Some(title) = line.strip_prefix("### ") {
            current = title
                .trim()
                .strip_prefix("`tars-camera ")
                .and_then(|t| t.strip_suffix('`'))
                .map(str::to_owned);
        } else if let Some(title) = line.strip_prefix("## ") {
            current = (title.trim() == "Options").then(String::new);
        } else if let Some(command) = &current
            && line.starts_with("| `--")
        {
            let cells: Vec<String> = line
                .replace("\\|", "/")
                .split('|')
                .map(str::to_owned)
                .collect();
            assert!(
                cells.len() >= 6,
                "{DOC_PATH}:{}: a row needs flag, env, default and meaning",
                i + 1
            );
            tables.entry(command.clone()).or_default().push(Row {
                line: i + 1,
                flags: long_options(&cells[1]),
                envs: env_vars(&cells[2]),
            });
        }
    }
    tables
}

/// `--name` tokens of a cell, without the dashes.
fn long_options(cell: &str) -> Vec<String> {
    cell.split("--")
        .skip(1)
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
                .collect::<String>()
        })
        .filter(|name| !name.is_empty())
        .collect()
}

/// Environment variable names of a cell (`CAMERA_WIDTH`, `MQTT_URL`).
fn env_vars(cell: &str) -> Vec<String> {
    cell.split(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
        .filter(|w| w.len() > 1 && w.starts_with(|c: char| c.is_ascii_uppercase()))
        .map(str::to_owned)
        .collect()
}

/// The visible long options of a command, with their environment variable.
fn clap_options(command: &clap::Command) -> BTreeMap<String, Option<String>> {
    command
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| {
            let long = a.get_long()?;
            (long != "help" && long != "version").then(|| {
                (
                    long.to_owned(),
                    a.get_env().map(|e| e.to_string_lossy().into_owned()),
                )
            })
        })
        .collect()
}

/// Each option of the rows with the variable the row gives it: a row
/// names one variable per option, in the same order, or none at all.
fn documented(rows: &[Row], command: &str) -> BTreeMap<String, (usize, Option<String>)> {
    let mut options = BTreeMap::new();
    for row in rows {
        assert!(
            row.envs.is_empty() || row.envs.len() == row.flags.len(),
            "{DOC_PATH}:{}: `tars-camera {command}`: {} option(s) but {} variable(s); give one per option, in order",
            row.line,
            row.flags.len(),
            row.envs.len()
        );
        for (i, flag) in row.flags.iter().enumerate() {
            let previous = options.insert(flag.clone(), (row.line, row.envs.get(i).cloned()));
            assert!(
                previous.is_none(),
                "{DOC_PATH}:{}: --{flag} is in the table twice",
                row.line
            );
        }
    }
    options
}

#[test]
fn the_options_tables_match_the_command_line() {
    let root = Cli::command();
    let tables = tables(DOC);
    let mut commands = vec![(String::new(), root.clone())];
    commands.extend(
        root.get_subcommands()
            .map(|s| (s.get_name().to_owned(), s.clone())),
    );
    let mut problems = Vec::new();
    for (name, command) in &commands {
        let known = clap_options(command);
        let label = if name.is_empty() {
            "tars-camera".to_owned()
        } else {
            format!("tars-camera {name}")
        };
        if known.is_empty() {
            continue;
        }
        let Some(rows) = tables.get(name) else {
            problems.push(format!(
                "`{label}` has options but {DOC_PATH} has no table for it"
            ));
            continue;
        };
        let in_doc = documented(rows, name);
        for (long, env) in &known {
            match in_doc.get(long) {
                None => problems.push(format!("`{label}`: --{long} is not in the table")),
                Some((line, doc_env)) if doc_env != env => problems.push(format!(
                    "{DOC_PATH}:{line}: `{label}` --{long}: the table says {doc_env:?}, the command line {env:?}"
                )),
                Some(_) => {}
            }
        }
        for (long, (line, _)) in &in_doc {
            if !known.contains_key(long) {
                problems.push(format!(
                    "{DOC_PATH}:{line}: `{label}` has no option --{long}"
                ));
            }
        }
    }
    for name in tables.keys() {
        if !commands.iter().any(|(n, _)| n == name) {
            problems.push(format!(
                "{DOC_PATH}: a table for `tars-camera {name}`, which does not exist"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_table_reader_reads_rows_with_several_options() {
    let doc = "## Options\n\n| flag | env | default | meaning |\n|---|---|---|---|\n\
               | `--width`, `--height` | `CAMERA_WIDTH`, `CAMERA_HEIGHT` | 640, 480 | size |\n\
               | `--source camera\\|file` | `CAMERA_SOURCE` | camera | source |\n\
               | `--no-tui` | | off | headless |\n\n## Errors\n\n| `--not-a-row` | | | |\n\n\
               ### `tars-camera broker`\n\n| `--port` | | 1883 | port |\n";
    let tables = tables(doc);
    let main = documented(&tables[""], "");
    assert_eq!(
        main["height"],
        (5, Some("CAMERA_HEIGHT".to_owned())),
        "{main:?}"
    );
    assert_eq!(main["source"].1.as_deref(), Some("CAMERA_SOURCE"));
    assert_eq!(main["no-tui"].1, None);
    assert!(!main.contains_key("not-a-row"));
    assert!(
        !main.contains_key("file"),
        "a value in the flag cell is not an option"
    );
    assert_eq!(documented(&tables["broker"], "broker")["port"].1, None);
}
