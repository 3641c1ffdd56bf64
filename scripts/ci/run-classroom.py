#!/usr/bin/env python3
"""Runs the lab's GitHub Classroom workflow on this machine, as the runner would, and checks
the rules it must keep. Used by scripts/check-kits.sh:

  scripts/ci/run-classroom.py WORKFLOW --student DIR --template DIR --workspace DIR [--env NAME=VALUE]...

--student is the student's repository and --template the template repository at the pinned
commit (here: a handout of this tree); --env overrides a value of the workflow's env. Each
checkout copies the repository (only the sparse paths where the step names some); each run
step runs with `bash -e` in a bare environment, as on a fresh runner; each command grader
runs its commands through /bin/sh with the grader's own bare environment and its timeout;
the reporter adds up the points; the cache's steps have their keys worked out and said,
and keep nothing (every push here is a cold one). Prints every step, then `Points X/Y`.
Exit status 0 when
the job would succeed, 1 when it would fail, 2 when the workflow breaks a rule or uses
something this runner cannot play.

The YAML is read by a small parser of the subset the workflow uses (block mappings and
lists, plain and quoted scalars, `|` blocks, whole-line comments), so that no package is
needed; anything outside that subset is an error.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

CHECKOUT = "actions/checkout@v4"
GRADER = "classroom-resources/autograding-command-grader@v1"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"
RESTORE = "actions/cache/restore@v4"
SAVE = "actions/cache/save@v4"
# The events the workflow runs on: a push, and by hand, as GitHub Classroom's template.
EVENTS = ["push", "workflow_dispatch"]
PERMISSIONS = {"checks": "write", "actions": "read", "contents": "read"}


class Broken(Exception):
    """The workflow breaks a rule, or is outside what this runner can play."""


# --- the YAML subset ----------------------------------------------------------------------


def parse_yaml(text):
    lines = []
    for number, raw in enumerate(text.split("\n"), 1):
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            raise Broken(f"line {number}: a tab in the indentation")
        lines.append([number, raw])
    node, end = parse_block(lines, skip(lines, 0), 0)
    if skip(lines, end) < len(lines):
        raise Broken(f"line {lines[skip(lines, end)][0]}: unexpected indentation")
    return node


def skip(lines, i):
    """The index of the next line that is neither blank nor a comment."""
    while i < len(lines) and (not lines[i][1].strip() or lines[i][1].lstrip().startswith("#")):
        i += 1
    return i


def indent_of(line):
    return len(line) - len(line.lstrip(" "))


def parse_block(lines, i, indent):
    if lines[i][1][indent:].startswith("-"):
        return parse_list(lines, i, indent)
    return parse_mapping(lines, i, indent)


def parse_list(lines, i, indent):
    items = []
    while i < len(lines) and indent_of(lines[i][1]) == indent and lines[i][1][indent:].startswith("- "):
        # "- key: value" opens a mapping two columns further in.
        lines[i][1] = " " * (indent + 2) + lines[i][1][indent + 2 :]
        rest = lines[i][1][indent + 2 :]
        if re.match(r"^[A-Za-z0-9_-]+:( |$)", rest):
            item, i = parse_mapping(lines, i, indent + 2)
        else:
            item, i = scalar(rest, lines[i][0]), i + 1
        items.append(item)
        i = skip(lines, i)
    return items, i


def parse_mapping(lines, i, indent):
    mapping = {}
    while i < len(lines) and indent_of(lines[i][1]) == indent:
        number, line = lines[i]
        match = re.match(r"^([A-Za-z0-9_.-]+|\"[^\"]+\"):(?: (.*))?$", line[indent:])
        if not match:
            raise Broken(f"line {number}: no `key: value` here: {line.strip()}")
        key, rest = match.group(1).strip('"'), (match.group(2) or "").strip()
        if key in mapping:
            raise Broken(f"line {number}: {key} given twice")
        if rest == "|":
            block, i = [], i + 1
            while i < len(lines) and (not lines[i][1].strip() or indent_of(lines[i][1]) > indent):
                block.append(lines[i][1])
                i += 1
            while block and not block[-1].strip():
                block.pop()
            cut = min(indent_of(b) for b in block if b.strip())
            mapping[key] = "\n".join(b[cut:] for b in block) + "\n"
        elif rest == "":
            i = skip(lines, i + 1)
            if i >= len(lines) or indent_of(lines[i][1]) <= indent:
                raise Broken(f"line {number}: {key} has no value")
            mapping[key], i = parse_block(lines, i, indent_of(lines[i][1]))
        else:
            mapping[key], i = scalar(rest, number), i + 1
        i = skip(lines, i)
    return mapping, i


def scalar(text, number):
    if text.startswith('"'):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise Broken(f"line {number}: a double-quoted value it cannot read: {text}")
    if text.startswith("'"):
        if not text.endswith("'") or len(text) < 2:
            raise Broken(f"line {number}: an unclosed single-quoted value")
        return text[1:-1].replace("''", "'")
    if text.startswith(("{", "[", "&", "*", "!", ">")) or " #" in text:
        raise Broken(f"line {number}: YAML this runner does not read: {text}")
    return text


# --- the rules ----------------------------------------------------------------------------


def check_rules(workflow, text):
    if workflow.get("on") != EVENTS:
        raise Broken(f"on is {workflow.get('on')!r}, not {EVENTS}")
    if workflow.get("permissions") != PERMISSIONS:
        raise Broken(f"permissions are {workflow.get('permissions')!r}, not {PERMISSIONS} "
                     "(the reporter's, and never to write the repository)")
    env = workflow.get("env", {})
    commit = env.get("LAB_TEMPLATE_COMMIT", "")
    if not re.fullmatch(r"[0-9a-f]{40}", commit):
        raise Broken(f"env LAB_TEMPLATE_COMMIT is {commit!r}, not a full commit id")
    if not re.search(r'^  LAB_TEMPLATE_COMMIT: "[0-9a-f]{40}"$', text, re.M):
        raise Broken("the pinned commit must be in quotes: an id of digits alone would be a number")
    checkouts = [s for s in next(iter(workflow.get("jobs", {}).values()), {}).get("steps", [])
                 if s.get("uses") == CHECKOUT and "repository" in s.get("with", {})]
    if text.count(commit) != 1 or [c["with"].get("ref") for c in checkouts] != ["${{ env.LAB_TEMPLATE_COMMIT }}"]:
        raise Broken("the pinned commit must be written once, in env, and checked out from there")
    if "solution" in text:
        raise Broken("the workflow names the solution")
    jobs = workflow.get("jobs", {})
    if len(jobs) != 1:
        raise Broken("the workflow must have one job")
    job = next(iter(jobs.values()))
    if "permissions" in job:
        raise Broken("the job must not widen the workflow's permissions")
    if not str(job.get("timeout-minutes", "")).isdigit():
        raise Broken("the job has no timeout-minutes")
    steps = job.get("steps", [])
    graders = [s for s in steps if s.get("uses") == GRADER]
    for step in steps:
        uses = step.get("uses")
        if uses not in (None, CHECKOUT, GRADER, REPORTER, RESTORE, SAVE):
            raise Broken(f"step {step.get('name')!r} uses {uses}, which this runner cannot play")
        if uses == CHECKOUT and step.get("with", {}).get("persist-credentials") != "false":
            raise Broken(f"checkout {step.get('name')!r} keeps the token (persist-credentials)")
    check_cache(steps)
    points = sum(int(s["with"]["max-score"]) for s in graders)
    if points != 100:
        raise Broken(f"the command graders' max-score add up to {points}, not 100")
    reporters = [s for s in steps if s.get("uses") == REPORTER]
    if len(reporters) != 1 or reporters[0] is not steps[-1]:
        raise Broken("the last step must be the one reporter")
    ids = [s["id"] for s in graders]
    if reporters[0]["with"]["runners"] != ",".join(ids):
        raise Broken(f"the reporter's runners are not the graders {','.join(ids)}")
    want = {f"{i.upper()}_RESULTS": f"${{{{ steps.{i}.outputs.result }}}}" for i in ids}
    if reporters[0].get("env") != want:
        raise Broken(f"the reporter's env is not {want}")


def check_cache(steps):
    """One restore, keyed on the toolchain, the checker's Cargo.lock and the pinned commit,
    before the build; one save of the same paths under the restore's key, when it missed,
    after the gradings and before the reporter (a failed job would save nothing later)."""
    restores = [i for i, s in enumerate(steps) if s.get("uses") == RESTORE]
    saves = [i for i, s in enumerate(steps) if s.get("uses") == SAVE]
    if len(restores) != 1 or len(saves) != 1:
        raise Broken("the workflow must restore the checker's build once and save it once")
    restore, save = steps[restores[0]], steps[saves[0]]
    key = restore.get("with", {}).get("key", "")
    for part in ("${{ steps.toolchain.outputs.rustc }}", "${{ hashFiles('grader/Cargo.lock') }}",
                 "${{ env.LAB_TEMPLATE_COMMIT }}"):
        if part not in key:
            raise Broken(f"the cache's key does not hold {part}")
    if save.get("with", {}).get("path") != restore["with"].get("path"):
        raise Broken("the cache saves other paths than it restores")
    if save["with"].get("key") != f"${{{{ steps.{restore.get('id')}.outputs.cache-primary-key }}}}":
        raise Broken("the cache is not saved under the key it restored")
    if save.get("if") != f"steps.{restore.get('id')}.outputs.cache-hit != 'true'":
        raise Broken("the cache is saved even when it was found")
    builds = [i for i, s in enumerate(steps) if "cargo build" in s.get("run", "")]
    graders = [i for i, s in enumerate(steps) if s.get("uses") == GRADER]
    if not builds or restores[0] > builds[0] or saves[0] < max(graders) or steps[saves[0] + 1].get("uses") != REPORTER:
        raise Broken("the cache must be restored before the build and saved after the gradings, "
                     "just before the reporter")


# --- the runner ---------------------------------------------------------------------------


def substitute(text, env, outputs, workspace=None):
    def value(match):
        expression = match.group(1).strip()
        if m := re.fullmatch(r"env\.([A-Za-z_][A-Za-z0-9_]*)", expression):
            return env.get(m.group(1), "")
        if m := re.fullmatch(r"steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)", expression):
            return outputs.get(m.group(1), {}).get(m.group(2), "")
        if expression == "runner.os":
            return "Linux"
        if m := re.fullmatch(r"hashFiles\('([^'*?]+)'\)", expression):
            return hash_files(workspace, m.group(1))
        raise Broken(f"an expression this runner cannot evaluate: {expression}")

    return re.sub(r"\$\{\{(.*?)\}\}", value, text)


def hash_files(workspace, path):
    """GitHub's hashFiles of one file: the SHA-256 of its SHA-256; empty when it is missing."""
    if workspace is None:
        raise Broken("hashFiles outside a step")
    try:
        with open(os.path.join(workspace, path), "rb") as f:
            inner = hashlib.sha256(f.read()).digest()
    except FileNotFoundError:
        return ""
    return hashlib.sha256(inner).hexdigest()


