"""Pre-positioning (力量前置、物资前置): where sites stand and what they hold, optimised.

``gridsim plan`` builds an instance (demand points, candidate sites, road travel times within
a radius, as sparse pairs) from a scenario or reads one from a folder, solves a site model
(LSCP, MCLP, p-median, p-center) exactly with ``scipy.optimize.milp`` or by a heuristic, sizes
stock to a service level, or plans the moves ahead of a storm, and writes a plan folder that
``gridsim run plan=DIR`` applies.
"""
