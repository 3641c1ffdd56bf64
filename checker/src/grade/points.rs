//! The points of each check that counts, as the instructor sets them: `points.toml` at the
//! root of the lab the checker's binary was built in (of the lab it runs in, for a binary
//! that lies in none), the one place every way of grading reads (a run, `checker class`, the
//! Gradescope and CI kits, which all run the lab's own checker). Its lines are
//! `SLUG = POINTS` (a TOML table of integers; `#` starts a comment); a check it does not
//! name keeps the grading table's points. The bonus and task 3 count no points and cannot
//! be given any.

use std::path::Path;
use std::sync::OnceLock;

use lab::Failure;

use super::{CheckId, TABLE, Weight};

/// The file's name, at the lab's root.
pub const FILE: &str = "points.toml";

/// The points the lab's file set, read once when the checker starts.
static SET: OnceLock<Vec<(CheckId, u32)>> = OnceLock::new();

/// The points `check` is worth here: the lab's file's, or the table's.
pub fn of(check: CheckId, table: u32) -> u32 {
    SET.get()
        .and_then(|set| set.iter().find(|(id, _)| *id == check))
        .map_or(table, |(_, points)| *points)
}

/// Reads `root`/points.toml, if there is one, for the rest of the run.
pub fn load(root: &Path) -> Result<(), Failure> {
    let path = root.join(FILE);
    let set = match std::fs::read_to_string(&path) {
        Ok(text) => parse(&text).map_err(|why| {
            Failure::new(path.display().to_string(), why).hint(
                "each line is SLUG = POINTS, for the checks `checker checks` lists with points",
            )
        })?,
        // No file at all: the table's points. A link to nowhere is a file meant to be read.
        Err(error)
            if error.kind() == std::io::ErrorKind::NotFound && path.symlink_metadata().is_err() =>
        {
            Vec::new()
        }
        Err(error) => return Err(Failure::new(format!("reading {}", path.display()), error)),
    };
    let _ = SET.set(set);
    Ok(())
}

/// The points a file's text sets, or what is wrong with it (with its line).
pub fn parse(text: &str) -> Result<Vec<(CheckId, u32)>, String> {
    let mut set: Vec<(CheckId, u32)> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line
            .split_once('#')
            .map_or(line, |(before, _)| before)
            .trim();
        if line.is_empty() {
            continue;
        }
        let at = |why: String| format!("line {}: {why}", number + 1);
        let (slug, points) = line
            .split_once('=')
            .ok_or_else(|| at(format!("{line:?} is not SLUG = POINTS")))?;
        let (slug, points) = (slug.trim().trim_matches('"'), points.trim());
        let check = TABLE
            .iter()
            .find(|check| check.slug == slug)
            .ok_or_else(|| at(format!("no check is named {slug:?}")))?;
        if !matches!(check.weight, Weight::Points(_)) {
            return Err(at(format!(
                "{slug} counts no points (the bonus and task 3 are never counted)"
            )));
        }
        let points: u32 = points
            .parse()
            .ok()
            .filter(|points| (1..=1000).contains(points))
            .ok_or_else(|| {
                at(format!(
                    "{points:?} is not a number of points from 1 to 1000"
                ))
            })?;
        if set.iter().any(|(id, _)| *id == check.id) {
            return Err(at(format!("{slug} is set twice")));
        }
        set.push((check.id, points));
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_sets_the_points_of_the_checks_it_names() {
        let set = parse(
            "# the course's weights\nwhole-upload = 10\n\n\"keeps-serving\" = 20 # quoted, as TOML allows\n",
        )
        .unwrap();
        assert_eq!(
            set,
            [(CheckId::WholeUpload, 10), (CheckId::KeepsServing, 20)]
        );
    }

    #[test]
    fn a_wrong_line_is_refused_with_its_number() {
        assert_eq!(
            parse("whole-upload = 10\nzombies = 5").unwrap_err(),
            "line 2: no check is named \"zombies\""
        );
        assert_eq!(
            parse("no-zombies = 5").unwrap_err(),
            "line 1: no-zombies counts no points (the bonus and task 3 are never counted)"
        );
        assert_eq!(
            parse("whole-upload = -3").unwrap_err(),
            "line 1: \"-3\" is not a number of points from 1 to 1000"
        );
        // A check worth nothing would be left out as the bonus is: never counted.
        assert_eq!(
            parse("keeps-serving = 0").unwrap_err(),
            "line 1: \"0\" is not a number of points from 1 to 1000"
        );
        assert_eq!(
            parse("whole-upload 3").unwrap_err(),
            "line 1: \"whole-upload 3\" is not SLUG = POINTS"
        );
        assert_eq!(
            parse("whole-upload = 3\nwhole-upload = 4").unwrap_err(),
            "line 2: whole-upload is set twice"
        );
    }

    #[test]
    fn the_labs_own_file_holds_the_tables_points() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let text = std::fs::read_to_string(root.join(FILE)).unwrap();
        let set = parse(&text).unwrap();
        let table: Vec<(CheckId, u32)> = TABLE
            .iter()
            .filter_map(|check| match check.weight {
                Weight::Points(points) => Some((check.id, points)),
                _ => None,
            })
            .collect();
        assert_eq!(set, table);
    }
}