def condition_holds(condition, outputs):
    """A step's `if`: only `steps.ID.outputs.NAME != 'VALUE'` (or ==) is understood."""
    m = re.fullmatch(r"steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+) (!=|==) '([^']*)'", condition)
    if not m:
        raise Broken(f"a step condition this runner cannot evaluate: {condition}")
    found = outputs.get(m.group(1), {}).get(m.group(2), "")
    return (found == m.group(4)) == (m.group(3) == "==")


def read_outputs(path):
    """The name=value lines a step wrote to $GITHUB_OUTPUT."""
    found = {}
    with open(path) as f:
        for line in f.read().splitlines():
            name, sep, value = line.partition("=")
            if not sep:
                raise Broken(f"a GITHUB_OUTPUT line this runner cannot read: {line}")
            found[name] = value
    return found


def copy_repository(source, destination, sparse):
    if os.path.exists(destination):
        raise Broken(f"checkout into {destination}, which exists")
    if not sparse:
        shutil.copytree(source, destination, ignore=shutil.ignore_patterns("target"), symlinks=True)
        return
    for path in sparse.split():
        os.makedirs(os.path.dirname(os.path.join(destination, path)), exist_ok=True)
        shutil.copy2(os.path.join(source, path), os.path.join(destination, path))


def bare_environment(extra):
    """A fresh runner's environment: the tools' PATH and HOME, nothing of this machine's."""
    env = {"PATH": os.environ["PATH"], "HOME": os.environ["HOME"]}
    marker = os.environ.get("CHECK_KITS_MARKER")
    if marker:  # lets the test find whatever a run leaves behind
        env["CHECK_KITS_MARKER"] = marker
    env.update(extra)
    return env


