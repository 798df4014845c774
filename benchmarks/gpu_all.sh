#!/usr/bin/env bash
# Every GPU check of ganeval in one command (for a lent CUDA machine, ~6-9 minutes):
# the benchmarks/gpu_*.py scripts at their default sizes and the gpu-marked tests; name
# steps to run only those (bash benchmarks/gpu_all.sh gpu_precision gpu_tests).
# Logs go to $OUT (or ./gpu-logs). Reference packages missing on the machine can come as
# wheels in .whl/ (pytorch-fid, torch-fidelity, clean-fid, prdc); they are installed to /tmp/site.
#
#     bash benchmarks/gpu_all.sh
set -u
OUT=${OUT:-gpu-logs}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
if ! python3 -m pip install -q --no-deps --no-build-isolation -e . >"$OUT/install.log" 2>&1; then
  # an old setuptools there: put the packages on the path by links instead
  mkdir -p /tmp/shim && ln -sfn "$PWD/ganeval" /tmp/shim/ganeval && ln -sfn "$PWD/cli" /tmp/shim/ganeval_cli
  export PYTHONPATH=/tmp/shim${PYTHONPATH:+:$PYTHONPATH}; echo "editable install failed (see install.log); using /tmp/shim"
fi
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  python3 -c "import torch, sys; print('python', sys.version.split()[0], 'torch', torch.__version__, torch.cuda.get_device_name(0))"; } 2>&1 | tee "$OUT/machine.txt"
WANT=" $* "
step() { local name=$1 limit=$2; shift 2; [ "$WANT" = "  " ] || [[ "$WANT" == *" $name "* ]] || return 0
  echo "=== $name"; local t0=$SECONDS
  timeout "$limit" "$@" 2>&1 | tee "$OUT/$name.log"; echo "=== $name: exit ${PIPESTATUS[0]}, $((SECONDS - t0)) s"; }
step gpu_extract 150 python3 benchmarks/gpu_extract.py
step gpu_evaluator 200 python3 benchmarks/gpu_evaluator.py
step gpu_vit_extractors 200 python3 benchmarks/gpu_vit_extractors.py
step gpu_precision 200 python3 benchmarks/gpu_precision.py
step gpu_tf32 120 python3 benchmarks/gpu_tf32.py
step gpu_tests 120 python3 -m pytest -q -p no:cacheprovider --rungpu -m gpu tests/features/test_dinov2.py tests/features/test_precision.py tests/evaluator/test_distributed.py tests/features/test_loading.py
# files to FID, whole processes, against the three anchors (10,000 PNG + 10,000 JPEG of 256x256
# to fit the lent time; the script's default is 50,000 per side)
step e2e 420 python3 benchmarks/bench_end_to_end.py --n 10000 --size 256 --gpu-decode --tf32 --dir /tmp/e2e
