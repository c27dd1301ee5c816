#!/usr/bin/env bash
# The GPU part of kiln's suite: the gpu backend (gpu.js on headless-gl) under a virtual X server.
#   .ci/gpu-tests.sh      (after the build; `gl` must have been built with libxi-dev, xvfb installed)
# Prints one `gpu-tests:` line per part and exits non-zero when any part fails.
set -uo pipefail
cd "$(dirname "$0")/.."

if ! command -v xvfb-run >/dev/null; then
  echo 'gpu-tests: xvfb-run not found (Debian/Ubuntu: apt-get install -y xvfb)'
  echo 'gpu-tests: FAILED'
  exit 1
fi
if [ ! -f dist/tests/conformance/main.js ] || [ ! -f dist/src/runtime/gpu.js ]; then
  npm run build --silent || { echo 'gpu-tests: build failed'; exit 1; }
fi

failed=0
part() {
  local name=$1
  shift
  local t0=$SECONDS
  if "$@"; then
    echo "gpu-tests: $name: ok ($((SECONDS - t0))s)"
  else
    echo "gpu-tests: $name: FAILED ($((SECONDS - t0))s)"
    failed=$((failed + 1))
  fi
}

# Unit tests: codegen, the backend against the js backend, the errors without GL.
# KILN_REQUIRE_GPU=1: a GPU that cannot be opened fails these tests instead of skipping them.
part 'vitest tests/unit/gpu-*' env KILN_REQUIRE_GPU=1 xvfb-run -a npx vitest run tests/unit/gpu-

# The PyTorch conformance cases on the gpu backend, eager and compiled paths. The backend is
# registered here too, so this runs whether or not the registry in backend.ts lists it.
RUN_CONFORMANCE="
  import { registerBackend } from './dist/src/runtime/backend.js';
  import { openGpuBackend } from './dist/src/runtime/gpu.js';
  registerBackend('gpu', openGpuBackend);
  await import('./dist/tests/conformance/main.js');
"
part 'conformance --backend gpu (ops, training)' \
  xvfb-run -a node --input-type=module -e "$RUN_CONFORMANCE" _ --backend gpu tests/conformance/cases/ops tests/conformance/cases/training

if [ "$failed" -eq 0 ]; then
  echo 'gpu-tests: all parts passed'
  exit 0
fi
echo "gpu-tests: $failed part(s) failed"
exit 1
