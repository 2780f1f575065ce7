"""Reads CSV files with Python's csv module, as a spreadsheet user's script would, and prints
as JSON how many cells it read, the cells a spreadsheet could run as a formula (starting with
=, +, -, @, tab or carriage return, and not a number) or that hold control characters, and
the cells neutralised with a leading apostrophe."""

import csv
import json
import sys

RISKY = ("=", "+", "-", "@", "\t", "\r")


def is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


cells, offending, neutralised = 0, [], []
for path in sys.argv[1:]:
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.reader(f):
            for cell in row:
                cells += 1
                control = any(ord(c) < 32 and c not in "\t\n\r" for c in cell)
                if control or (cell.startswith(RISKY) and not is_number(cell.strip())):
                    offending.append({"file": path, "cell": cell})
                if cell.startswith("'") and cell[1:].startswith(RISKY):
                    neutralised.append(cell)
print(json.dumps({"cells": cells, "offending": offending, "neutralised": neutralised}))
