// Compares every pair of a class's server.rs files with Dolos (its library,
// @dodona/dolos-lib, and its Rust parser), the skeleton's server.rs as the code they were
// all given, and prints one CSV row per pair, the most similar first:
//
//   node dolos-pairs.mjs BASE.rs FILE.rs...
//
// similarity: the share of both files' fingerprints that they have in common and that
// are not in BASE (0 to 1); longest: the longest run of shared fingerprints (a copied
// stretch of code); left_shared, right_shared: how many fingerprints each file shares.
import { basename } from "node:path";
import { Dolos } from "@dodona/dolos-lib";

const [base, ...files] = process.argv.slice(2);
if (!base || files.length < 2) {
  console.error("usage: node dolos-pairs.mjs BASE.rs FILE.rs FILE.rs...");
  process.exit(2);
}
const dolos = new Dolos({ language: "rust" });
const report = await dolos.analyzePaths(files, base);
const name = (file) => basename(file.path, ".rs");
const quoted = (text) => (/[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
console.log("left,right,similarity,longest,left_shared,right_shared");
for (const pair of report.allPairs().sort((a, b) => b.similarity - a.similarity)) {
  console.log([quoted(name(pair.leftFile)), quoted(name(pair.rightFile)), pair.similarity.toFixed(3),
    pair.longest, pair.leftCovered, pair.rightCovered].join(","));
}
