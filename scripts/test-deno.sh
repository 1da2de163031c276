#!/usr/bin/env bash
# `npm run test:deno`: the built package on Deno's WebGPU (wgpu + Naga), a second implementation
# beside Chromium's. Needs a Vulkan driver (Mesa's lavapipe here: apt-get install
# mesa-vulkan-drivers, which .ci/run installs when missing); deno comes from the pinned npm package.
# The GPU smoke test, the f16 suite, the GradScaler's and the private optimizer's cases, then the install guide's Deno example as written.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! compgen -G "/usr/share/vulkan/icd.d/*.json" > /dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    echo "Installing a Vulkan driver (Mesa's lavapipe) from Debian's packages…"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends mesa-vulkan-drivers > /dev/null
  else
    echo "No Vulkan driver: install one (Debian: sudo apt-get install -y mesa-vulkan-drivers)" >&2
    exit 1
  fi
fi
npm run build > /dev/null
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}" # quiets a warning where it is unset
status=0
node_modules/.bin/deno run --allow-read test/deno/gpu-smoke.ts || status=$?
# f16 gradients: lavapipe offers shader-f16 (SwiftShader does not), and Deno has Float16Array.
node_modules/.bin/deno run --allow-read test/deno/f16.ts || status=$?
# The GradScaler's ported PyTorch and Keras cases, f16 master weights, the private optimizer's cases.
node_modules/.bin/deno run --allow-read --import-map=test/deno/import-map.json test/deno/cases.ts || status=$?
# The install guide's Deno block (examples/deno.ts, kept equal to it by test/node/readme-examples.test.ts)
# runs as its comment says: main.ts beside node_modules/, where gradclip is this checkout.
example_dir="$(mktemp -d)"
trap 'rm -rf "$example_dir"' EXIT
mkdir -p "$example_dir/node_modules"
ln -s "$PWD" "$example_dir/node_modules/gradclip"
cp examples/deno.ts "$example_dir/main.ts"
deno="$PWD/node_modules/.bin/deno"
if example_out="$(cd "$example_dir" && "$deno" run --allow-read main.ts)" && [ "$(printf '%s\n' "$example_out" | tail -n 1)" = 5 ]; then
  echo "ok   examples/deno.ts printed 5"
else
  echo "FAIL examples/deno.ts printed: ${example_out:-nothing}" >&2
  status=1
fi
exit "$status"
