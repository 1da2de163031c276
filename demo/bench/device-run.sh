#!/usr/bin/env bash
# Runs the Deno benchmark bundle on a machine with a GPU and no browser or Node (how the README's
# real-GPU figures were made). Expects, beside the repository: dist-deno/ (npm run bench:deno-bundle),
# .deno/deno.xz (the `deno` npm package's binary, xz-compressed) and, where the machine lacks the
# Vulkan loader, .gl/*.deb (libvulkan1 and friends). Writes to $OUT (or ./bench-out).
set -uo pipefail
out="${OUT:-bench-out}"
mkdir -p "$out"
if ! ldconfig -p | grep -q libvulkan.so.1 && compgen -G ".gl/*.deb" > /dev/null; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
if [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
deno=/tmp/gradclip-deno
if command -v xz > /dev/null; then xz -dc .deno/deno.xz > "$deno"
else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(".deno/deno.xz"), open(sys.argv[1], "wb"))' "$deno"; fi
chmod +x "$deno"
export XDG_RUNTIME_DIR=/tmp/xdg DENO_DIR=/tmp/deno-dir
mkdir -p "$XDG_RUNTIME_DIR"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | tee "$out/gpu.txt"
"$deno" run --allow-read --allow-write --allow-env dist-deno/bench-deno.js --out "$out/results.json" "$@" 2>&1 | tee "$out/log.txt"
