#!/bin/bash
# The text setup's evolved-coefficient search through the service, seed by seed, to compare with the kept
# docs/results/sentiment-minilm-seeds/seed-K.json rows (made by the same search in the experiment's process).
# Run from the repository root after `dotnet build -c Release`; each seed builds (or reuses) its default-size zoo,
# runs `search.method = cma-es` with the experiment's settings (budget 61, breeding.seed = the seed, the text run
# template's one CPU evaluator) and exports the best merge, which prints its dev / test / ood.
set -e
export PATH="$PWD/src/Host/bin/Release/net10.0:$PATH"
work=${1:-/tmp/sentiment-search-check}
mkdir -p "$work"
for seed in 0 1 2 3 4; do
  zoo=$PWD/.evolver/zoo/sentiment-minilm/seed-$seed
  if [ ! -f "$zoo/manifest.json" ]; then
    echo "seed $seed: building zoo"
    evolver zoo build --recipe sentiment-minilm --seed $seed 2>&1 | grep -v NNPACK | tail -3
  fi
  cat > "$work/s$seed.conf" <<CONF
evolver.run {
  task = sentiment-minilm
  population.zoo = "$zoo"
  search.method = cma-es
  fitness { mode = merged, merge-method = linear }
  breeding.seed = $seed
  evaluators.devices = [cpu]
  budget.max-evaluations = 61
}
CONF
  echo "seed $seed: search"
  /usr/bin/time -f "%e s" evolver run --config "$work/s$seed.conf" --run-id sent-search-s$seed --runs "$work/runs" 2>&1 | grep -v NNPACK | tail -2
  evolver export --run sent-search-s$seed --runs "$work/runs" -o "$work/out-s$seed" --force 2>&1 | grep -v NNPACK | tail -1
  rm -rf "$work/out-s$seed"
done
