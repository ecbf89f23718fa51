"""Sums lmp's --format csv as a user would: python3 csv_sums.py FILE.csv

Prints one line per figure, "<how> <figure> <value>":
  csv     the *_total column summed over the basic rows (Python's csv module, exact ints)
  depth0  the same over the depth-0 rows
  peak    the largest peak_activation_bytes of a basic row
  pandas  df[df.basic].<figure>_total.sum(), when pandas is installed; else one line
          "pandas-missing <why>"
and "dtype <column> <pandas dtype>" for the columns a user filters on.
"""
import csv
import sys

path = sys.argv[1]
with open(path, newline="") as f:
    rows = list(csv.DictReader(f))
figures = [c[: -len("_total")] for c in rows[0] if c.endswith("_total")]
for fig in figures:
    print("csv", fig, sum(int(r[fig + "_total"]) for r in rows if r["basic"] == "true"))
    print("depth0", fig, sum(int(r[fig + "_total"]) for r in rows if r["depth"] == "0"))
print("peak", "peak_activation_bytes",
      max(int(r["peak_activation_bytes"]) for r in rows if r["basic"] == "true"))

try:
    import pandas as pd
except ImportError as e:
    print("pandas-missing", e)
    sys.exit(0)
df = pd.read_csv(path)
for col in ("basic", "depth", "flops_total", "params_total"):
    print("dtype", col, df[col].dtype)
for fig in figures:
    print("pandas", fig, int(df[df.basic][fig + "_total"].sum()))
