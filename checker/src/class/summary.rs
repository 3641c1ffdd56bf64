//! The class at a glance: how many passed each check, which findings the class hit and
//! who hit them, and the spread of totals, as Markdown and as a picture.

use std::collections::BTreeMap;
use std::path::Path;

use crate::class::Graded;
use crate::report::inert;
use plotters::prelude::*;

/// The class at a glance.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// For each check (in the table's order): how many passed, failed, were not checked.
    pub checks: Vec<(String, [usize; 3])>,
    /// For each finding slug: who hit it.
    pub findings: BTreeMap<String, Vec<String>>,
    /// For each total: how many students had it.
    pub totals: BTreeMap<u64, usize>,
    /// Students the checker could not grade, with why.
    pub not_graded: Vec<(String, String)>,
}

impl Summary {
    pub fn of(graded: &[Graded]) -> Self {
        let mut summary = Summary::default();
        for student in graded {
            let result = match &student.result {
                Ok(result) => result,
                Err(why) => {
                    summary.not_graded.push((student.name.clone(), why.clone()));
                    continue;
                }
            };
            let points = result["score"]["points"].as_u64().unwrap_or(0);
            *summary.totals.entry(points).or_default() += 1;
            for verdict in result["verdicts"].as_array().into_iter().flatten() {
                let check = verdict["name"].as_str().unwrap_or("?").to_owned();
                let column = match verdict["status"].as_str() {
                    Some("passed") => 0,
                    Some("failed") => 1,
                    _ => 2,
                };
                match summary.checks.iter_mut().find(|(name, _)| *name == check) {
                    Some((_, counts)) => counts[column] += 1,
                    None => {
                        let mut counts = [0; 3];
                        counts[column] = 1;
                        summary.checks.push((check, counts));
                    }
                }
                if let Some(finding) = verdict["finding"].as_str() {
                    let who = summary.findings.entry(finding.to_owned()).or_default();
                    if !who.contains(&student.name) {
                        who.push(student.name.clone());
                    }
                }
            }
        }
        summary
    }

    /// The summary as Markdown: a table of checks, one of findings, one of totals.
    pub fn markdown(&self) -> String {
        let cell = |text: &str| inert(text).replace('|', "\\|");
        let mut out = String::from("# The class at a glance\n\n");
        out.push_str("| check | passed | failed | not checked |\n|---|---|---|---|\n");
        for (check, [passed, failed, not_checked]) in &self.checks {
            out.push_str(&format!(
                "| {} | {passed} | {failed} | {not_checked} |\n",
                cell(check)
            ));
        }
        out.push_str("\n| finding | students | who |\n|---|---|---|\n");
        let mut findings: Vec<_> = self.findings.iter().collect();
        findings.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
        for (finding, who) in findings {
            let names: Vec<String> = who.iter().map(|name| cell(name)).collect();
            out.push_str(&format!(
                "| `{}` | {} | {} |\n",
                cell(finding),
                who.len(),
                names.join(", ")
            ));
        }
        out.push_str("\n| total | students |\n|---|---|\n");
        for (total, count) in self.totals.iter().rev() {
            out.push_str(&format!("| {total} | {count} |\n"));
        }
        if !self.not_graded.is_empty() {
            out.push_str("\nNot graded (the checker's trouble, no verdict):\n\n");
            for (name, why) in &self.not_graded {
                out.push_str(&format!("- {}: {}\n", cell(name), cell(why)));
            }
        }
        out
    }

    /// The findings as bars, most often hit first.
    pub fn draw(&self, path: &Path) -> Result<(), String> {
        self.draw_bars(path)
            .map_err(|e| format!("drawing {}: {e}", path.display()))
    }

    fn draw_bars(&self, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
        let mut findings: Vec<(&String, usize)> = self
            .findings
            .iter()
            .map(|(slug, who)| (slug, who.len()))
            .collect();
        findings.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let height = 80 + 28 * findings.len().max(1) as u32;
        let root = SVGBackend::new(path, (760, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let most = findings.first().map_or(1, |(_, count)| *count).max(1);
        let students: usize = self.totals.values().sum();
        root.draw(&Text::new(
            format!("What the class's servers were found doing ({students} graded)"),
            (14, 14),
            ("sans-serif", 16).into_font(),
        ))?;
        for (row, (slug, count)) in findings.iter().enumerate() {
            let top = 50 + 28 * row as i32;
            let width = (420 * count / most) as i32;
            root.draw(&Text::new(
                slug.to_string(),
                (14, top + 4),
                ("sans-serif", 13).into_font(),
            ))?;
            root.draw(&Rectangle::new(
                [(300, top), (300 + width.max(2), top + 18)],
                RGBColor(66, 133, 244).filled(),
            ))?;
            root.draw(&Text::new(
                count.to_string(),
                (306 + width.max(2), top + 4),
                ("sans-serif", 13).into_font(),
            ))?;
        }
        root.present()?;
        Ok(())
    }
}
