//! The documents name only what is there. Every path, package, binary, checker verb and
//! flag that the README, docs/checker.md and (where this copy has them) INSTRUCTORS.md and
//! CONTRIBUTING.md write in code is checked against the tree, the workspace's manifests
//! and the checker's own `--help`, and the facts the guide states about the checker's
//! output (the grade book's columns, the number of Gradescope tests, the stages of
//! scripts/stage.sh) against their sources.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;

use common::workspace;

/// The top-level entries of the tree that a path in a document may start with.
const ROOTS: [&str; 10] = [
    "skeleton/",
    "checker/",
    "gen-testfile/",
    "scripts/",
    "docs/",
    "solution/",
    "target/",
    ".github/",
    ".ci/",
    ".devcontainer/",
];

/// Folders the documents name that come with the dev container and a platform's kit:
/// the paths in them are checked once the folder is in the tree.
const BROUGHT_BY_KITS: [&str; 2] = [".devcontainer/", "scripts/prairielearn/"];

/// The flags of cargo and of the lab's other programs that the documents may name.
const OTHER_FLAGS: [&str; 14] = [
    "--workspace",
    "--locked",
    "--release",
    "--all-targets",
    "--all",
    "--check",
    "--quiet",
    "--bin",
    "--test",
    "--ppid",
    "--kill-after",
    // scripts/similarity.sh's, and the container engine's (docs/platforms.md).
    "--run",
    "--security-opt",
    // scripts/time-checker.sh's.
    "--uncontained",
];

fn documents() -> Vec<&'static str> {
    let mut names = vec!["README.md", "docs/checker.md"];
    if cfg!(lab_has_solution) {
        names.extend(["INSTRUCTORS.md", "CONTRIBUTING.md", "docs/platforms.md"]);
    }
    names
}

fn read(name: &str) -> String {
    fs::read_to_string(workspace().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The code a document writes: each line of a fenced block (not a diagram), with its
/// shell comment cut off, and each inline `span`, joined across a line break.
fn code_in(text: &str) -> Vec<String> {
    let mut code = Vec::new();
    let mut prose = String::new();
    let mut fence: Option<bool> = None;
    for line in text.lines() {
        if let Some(info) = line.trim_start().strip_prefix("```") {
            fence = match fence {
                None => Some(info.trim() != "mermaid"),
                Some(_) => None,
            };
            continue;
        }
        match fence {
            Some(true) => code.push(match line.find(" #") {
                Some(at) => line[..at].to_owned(),
                None => line.to_owned(),
            }),
            Some(false) => {}
            None => {
                prose.push_str(line);
                prose.push(' ');
            }
        }
    }
    let mut spans = prose.split('`');
    spans.next();
    while let Some(span) = spans.next() {
        code.push(span.to_owned());
        spans.next();
    }
    code
}

/// The words of a piece of code, split where a shell splits them.
fn words(code: &str) -> Vec<String> {
    code.split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '(' | ')' | '"' | '\''))
        .filter(|word| !word.is_empty())
        .map(ToOwned::to_owned)
        .collect()
}

fn checker_help(verb: Option<&str>) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_checker"));
    command.args(verb).arg("--help");
    let output = command.output().unwrap();
    assert!(output.status.success(), "checker {verb:?} --help");
    String::from_utf8(output.stdout).unwrap()
}

/// The checker's verbs, from its help.
fn verbs(help: &str) -> Vec<String> {
    help.split("Commands:\n")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next().map(ToOwned::to_owned))
        .collect()
}

/// Whether `help` offers `flag`.
fn offers(help: &str, flag: &str) -> bool {
    help.match_indices(flag).any(|(at, _)| {
        !help[at + flag.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '-')
    })
}

/// The names in `[[bin]]`, `[lib]` and `[package]` sections and the files of `src/bin/`.
fn packages_and_binaries() -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut packages, mut binaries) = (BTreeSet::new(), BTreeSet::new());
    for member in ["skeleton", "checker", "gen-testfile", "solution"] {
        let Ok(manifest) = fs::read_to_string(workspace().join(member).join("Cargo.toml")) else {
            continue;
        };
        let mut section = "";
        for line in manifest.lines() {
            if line.starts_with('[') {
                section = line;
            } else if let Some(name) = line.strip_prefix("name = ") {
                let name = name.trim_matches('"').to_owned();
                match section {
                    "[package]" => packages.insert(name),
                    "[[bin]]" | "[[example]]" => binaries.insert(name),
                    _ => false,
                };
            }
        }
        if let Ok(entries) = fs::read_dir(workspace().join(member).join("src/bin")) {
            for entry in entries {
                let name = entry.unwrap().file_name().into_string().unwrap();
                binaries.insert(name.trim_end_matches(".rs").to_owned());
            }
        }
    }
    binaries.insert("checker".into());
    (packages, binaries)
}

