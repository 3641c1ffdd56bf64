# The class grade book's rows, for the scripts that assemble it (grade-class.sh,
# merge-grades.sh), which source this file:
#
#   source scripts/grade-book.sh
#   grade_book_row "$name" "$score" "$bonus" "$task3" "$failed_checks" "$seconds" >>grades.csv
#   echo "graded $(inert "$name")"
#
# A submission's name is chosen by whoever sent it: `smith, john` or `mallory,100,passed`
# must stay one field, `=HYPERLINK(...)` must not run in a spreadsheet, and an escape
# sequence must not reach a terminal that shows the book. The rules are the checker's own
# for --csv (checker/src/report/csv.rs), so that the rows of both read alike: control
# characters written out visibly, RFC 4180 quoting where a field holds a comma or a quote,
# and a ' before a field that starts with =, +, -, @ or a tab. No row is ever split or
# rebuilt here: every field is given whole.

# $1 with every control character but a tab written out visibly (\x1b, \r, \n), as the
# checker's report::quote writes it.
inert() {
    local text=$1 code hex char shown
    for code in {1..8} {10..31} 127; do
        printf -v hex '%02x' "$code"
        printf -v char "\\x$hex"
        [[ $text == *"$char"* ]] || continue
        case $code in
        10) shown='\n' ;;
        13) shown='\r' ;;
        *) shown="\\x$hex" ;;
        esac
        text=${text//"$char"/"$shown"}
    done
    printf '%s' "$text"
}

# One row of the grade book, a field per argument, on stdout.
grade_book_row() {
    local field quote='"' fields=()
    for field in "$@"; do
        field=$(inert "$field")
        if [[ $field == [=+@-]* || $field == $'\t'* ]]; then
            field="'$field"
        fi
        if [[ $field == *[,\"]* ]]; then
            field="$quote${field//"$quote"/"$quote$quote"}$quote"
        fi
        fields+=("$field")
    done
    (
        IFS=,
        printf '%s\n' "${fields[*]}"
    )
}
