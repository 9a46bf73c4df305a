"""What a run leaves: metrics (``summary.json``), the run's files, figures and maps (bilingual,
with the bundled CJK font of :mod:`gridsim.output.cjk`)."""
