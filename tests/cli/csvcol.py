#!/usr/bin/env python3
"""Prints the named columns of a CSV file, tab-separated, one line per data row, so cram tests
can check results.csv with awk -F'\t' even where a field holds a comma.
Usage: csvcol.py FILE COLUMN [COLUMN...]"""
import csv
import signal
import sys

# Piped into `head`, the reader may go away early: end quietly, as a C filter would.
signal.signal(signal.SIGPIPE, signal.SIG_DFL)

if len(sys.argv) < 3:
    sys.exit(__doc__)
with open(sys.argv[1], newline="") as f:
    rows = csv.reader(f)
    header = next(rows)
    missing = [c for c in sys.argv[2:] if c not in header]
    if missing:
        sys.exit("csvcol.py: %s has no column %s" % (sys.argv[1], ", ".join(missing)))
    idx = [header.index(c) for c in sys.argv[2:]]
    for row in rows:
        print("\t".join(row[i] for i in idx))
