#!/usr/bin/env bash
# The plans of experiments/prepositioning.yaml (issue 12), made from the repository root:
#   bash experiments/plans/prepositioning/make_plans.sh
# The same config gives the same bytes. Every plan is made on the experiment's storm: the city
# (scenario=suining_city) through hazard=city_rainstorm with the forecast's errors set to 0
# (every replication has the same warnings, so one storm 前置 plan, whose moves are numbered by
# the run's warnings, fits every replication; the incidents stay random).
# The MCLP plans learn from replications 0-4 (the loop's runs, planning.replications=5); the
# experiment runs replications 100-124.
set -euo pipefail
cd "$(dirname "$0")/../../.."
out=experiments/plans/prepositioning
storm=(scenario=suining_city hazard=city_rainstorm
       hazard.weather.warnings.timing_error_sd_h=0 hazard.weather.warnings.depth_error_sigma=0)
# 500 new supply points 物资储备点 by MCLP among the 2,000 grids of largest weight, covering
# within 60 s by road (the hub in the grid or next door: a shortage is a grid's own stock
# falling short, and a hub's kit is on scene within a minute), weighted by residents at
# iteration 1, then reweighted by the shortages of 5 simulated storms (simulation-optimisation,
# docs/planning.md), 3 iterations; each exact solve at most 90 s (the gap is reported).
mclp=(planning.model=mclp planning.sites=supply_points planning.p=500 planning.candidates=2000
      planning.radius_s=60 planning.time_limit_s=90 planning.iterations=3
      planning.replications=5 planning.reweight_by=shortages)
python -m gridsim plan "${storm[@]}" "${mclp[@]}" planning.solver=exact \
    planning.name=mclp_exact --out "$out/mclp_exact"
python -m gridsim plan "${storm[@]}" "${mclp[@]}" planning.solver=heuristic \
    planning.name=mclp_heuristic --out "$out/mclp_heuristic"
# the storm 前置 plan: teams and stock moved from low- to high-risk grids when the warning is
# issued (conf/planning/standard.yaml's storm_* keys)
python -m gridsim plan "${storm[@]}" planning.model=storm planning.name=storm \
    --out "$out/storm"
