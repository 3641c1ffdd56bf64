//! `checker gradescope`: one Gradescope submission graded end to end, as the kit's
//! `run_autograder` asks. The upload is found in `ROOT/submission` (the student's
//! `server.rs` alone, whatever its name, or their repository with
//! `skeleton/src/bin/server.rs`, perhaps inside one folder of its own), graded like any
//! `--submission`, and the result written to `ROOT/results/results.json` in Gradescope's
//! shape, whole or not at all.
//!
//! Three endings, each a different thing on Gradescope:
//! - graded: results.json with the score and a test per check;
//! - an upload that holds nothing to grade: results.json with a score of 0 and the
//!   reason, so the student sees what to upload instead;
//! - the checker could not grade (its own trouble, exit status 3): no results.json at
//!   all. Gradescope then shows "The autograder failed to execute correctly" instead of
//!   a score, the staff see why in the autograder's output, and the student can submit
//!   again. A checker failure is never recorded as a grade of 0.

use std::fs;
use std::path::{Path, PathBuf};

use lab::{Context, Failure};
use serde_json::json;

use std::process::ExitCode;

use crate::cli::JsonFormat;
use crate::report::{json, quote};
use crate::run::RunOutcome;
use crate::trouble::Trouble;
use crate::{exit, grading};

/// `checker gradescope`: the upload in `autograder`/submission graded into
/// `autograder`/results/results.json (see `gradescope`). Exit status 0 with a result for
/// the student (a grade, or a refused upload), 3 with no result when the checker could
/// not grade.
pub fn autograde(
    root: Option<std::path::PathBuf>,
    autograder: &Path,
    passed: &[std::ffi::OsString],
) -> ExitCode {
    let autograder = std::path::absolute(autograder).unwrap_or_else(|_| autograder.to_owned());
    let results = autograder.join("results").join("results.json");
    let _ = fs::remove_file(&results);
    let outcome = (|| -> Result<(), Trouble> {
        match find(&autograder.join("submission"))? {
            Upload::Refused(why) => {
                println!(
                    "gradescope: the upload was refused: {}",
                    crate::report::inert(&why)
                );
                write_whole(&results, &refusal(&why))?;
            }
            Upload::Server(file) => {
                let work = tempfile::TempDir::new().context("making a scratch folder")?;
                let server = work.path().join("server.rs");
                fs::copy(&file, &server).with_context(|| format!("copying {}", file.display()))?;
                // Graded from the scratch folder, so that the report names the file the
                // student knows, `server.rs`, and no path of the grading machine.
                std::env::set_current_dir(work.path())
                    .with_context(|| format!("entering {}", work.path().display()))?;
                let mut args: Vec<std::ffi::OsString> = vec![
                    "checker".into(),
                    "--submission".into(),
                    "server.rs".into(),
                    "--log-dir".into(),
                    work.path().join("logs").into(),
                ];
                args.extend(passed.iter().cloned());
                let options = crate::cli::parse_from(root.as_deref(), args);
                let result = grading::grade(&options, root)?;
                // A build stopped at the time limit says nothing of the student's code
                // that a slow or busy grading machine would not say too: no grade.
                if let RunOutcome::BuildUnfinished { why, .. } = &result.outcome {
                    return Err(Trouble::Checker(lab::Failure::new(
                        "building the submission",
                        format!("{why} (no grade is recorded for a build that did not finish)"),
                    )));
                }
                let value = json::render(&result, JsonFormat::Gradescope);
                write_whole(&results, &value)?;
            }
        }
        Ok(())
    })();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(trouble) => {
            let _ = fs::remove_file(&results);
            exit::tell(trouble);
            println!(
                "gradescope: no result written, so Gradescope shows that the autograder failed; this is no grade of the student's work: run the autograder again"
            );
            ExitCode::from(3)
        }
    }
}

/// What the upload holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Upload {
    /// The server to grade.
    Server(PathBuf),
    /// Nothing to grade, and why (for the student).
    Refused(String),
}

/// The file of `submission` to grade, by the kit's rules (see the module's words).
pub fn find(submission: &Path) -> lab::Result<Upload> {
    let in_repository = Path::new("skeleton/src/bin/server.rs");
    let direct = submission.join(in_repository);
    let candidate = if direct.symlink_metadata().is_ok() {
        Some(direct)
    } else {
        let nested: Vec<PathBuf> = fs::read_dir(submission)
            .with_context(|| format!("reading {}", submission.display()))?
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.join("skeleton").symlink_metadata().is_ok())
            .collect();
        match nested.as_slice() {
            [folder] if folder.join(in_repository).symlink_metadata().is_ok() => {
                Some(folder.join(in_repository))
            }
            _ => None,
        }
    };
    let file = match candidate {
        Some(file) => file,
        None => {
            let mut files = Vec::new();
            list_files(submission, submission, &mut files)?;
            files.sort();
            match files.as_slice() {
                [] => return Ok(Upload::Refused("the upload is empty.".to_owned())),
                [one] if one.extension().is_some_and(|extension| extension == "rs") => {
                    submission.join(one)
                }
                _ => {
                    let mut listed: Vec<String> = files
                        .iter()
                        .take(10)
                        .map(|file| format!("  {}", quote(&file.display().to_string())))
                        .collect();
                    if files.len() > 10 {
                        listed.push(format!("  ... and {} more", files.len() - 10));
                    }
                    return Ok(Upload::Refused(format!(
                        "it holds {} files and no skeleton/src/bin/server.rs:\n{}",
                        files.len(),
                        listed.join("\n")
                    )));
                }
            }
        }
    };
    // Only a file of the upload itself: a link, to the file or to a folder on its way,
    // could name any file of the grader.
    let inside = file.strip_prefix(submission).unwrap_or(&file).to_path_buf();
    let real = fs::canonicalize(&file).ok();
    let expected = fs::canonicalize(submission)
        .ok()
        .map(|root| root.join(&inside));
    let regular = file
        .symlink_metadata()
        .is_ok_and(|metadata| metadata.file_type().is_file());
    if !regular || real.is_none() || real != expected {
        return Ok(Upload::Refused(format!(
            "{} is a link or no regular file.",
            quote(&inside.display().to_string())
        )));
    }
    Ok(Upload::Server(file))
}

