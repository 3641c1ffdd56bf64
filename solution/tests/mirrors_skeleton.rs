//! The reference server and the skeleton must be the same file except inside the TODO
//! blocks, so that what students are given is exactly what the solution builds on.
//!
//! The convention: a block starts at a comment line `// TODO <n>...`, goes on with the
//! comment lines right after it (the instructions, which must match too), and ends at
//! `// END TODO <n>`. Only the code between the instructions and the end marker may
//! differ. `use` declarations may differ as well: each file imports what its code uses.

use std::fs;
use std::path::Path;

/// The lines that must be equal in both files: everything but TODO code and imports.
fn given_lines(path: &Path) -> Vec<String> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut given = Vec::new();
    let mut lines = text.lines().map(str::trim_end).peekable();
    while let Some(line) = lines.next() {
        let code = line.trim_start();
        if code.starts_with("use ") {
            if !line.ends_with(';') {
                lines.by_ref().find(|next| next.ends_with(';'));
            }
            continue;
        }
        given.push(line.to_owned());
        if let Some(number) = code.strip_prefix("// TODO ") {
            let number: String = number.chars().take_while(char::is_ascii_digit).collect();
            while let Some(comment) = lines.next_if(|next| next.trim_start().starts_with("//")) {
                given.push(comment.to_owned());
            }
            let end = format!("// END TODO {number}");
            let found_end = lines.by_ref().any(|next| next.trim() == end);
            assert!(
                found_end,
                "{}: TODO {number} has no `{end}`",
                path.display()
            );
            given.push(end);
        }
    }
    given
}

#[test]
fn server_matches_skeleton_outside_todo_blocks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let skeleton = given_lines(&root.join("skeleton/src/bin/server.rs"));
    let solution = given_lines(&root.join("solution/src/bin/server.rs"));
    for (number, (ours, theirs)) in solution.iter().zip(&skeleton).enumerate() {
        assert_eq!(
            ours,
            theirs,
            "given line {} differs between solution and skeleton (outside TODO blocks)",
            number + 1
        );
    }
    assert_eq!(
        solution.len(),
        skeleton.len(),
        "one file has given lines the other lacks"
    );
    let todos: Vec<_> = solution
        .iter()
        .filter(|l| l.trim_start().starts_with("// END TODO"))
        .collect();
    assert_eq!(todos.len(), 9, "expected TODOs 1 to 9, found {todos:?}");
}

/// The skeleton's tests of the untouched server run on a copy of it
/// (skeleton/tests/untouched/server.rs): in the lab's own repository the copy must be the
/// skeleton as it is handed out, so that they prove the shipped skeleton. (This package
/// is not handed out: in a student's copy the skeleton is their work in progress.)
#[test]
fn untouched_copy_is_the_shipped_skeleton() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../skeleton");
    let shipped = fs::read_to_string(root.join("src/bin/server.rs")).unwrap();
    let copy = fs::read_to_string(root.join("tests/untouched/server.rs")).unwrap();
    let (header, body) = copy
        .split_once("\n\n")
        .expect("a header comment, a blank line, then the server");
    assert!(
        header.lines().all(|line| line.starts_with("// ")),
        "{header}"
    );
    assert!(
        body == shipped,
        "tests/untouched/server.rs (after its header) must be src/bin/server.rs as handed out"
    );
}
