# The set-up that the scripts proving the lab on this machine share (check-kits.sh,
# check-platforms.sh, check-grade-class.sh, check-handout.sh). Sourced, never run: after
# `source scripts/proving.sh NAME`, the caller knows the lab's root ($root) and has the
# functions below; after `begin`, it is in that root and has a temporary folder ($work)
# removed on exit.
#   fail MESSAGE       print "NAME: MESSAGE" on stderr and exit 1
#   step MESSAGE       print "NAME: MESSAGE"
#   begin              the set-up: the folder, the marker, the tree's state to compare with
#   help_or_none ARGS  answer --help with the caller's opening comment, refuse any other
#                      argument with exit 2, and return when there was none
#   leftovers WHAT     fail if a process carrying this run's marker is still there
#   unchanged WHAT     fail if the files git tracks differ from how they were at the start
#   proving_help       print the caller's opening comment
# Every process started after `begin` carries CHECK_KITS_MARKER in its environment, which
# is how leftovers finds them.

proving_name=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

fail() {
    echo "$proving_name: $*" >&2
    exit 1
}
step() { echo "$proving_name: $*"; }

# The caller's opening comment (after the #! line, up to its first line of code).
proving_help() {
    sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
}

help_or_none() {
    [[ $# -eq 0 ]] && return 0
    if [[ $# -eq 1 && ($1 == -h || $1 == --help) ]]; then
        proving_help
        exit 0
    fi
    echo "$proving_name: takes no arguments" >&2
    exit 2
}

begin() {
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    cd "$root"
    proving_before=$(git status --porcelain --untracked-files=no)
    export CHECK_KITS_MARKER="$proving_name-$$"
}

leftovers() {
    sleep 1
    for environ in /proc/[0-9]*/environ; do
        if grep -qzxF "CHECK_KITS_MARKER=$CHECK_KITS_MARKER" "$environ" 2>/dev/null; then
            fail "$1: a process of the run is still there: $(tr '\0' ' ' <"${environ%/environ}/cmdline" 2>/dev/null)"
        fi
    done
}

unchanged() {
    [[ $(git status --porcelain --untracked-files=no) == "$proving_before" ]] ||
        fail "$1 changed this tree: $(git status --porcelain --untracked-files=no)"
}
