# Prints every scalar of one JSON document as a line PATH<TAB>VALUE, so that shell scripts
# can read the checker's --json result without jq or Python:
#
#   awk -f scripts/json-fields.awk results.json
#
#   score	50
#   tests.0.name	"task 1: receives a whole upload"
#   tests.0.score	25
#
# PATH joins object keys and array indexes (from 0) with dots. VALUE is the value exactly as
# the document writes it: a string keeps its quotes and escapes (so it can be written into
# another JSON document as it is), and a JSON string never holds a raw line break, so every
# value is one line. Empty objects and arrays print nothing. A document that is no valid
# JSON stops it with a message on stderr and exit status 2. Used by the Gradescope kit's
# run_autograder and by merge-grades.sh.

function fail(message) {
    printf "json-fields: %s: %s (at character %d)\n", FILENAME, message, pos > "/dev/stderr"
    failed = 1
    exit 2
}

# Where the value being read sits: the key or index at every level.
function path(   p, d) {
    p = ""
    for (d = 1; d <= depth; d++) p = p (d > 1 ? "." : "") (kind[d] == "object" ? key[d] : count[d])
    return p
}

# The string that starts at pos, quotes and escapes included; pos moves past it.
function read_string(   start, c) {
    start = pos
    for (pos++; pos <= size; pos++) {
        c = substr(text, pos, 1)
        if (c == "\\") pos++
        else if (c == "\"") { pos++; return substr(text, start, pos - start) }
        else if (c == "\n") fail("a line break inside a string")
    }
    fail("a string that never ends")
}

# A value has been read: what may follow it.
function after_value() { expect = (depth == 0) ? "end" : "comma" }

{ text = text $0 "\n" }

END {
    if (failed) exit 2
    size = length(text)
    pos = 1
    depth = 0
    expect = "value"
    while (pos <= size) {
        c = substr(text, pos, 1)
        if (c == " " || c == "\t" || c == "\n" || c == "\r") { pos++; continue }
        if (expect == "end") fail("more after the end of the document")
        if (expect == "key") {
            if (c == "}" && count[depth] == 0) { depth--; pos++; after_value(); continue }
            if (c != "\"") fail("a key was expected")
            key[depth] = read_string()
            gsub(/^"|"$/, "", key[depth])
            expect = "colon"
            continue
        }
        if (expect == "colon") {
            if (c != ":") fail("a colon was expected")
            pos++
            expect = "value"
            continue
        }
        if (expect == "comma") {
            if (c == ",") {
                pos++
                count[depth]++
                expect = (kind[depth] == "object") ? "key" : "value"
            } else if ((c == "}" && kind[depth] == "object") || (c == "]" && kind[depth] == "array")) {
                pos++
                depth--
                after_value()
            } else fail("a comma or the end of the " kind[depth] " was expected")
            continue
        }
        # expect == "value"
        if (c == "{" || c == "[") {
            depth++
            kind[depth] = (c == "{") ? "object" : "array"
            count[depth] = 0
            pos++
            expect = (c == "{") ? "key" : "value"
            continue
        }
        if (c == "]" && kind[depth] == "array" && count[depth] == 0) { depth--; pos++; after_value(); continue }
        if (c == "\"") {
            value = read_string()
        } else if (match(substr(text, pos, 64), /^(-?[0-9][0-9.eE+-]*|true|false|null)/)) {
            value = substr(text, pos, RLENGTH)
            pos += RLENGTH
        } else fail("a value was expected")
        printf "%s\t%s\n", path(), value
        after_value()
    }
    if (expect != "end") fail("the document ends too early")
}
