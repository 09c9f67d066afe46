#!/usr/bin/python3
"""Checks every #include "layer/..." under src/ against the table "Which may include which"
in docs/architecture.md: a file in src/<layer>/ may include its own folder and what the
"may include" cell of its row names, each a layer ("core") or one header of a layer
("core/log.h"). Every folder of src/ must have a row. Includes in <...> are not checked.
Prints one line per finding and exits 1 if there is any.
    python3 scripts/lint/layers.py [ROOT]    (ROOT: the source tree, default: this one)
"""

import os
import re
import sys

TABLE_TITLE = "Which may include which"
COLUMN = "may include"
NONE_CELLS = ("", "-", "\u2014", "nothing")
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]*)"')


class TableError(Exception):
    """The table cannot be read as the checker needs it."""


def cells(line):
    """The cells of a Markdown table row, stripped."""
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def table_rows(text):
    """The header and the body rows of the first table after TABLE_TITLE."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if TABLE_TITLE in line), None)
    if start is None:
        raise TableError(f'no line naming "{TABLE_TITLE}"')
    rows = []
    for line in lines[start + 1:]:
        if line.lstrip().startswith("|"):
            rows.append(cells(line))
        elif rows:
            break
    if len(rows) < 3:
        raise TableError(f'no table after "{TABLE_TITLE}"')
    return rows[0], rows[2:]


def parse_allowed(cell, layer):
    """The layers (as "core") and headers (as "core/log.h") a row's cell names."""
    allowed = set()
    for item in cell.split(","):
        item = item.strip().strip("`").strip()
        if item.lower() in NONE_CELLS:
            continue
        if not re.fullmatch(r"[a-z_]+(/[A-Za-z0-9_.]+\.h)?", item):
            raise TableError(f'row {layer}: "{item}" is neither a layer nor a layer/header.h')
        allowed.add(item)
    return allowed


def read_table(path):
    """{layer: the set of layers and headers it may include} from the architecture doc."""
    with open(path, encoding="utf-8") as f:
        header, body = table_rows(f.read())
    names = [name.lower() for name in header]
    if names[0] != "layer" or COLUMN not in names:
        raise TableError(f'the table\'s columns must start with "layer" and include "{COLUMN}"')
    column = names.index(COLUMN)
    table = {}
    for row in body:
        if len(row) != len(header):
            raise TableError(f"row {row[0]}: {len(row)} cells, the header has {len(header)}")
        layer = row[0].strip("`")
        table[layer] = parse_allowed(row[column], layer)
    for layer, allowed in table.items():
        for item in allowed:
            if item.split("/")[0] not in table:
                raise TableError(f'row {layer}: "{item}" names no layer of the table')
    return table


def permitted(target, layer, allowed):
    """Whether a file of `layer` may include "target"."""
    folder = target.split("/")[0]
    return folder == layer or folder in allowed or target in allowed


def findings(root, table):
    """One line per folder without a row and per include the table does not allow."""
    src = os.path.join(root, "src")
    found = []
    for layer in sorted(os.listdir(src)):
        folder = os.path.join(src, layer)
        if not os.path.isdir(folder):
            continue
        if layer not in table:
            found.append(f"src/{layer}/: no row in the table of docs/architecture.md")
            continue
        for dirpath, _, files in sorted(os.walk(folder)):
            for name in sorted(files):
                path = os.path.join(dirpath, name)
                found.extend(file_findings(path, os.path.relpath(path, root), layer, table))
    return found


def file_findings(path, shown, layer, table):
    """The includes of one file that its layer's row does not allow."""
    allowed = table[layer]
    found = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            match = INCLUDE.match(line)
            if not match or permitted(match.group(1), layer, allowed):
                continue
            may = ", ".join(sorted(allowed)) or "nothing of the project"
            found.append(f'{shown}:{number}: includes "{match.group(1)}"; {layer} may include '
                         f"{layer}/ and {may} (docs/architecture.md)")
    return found


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../..")
    doc = os.path.join(root, "docs", "architecture.md")
    try:
        table = read_table(doc)
    except (OSError, TableError) as error:
        print(f"layers: docs/architecture.md: {error}", file=sys.stderr)
        return 1
    found = findings(root, table)
    for line in found:
        print(line, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
