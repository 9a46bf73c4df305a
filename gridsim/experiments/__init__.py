"""Experiments: sweeps of variants × replications (:mod:`gridsim.experiments.sweep`) and the
report over their runs (statistics, paired differences, figures, Markdown and HTML)."""
