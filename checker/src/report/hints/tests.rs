#[cfg(lab_has_solution)]
use std::path::Path;

use super::*;
use crate::report::findings::tests::{every_finding, todos_named};

/// Whether `text` holds code: a path (`a::b`), a call (`name(`, `.name(`), a macro
/// (`name!(`), a match arm or a statement.
fn code_in(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    for (at, pair) in chars.windows(2).enumerate() {
        let is_call =
            (pair[0].is_alphanumeric() || pair[0] == '_' || pair[0] == '!') && pair[1] == '(';
        let statement_end = pair == [';', '\n'];
        if is_call || statement_end || pair == [':', ':'] || pair == ['=', '>'] {
            let from = at.saturating_sub(20);
            return Some(chars[from..(at + 10).min(chars.len())].iter().collect());
        }
    }
    if text.ends_with(';') {
        return Some(text.to_owned());
    }
    ['{', '}']
        .iter()
        .find(|brace| text.contains(**brace))
        .map(|brace| brace.to_string())
}

fn every_hint() -> Vec<(String, &'static str)> {
    let mut hints: Vec<(String, &'static str)> = every_finding()
        .iter()
        .map(|finding| (finding.slug().to_owned(), short(finding)))
        .collect();
    hints.extend(TODOS.map(|todo| (format!("TODO {todo}"), long(todo).unwrap())));
    hints
}

#[cfg(lab_has_solution)]
/// The code between `// TODO n` (and its comment lines) and `// END TODO n` in the
/// reference server: what the hints must not write out.
fn reference_answers(source: &str) -> Vec<String> {
    let mut answers = Vec::new();
    let mut in_block = false;
    for line in source.lines().map(str::trim) {
        if line.starts_with("// TODO ") {
            in_block = true;
        } else if line.starts_with("// END TODO ") {
            in_block = false;
        } else if in_block && !line.starts_with("//") && !line.is_empty() {
            answers.push(line.to_owned());
        }
    }
    answers
}

#[cfg(lab_has_solution)]
/// The calls and paths in a line of code: `w_epoll::add`, `fork(`, `set_nonblocking(`.
fn calls_and_paths(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == ':';
    let mut start = None;
    for (at, c) in line.char_indices().chain([(line.len(), ' ')]) {
        match (word(c), start) {
            (true, None) => start = Some(at),
            (false, Some(from)) => {
                let token = line[from..at].trim_matches(':');
                if token.contains("::") {
                    found.push(token.to_owned());
                }
                if c == '(' && !token.is_empty() {
                    let name = token.rsplit("::").next().unwrap_or(token);
                    found.push(format!("{name}("));
                }
                start = None;
            }
            _ => {}
        }
    }
    found
}

#[test]
fn every_finding_and_every_todo_has_a_hint() {
    for (whose, hint) in every_hint() {
        assert!(
            hint.len() > 20 && hint.trim() == hint,
            "{whose}: the hint {hint:?} is empty or padded"
        );
    }
    assert!(long(0).is_none() && long(10).is_none());
}

/// A hint names a TODO only where its finding does, which is only where the run saw
/// what backs it.
#[test]
fn a_hint_names_no_todo_its_finding_does_not() {
    for finding in every_finding() {
        let named = todos_named(short(&finding));
        assert!(
            named.iter().all(|todo| finding.todos().contains(todo)),
            "{}: the hint names TODOs {named:?}, the finding {:?}",
            finding.slug(),
            finding.todos()
        );
        assert!(!short(&finding).contains("TODO n"), "{}", finding.slug());
    }
}

#[test]
fn short_hints_fit_on_a_line_or_two() {
    for finding in every_finding() {
        let hint = short(&finding);
        assert!(
            hint.len() <= 160,
            "{}: {} characters",
            finding.slug(),
            hint.len()
        );
        assert!(!hint.contains('\n'), "{}", finding.slug());
    }
}

#[test]
fn no_hint_writes_code() {
    for (whose, hint) in every_hint() {
        assert_eq!(code_in(hint), None, "{whose}: {hint}");
        assert!(!hint.contains("lab::"), "{whose}: {hint}");
    }
    // The rule itself sees code.
    assert!(code_in("call reap(None, ...)").is_some());
    assert!(code_in("use nix::unistd").is_some());
    assert!(code_in("drop the socket;\nthen").is_some());
    assert!(code_in("the loop, then epoll_wait (sleeps)").is_none());
}

/// No hint holds a line, a call or a path of the reference's TODO blocks. (A
/// student's copy has no reference: there `no_hint_writes_code` is the guard.)
#[cfg(lab_has_solution)]
#[test]
fn no_hint_holds_the_references_answers() {
    let reference = Path::new(env!("CARGO_MANIFEST_DIR")).join("../solution/src/bin/server.rs");
    let source = std::fs::read_to_string(&reference).unwrap();
    let answers = reference_answers(&source);
    assert!(
        answers.len() > 40,
        "only {} lines of answers found",
        answers.len()
    );
    let mut forbidden: Vec<String> = answers
        .iter()
        .flat_map(|line| calls_and_paths(line))
        .collect();
    assert!(
        forbidden
            .iter()
            .any(|call| call.strip_suffix('(') == Some("fork")),
        "{forbidden:?}"
    );
    assert!(
        forbidden.iter().any(|path| path == "w_epoll::add"),
        "{forbidden:?}"
    );
    forbidden.extend(answers.into_iter().filter(|line| line.len() >= 8));
    for (whose, hint) in every_hint() {
        for answer in &forbidden {
            assert!(
                !hint.contains(answer.as_str()),
                "{whose} holds {answer:?}: {hint}"
            );
        }
    }
}