/// Where `path` (as a document writes it) should be, and whether it is there.
fn exists(path: &str, binaries: &BTreeSet<String>) -> bool {
    let path = path.trim_end_matches(['.', ',', ':']);
    if let Some(name) = path.strip_prefix("target/debug/") {
        return binaries.contains(name);
    }
    if let Some(name) = path.strip_prefix("target/") {
        // A folder the checker makes: its sources name it.
        let sources = ["checker/src/build/mod.rs", "checker/src/build/scratch.rs"];
        return sources
            .iter()
            .any(|file| read(file).contains(name.trim_end_matches('/')));
    }
    if let Some((dir, _)) = path.split_once('*') {
        return workspace().join(dir).is_dir();
    }
    workspace().join(path).exists()
}

#[test]
fn every_path_a_document_names_is_in_the_tree() {
    let (_, binaries) = packages_and_binaries();
    let mut missing = Vec::new();
    let mut named = 0;
    for document in documents() {
        for code in code_in(&read(document)) {
            for word in words(&code) {
                let word = word.trim_start_matches("./");
                let top_document = word.ends_with(".md")
                    && !word.contains('/')
                    && word.starts_with(|c: char| c.is_ascii_uppercase());
                if !ROOTS.iter().any(|root| word.starts_with(root)) && !top_document {
                    continue;
                }
                if word.contains('<') || word.contains("NAME") {
                    continue;
                }
                named += 1;
                // A kit's folder not yet in this tree: its paths are checked once it is.
                let pending = BROUGHT_BY_KITS
                    .iter()
                    .any(|kit| word.starts_with(kit) && !workspace().join(kit).exists());
                if !pending && !exists(word, &binaries) {
                    missing.push(format!("{document}: {word}"));
                }
            }
        }
    }
    // The handout has the README and the manual alone: some fifteen paths.
    assert!(named > 10, "only {named} paths found: the reader is broken");
    assert!(
        missing.is_empty(),
        "paths not in the tree:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_package_and_binary_a_document_runs_is_in_the_workspace() {
    let (packages, binaries) = packages_and_binaries();
    let mut wrong = Vec::new();
    for document in documents() {
        for code in code_in(&read(document)) {
            let words = words(&code);
            let Some(cargo) = words.iter().position(|word| word == "cargo") else {
                continue;
            };
            for pair in words[cargo..].windows(2) {
                let known = match pair[0].as_str() {
                    "-p" => packages.contains(&pair[1]),
                    "--bin" => binaries.contains(&pair[1]),
                    _ => true,
                };
                if !known {
                    wrong.push(format!("{document}: {} {}", pair[0], pair[1]));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "not in the workspace:\n{}",
        wrong.join("\n")
    );
}

/// A command of the checker in a document (`cargo run -p checker -- VERB ...`,
/// `target/debug/checker ...`, `checker VERB ...`): its verb is one of the checker's and
/// each flag is in that verb's help; any other flag a document names is one of the
/// checker's, the lab's programs' or cargo's.
#[test]
fn every_checker_command_and_flag_a_document_names_is_in_the_help() {
    let top = checker_help(None);
    let verbs = verbs(&top);
    assert!(verbs.iter().any(|verb| verb == "class"), "{verbs:?}");
    let help_of = |verb: &str| match verb {
        "grade" | "watch" | "experiment" | "help" => top.clone(),
        verb => checker_help(Some(verb)),
    };
    let every_help: String = verbs.iter().map(|verb| help_of(verb)).collect::<String>() + &top;
    let programs: String = ["skeleton/src/options.rs", "gen-testfile/src/main.rs"]
        .iter()
        .map(|file| read(file))
        .collect();
    let mut wrong = Vec::new();
    let mut commands = 0;
    for document in documents() {
        for code in code_in(&read(document)) {
            let words = words(&code);
            for (at, word) in words.iter().enumerate() {
                if word.starts_with("--") && word[2..].starts_with(|c: char| c.is_ascii_lowercase())
                {
                    let flag = word.split('=').next().unwrap();
                    let field = flag.trim_start_matches('-').replace('-', "_");
                    let known = offers(&every_help, flag)
                        || OTHER_FLAGS.contains(&flag)
                        || programs.contains(&format!("pub {field}:"));
                    if !known {
                        wrong.push(format!("{document}: {flag} is no flag of the lab's"));
                    }
                }
                let after_p = at > 0 && words[at - 1] == "-p";
                let args = match word.as_str() {
                    // `cargo run -p checker -- ARGS`, or `cargo run -p checker` alone.
                    "checker" if after_p => match words.get(at + 1) {
                        Some(dashes) if dashes == "--" => &words[at + 2..],
                        _ => &words[at + 1..at + 1],
                    },
                    // `checker VERB ...` at the start of a span; elsewhere it is prose.
                    "checker" if at == 0 => &words[1..],
                    path if path.ends_with("/checker") => &words[at + 1..],
                    _ => continue,
                };
                let args: Vec<&String> = args
                    .iter()
                    .take_while(|arg| !matches!(arg.as_str(), "|" | ">" | "&&" | "||"))
                    .collect();
                commands += 1;
                let verb = args.first().filter(|arg| !arg.starts_with('-'));
                let help = match verb {
                    Some(verb) if verbs.contains(verb) => help_of(verb),
                    Some(verb) if verb.chars().all(|c| c.is_ascii_uppercase()) => top.clone(),
                    Some(verb) => {
                        wrong.push(format!("{document}: checker has no verb {verb}"));
                        continue;
                    }
                    None => top.clone(),
                };
                for flag in args
                    .iter()
                    .filter(|arg| arg.starts_with("--") && arg.len() > 2)
                {
                    let flag = flag.split('=').next().unwrap();
                    if !offers(&help, flag) {
                        wrong.push(format!("{document}: checker {verb:?} has no {flag}"));
                    }
                }
            }
        }
    }
    assert!(commands > 10, "only {commands} checker commands found");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The guide's statements about what the checker and the scripts write, held to their
/// sources: the grade books' columns, Gradescope's tests, the stages.
#[cfg(lab_has_solution)]
#[test]
fn the_guide_states_the_columns_the_tests_and_the_stages_as_they_are() {
    let guide = read("INSTRUCTORS.md");
    // The grade book's one row, for --csv and checker class alike.
    let source = "checker/src/report/csv.rs";
    let text = read(source);
    let columns = text
        .split("const COLUMNS")
        .nth(1)
        .and_then(|rest| rest.split_once("= [")?.1.split_once("];"))
        .map(|(list, _)| list)
        .unwrap_or_else(|| panic!("{source} has no COLUMNS"));
    let header: Vec<&str> = columns
        .split(',')
        .map(|column| column.trim().trim_matches('"'))
        .filter(|column| !column.is_empty())
        .collect();
    let header = format!("`{}`", header.join(","));
    assert!(
        guide.contains(&header),
        "INSTRUCTORS.md does not give the header of {source}: {header}"
    );
    let table = Command::new(env!("CARGO_BIN_EXE_checker"))
        .args(["checks", "--json"])
        .output()
        .unwrap();
    let checks: serde_json::Value = serde_json::from_slice(&table.stdout).unwrap();
    let tests = checks.as_array().unwrap().len();
    let plain = guide.replace('\n', " ");
    assert!(
        plain.contains(&format!("numbered 1 to {tests}")),
        "Gradescope's {tests} tests"
    );
    let stage = read("scripts/stage.sh");
    let usage = stage
        .lines()
        .find_map(|line| line.split("scripts/stage.sh ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap();
    for document in documents() {
        for code in code_in(&read(document)) {
            if let Some(rest) = code.split("scripts/stage.sh ").nth(1) {
                let stages = rest.split_whitespace().next().unwrap();
                if stages.contains('|') {
                    assert_eq!(stages, usage, "{document}: the stages of scripts/stage.sh");
                }
            }
        }
    }
}

#[test]
fn the_readme_is_a_handout_a_student_reads_in_ten_minutes() {
    let readme = read("README.md");
    assert!(
        readme.len() <= 12 * 1024,
        "README.md is {} bytes",
        readme.len()
    );
    assert!(
        readme.contains("cargo test --workspace"),
        "the test command"
    );
    assert!(
        readme.contains("](docs/checker.md)"),
        "the link to the manual"
    );
    let first_screen: String = readme.lines().take(24).collect::<Vec<_>>().join("\n");
    for needed in ["Linux", ".devcontainer/", "WSL 2"] {
        assert!(
            first_screen.contains(needed),
            "the first screen lacks {needed}"
        );
    }
    // No fixes written as code: no paths into the code and no calls in it.
    for code in code_in(&readme) {
        assert!(
            !code.contains("::") && !code.contains("lab::"),
            "README writes code: {code}"
        );
    }
    assert!(Path::new(&workspace().join("docs/checker.md")).is_file());
}

#[cfg(lab_has_solution)]
#[test]
fn the_guide_is_one_a_new_instructor_reads_in_a_sitting() {
    let guide = read("INSTRUCTORS.md");
    assert!(
        guide.len() <= 20 * 1024,
        "INSTRUCTORS.md is {} bytes",
        guide.len()
    );
    let headings: Vec<&str> = guide
        .lines()
        .filter_map(|line| line.strip_prefix("## ").or(line.strip_prefix("### ")))
        .collect();
    for needed in [
        "Contents",
        "Quick start",
        "Gradescope",
        "GitHub Classroom",
        "CI runners",
        "PrairieLearn",
        "The threat model",
        "What grading costs",
    ] {
        assert!(
            headings.contains(&needed),
            "no heading {needed}: {headings:?}"
        );
    }
    // Every entry of the contents is a heading.
    let contents = guide
        .split("## Contents")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    for anchor in contents.split("](#").skip(1) {
        let anchor = anchor.split(')').next().unwrap();
        assert!(
            headings
                .iter()
                .any(|heading| heading.to_lowercase().replace(' ', "-") == anchor),
            "the contents link #{anchor}, which no heading has"
        );
    }
}