/// Every file under `dir` but a `.git` folder's and what an archiver adds of its own
/// (macOS's `__MACOSX/` and `.DS_Store`), relative to `root`; links count as files and are
/// not followed.
fn list_files(root: &Path, dir: &Path, files: &mut Vec<PathBuf>) -> lab::Result<()> {
    for entry in fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .flatten()
    {
        let path = entry.path();
        let is_dir = entry.file_type().is_ok_and(|kind| kind.is_dir());
        if entry.file_name() == ".DS_Store" {
            continue;
        }
        if is_dir {
            if dir == root && (entry.file_name() == ".git" || entry.file_name() == "__MACOSX") {
                continue;
            }
            list_files(root, &path, files)?;
        } else {
            files.push(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
        }
    }
    Ok(())
}

/// The result of an upload that holds nothing to grade: a score of 0, and the reason.
pub fn refusal(why: &str) -> serde_json::Value {
    json!({
        "score": 0,
        "output": format!(
            "Your upload was not graded: {why}\nUpload either your server.rs alone, or your whole repository (with skeleton/src/bin/server.rs in it)."
        ),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
    })
}

/// Writes `value` to `path` whole: to a file beside it first, then renamed.
pub fn write_whole(path: &Path, value: &serde_json::Value) -> lab::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let partial = dir.join(".results.json.partial");
    fs::write(&partial, format!("{value:#}\n"))
        .with_context(|| format!("writing {}", partial.display()))?;
    fs::rename(&partial, path).map_err(|e| Failure::new(format!("writing {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn upload() -> tempfile::TempDir {
        tempfile::TempDir::new().unwrap()
    }

    fn write(root: &Path, file: &str) {
        let path = root.join(file);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, "fn main() {}").unwrap();
    }

    #[test]
    fn a_lone_file_or_a_repository_is_graded() {
        let dir = upload();
        write(dir.path(), "my_server.rs");
        assert_eq!(
            find(dir.path()).unwrap(),
            Upload::Server(dir.path().join("my_server.rs"))
        );
        // A lone file zipped on macOS, with the archiver's own files beside it.
        let dir = upload();
        write(dir.path(), "server.rs");
        write(dir.path(), "__MACOSX/._server.rs");
        write(dir.path(), ".DS_Store");
        assert_eq!(
            find(dir.path()).unwrap(),
            Upload::Server(dir.path().join("server.rs"))
        );
        let dir = upload();
        write(dir.path(), "skeleton/src/bin/server.rs");
        write(dir.path(), "README.md");
        write(dir.path(), ".git/config");
        assert_eq!(
            find(dir.path()).unwrap(),
            Upload::Server(dir.path().join("skeleton/src/bin/server.rs"))
        );
        let dir = upload();
        write(dir.path(), "lab-main/skeleton/src/bin/server.rs");
        write(dir.path(), "lab-main/NOTES.txt");
        assert_eq!(
            find(dir.path()).unwrap(),
            Upload::Server(dir.path().join("lab-main/skeleton/src/bin/server.rs"))
        );
    }

    #[test]
    fn an_upload_with_nothing_to_grade_is_refused_with_what_it_holds() {
        let dir = upload();
        assert_eq!(
            find(dir.path()).unwrap(),
            Upload::Refused("the upload is empty.".into())
        );
        write(dir.path(), "a.rs");
        write(dir.path(), "notes/b\x1b[2J.txt");
        assert_eq!(
            find(dir.path()).unwrap(),
            Upload::Refused(
                "it holds 2 files and no skeleton/src/bin/server.rs:\n  a.rs\n  notes/b\\x1b[2J.txt"
                    .into()
            )
        );
    }

    #[test]
    fn a_link_is_never_followed_out_of_the_upload() {
        let elsewhere = upload();
        write(elsewhere.path(), "skeleton/src/bin/server.rs");
        let dir = upload();
        fs::create_dir_all(dir.path().join("skeleton/src/bin")).unwrap();
        symlink(
            elsewhere.path().join("skeleton/src/bin/server.rs"),
            dir.path().join("skeleton/src/bin/server.rs"),
        )
        .unwrap();
        let refused =
            Upload::Refused("skeleton/src/bin/server.rs is a link or no regular file.".into());
        assert_eq!(find(dir.path()).unwrap(), refused);
        let dir = upload();
        symlink(
            elsewhere.path().join("skeleton"),
            dir.path().join("skeleton"),
        )
        .unwrap();
        assert_eq!(find(dir.path()).unwrap(), refused);
    }
}