def run_job(workflow, args, env):
    job = next(iter(workflow["jobs"].values()))
    outputs, results, job_ok = {}, {}, True
    workspace = args.workspace
    for step in job["steps"]:
        name = step.get("name", step.get("uses", "run"))
        uses = step.get("uses")
        if "if" in step and not condition_holds(step["if"], outputs):
            print(f"run-classroom: step: {name}: skipped", flush=True)
            continue
        inputs = {k: substitute(str(v), env, outputs, workspace) for k, v in step.get("with", {}).items()}
        print(f"run-classroom: step: {name}", flush=True)
        if uses == CHECKOUT:
            source = args.template if "repository" in inputs else args.student
            if "repository" in inputs and not re.fullmatch(r"[0-9a-f]{40}", inputs.get("ref", "")):
                raise Broken(f"checkout {name!r} of the template is pinned to no commit")
            copy_repository(source, os.path.join(workspace, inputs.get("path", ".")),
                            inputs.get("sparse-checkout"))
        elif uses == GRADER:
            minutes = float(inputs.get("timeout", "10"))
            grader_env = bare_environment({"FORCE_COLOR": "true", "DOTNET_CLI_HOME": "/tmp",
                                           "DOTNET_NOLOGO": "true"})
            status = "pass"
            for command in (inputs.get("setup-command"), inputs["command"]):
                if not command:
                    continue
                try:
                    done = subprocess.run(["/bin/sh", "-c", command], cwd=workspace, env=grader_env,
                                          timeout=minutes * 60)
                    if done.returncode != 0:
                        status = "fail"
                        break
                except subprocess.TimeoutExpired:
                    status = "error"
                    break
            score = int(inputs.get("max-score", "0"))
            result = {"version": 1, "status": status, "max_score": score,
                      "tests": [{"name": inputs["test-name"], "status": status,
                                 "score": score if status == "pass" else 0}]}
            outputs[step["id"]] = {"result": base64.b64encode(json.dumps(result).encode()).decode()}
            print(f"run-classroom: {inputs['test-name']}: {status}", flush=True)
        elif uses == RESTORE:
            # Nothing is kept between runs here: the key is worked out and said.
            print(f"run-classroom: cache: restore {inputs['key']}: not found", flush=True)
            outputs[step.get("id", "")] = {"cache-hit": "", "cache-primary-key": inputs["key"]}
        elif uses == SAVE:
            print(f"run-classroom: cache: save {inputs['key']} ({len(inputs['path'].split())} paths)",
                  flush=True)
        elif uses == REPORTER:
            step_env = {k: substitute(v, env, outputs) for k, v in step.get("env", {}).items()}
            total = maximum = 0
            for runner in inputs["runners"].split(","):
                result = json.loads(base64.b64decode(step_env[f"{runner.upper()}_RESULTS"]))
                results[runner] = result
                maximum += result["max_score"]
                total += sum(t["score"] for t in result["tests"])
                if result["status"] != "pass":
                    job_ok = False
            print(f"Points {total}/{maximum}", flush=True)
        else:
            step_env = bare_environment(env)
            step_env.update({k: substitute(v, env, outputs) for k, v in step.get("env", {}).items()})
            output_file = os.path.join(workspace, ".run-classroom-output")
            open(output_file, "w").close()
            step_env["GITHUB_OUTPUT"] = output_file
            minutes = float(step.get("timeout-minutes", job["timeout-minutes"]))
            try:
                done = subprocess.run(["bash", "-e", "-c", substitute(step["run"], env, outputs)],
                                      cwd=os.path.join(workspace, step.get("working-directory", ".")),
                                      env=step_env, timeout=minutes * 60)
                ok = done.returncode == 0
            except subprocess.TimeoutExpired:
                ok = False
            if "id" in step:
                outputs[step["id"]] = read_outputs(output_file)
            os.remove(output_file)
            if not ok and step.get("continue-on-error") != "true":
                print(f"run-classroom: step {name!r} failed; the job stops", flush=True)
                return False
            print(f"run-classroom: step {name!r}: {'passed' if ok else 'failed (continue-on-error)'}",
                  flush=True)
    return job_ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("workflow")
    parser.add_argument("--student", required=True)
    parser.add_argument("--template", required=True)
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    try:
        with open(args.workflow) as f:
            text = f.read()
        workflow = parse_yaml(text)
        check_rules(workflow, text)
        env = dict(workflow.get("env", {}))
        for pair in args.env:
            name, _, value = pair.partition("=")
            if name not in env:
                raise Broken(f"--env {name}: the workflow has no such env")
            env[name] = value
        os.makedirs(args.workspace, exist_ok=True)
        ok = run_job(workflow, args, env)
    except (Broken, OSError, KeyError) as error:
        print(f"run-classroom: {args.workflow}: {error}", file=sys.stderr)
        return 2
    print(f"run-classroom: the job {'succeeded' if ok else 'failed'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
