"""Sweeps: many trials of one experiment, grouped into populations trained together, each
trial an ordinary run folder, plus a sweep folder with results.csv, figures and a report."""
