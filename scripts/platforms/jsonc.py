#!/usr/bin/env python3
"""Reads a JSON-with-comments file (devcontainer.json's format: // and /* */ comments,
trailing commas) and prints it as plain JSON, or says where it is malformed:

  python3 scripts/platforms/jsonc.py FILE
"""

import json
import sys


def strings_apart(text):
    """The text in pieces: each string literal whole, and what lies between them."""
    pieces, i, n = [], 0, len(text)
    while i < n:
        if text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            pieces.append(text[i : j + 1])
            i = j + 1
        else:
            j = text.find('"', i)
            j = n if j < 0 else j
            pieces.append(text[i:j])
            i = j
    return pieces


def without_comments(text):
    """The text with each comment replaced by the line breaks it held; strings kept."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise ValueError("a /* comment that never ends")
            out.append("\n" * text.count("\n", i, end))
            i = end + 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def strip(text):
    """The text without comments and without commas before a closing bracket; strings are
    kept as they are (json's line numbers stay right)."""
    pieces = strings_apart(without_comments(text))
    for k, piece in enumerate(pieces):
        if piece.startswith('"'):
            continue
        rest = "".join(pieces[k + 1 :])
        chars = list(piece)
        for i, c in enumerate(chars):
            if c == ",":
                after = ("".join(chars[i + 1 :]) + rest).lstrip(" \t\r\n")
                if after[:1] in ("]", "}"):
                    chars[i] = " "
        pieces[k] = "".join(chars)
    return "".join(pieces)


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.loads(strip(f.read()))


def main():
    if len(sys.argv) != 2:
        print("usage: jsonc.py FILE", file=sys.stderr)
        return 2
    try:
        value = load(sys.argv[1])
    except (OSError, ValueError) as error:
        print(f"jsonc: {sys.argv[1]}: {error}", file=sys.stderr)
        return 1
    print(json.dumps(value, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
