# Prints the skeleton's server with the code of some TODO blocks taken from the solution,
# and the solution's `use` lines (a superset; unused ones only warn):
#
#   awk -v todos="1 2 3 4" -f scripts/fill-todos.awk SOLUTION SKELETON
#
# A block is the mirror test's: `// TODO <n>...`, the comment lines after it, then code up
# to `// END TODO <n>`. Used by check-handout.sh to play a student, stage by stage.

function todo_number(line) {
    match(line, /TODO [0-9]+/)
    return substr(line, RSTART + 5, RLENGTH - 5)
}

BEGIN {
    split(todos, wanted, " ")
    for (i in wanted) fill[wanted[i]] = 1
}

# Both files: whether the line belongs to the imports, the region from the first `use`
# to the end of the last one; blank lines inside it are held until the region goes on.
{
    is_use = ($0 ~ /^use /) || in_use
    in_use = is_use && $0 !~ /;[ \t]*$/
    if (FNR == 1) { imports = "before"; blanks = "" }
    if (is_use) imports = "in"
    else if (imports == "in" && $0 ~ /^[ \t]*$/) { blanks = blanks $0 "\n"; next }
    else if (imports == "in") { imports = "after"; if (FNR != NR) printf "%s", blanks; blanks = "" }
}

FNR == NR {
    if (is_use) { uses = uses blanks $0 "\n"; blanks = ""; next }
    if ($0 ~ /^[ \t]*\/\/ TODO [0-9]+/) { block = todo_number($0); state = "instructions"; next }
    if (state == "instructions" && $0 ~ /^[ \t]*\/\//) next
    if (state == "instructions") state = "code"
    if (state == "code") {
        if ($0 ~ /^[ \t]*\/\/ END TODO [0-9]+[ \t]*$/) { state = ""; next }
        code[block] = code[block] $0 "\n"
    }
    next
}

{
    if (is_use) {
        if (!uses_printed) printf "%s", uses
        uses_printed = 1
        blanks = ""
        next
    }
    if ($0 ~ /^[ \t]*\/\/ TODO [0-9]+/) { block = todo_number($0); state = "instructions"; print; next }
    if (state == "instructions" && $0 ~ /^[ \t]*\/\//) { print; next }
    if (state == "instructions") {
        state = "code"
        if (block in fill) printf "%s", code[block]
    }
    if (state == "code") {
        if ($0 ~ /^[ \t]*\/\/ END TODO [0-9]+[ \t]*$/) { state = ""; print; next }
        if (block in fill) next
    }
    print
}
