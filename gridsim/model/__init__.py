"""The domain model, the bottom layer: vocabulary, distributions, named random streams, the
typed run parameters (:mod:`gridsim.model.params`) and their range checks, the region and its
hierarchy, people and roles, and queueing formulas. Nothing here imports SimPy or Hydra."""
