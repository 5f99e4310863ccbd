#!/usr/bin/env bash
# The GPU device check: run `bench gpu` once on a machine with a real GPU (the `device`
# tool's NVIDIA H200: 16 cores, no network, no Node) and explain what was found.
#
# Two steps:
#   1. here, where node_modules is installed:  bash scripts/gpu-device-check.sh --pack
#      writes .gpu-device/ (git-ignored via .git/info/exclude): Node 24 and only the
#      packages `bench gpu --runtime node` needs (onnxruntime-node for linux-x64,
#      onnx-proto, protobufjs, node-seal), xz-compressed (~45 MB), plus Chromium's
#      libvulkan.so.1 in case the machine has no Vulkan loader.
#   2. there:  bash scripts/gpu-device-check.sh       (device run: carry [".gpu-device"], timeout_s 600)
#      prints what it finds and writes to $OUT: device-check.log, bench-gpu-node.json,
#      selftest-node.json and, if Chromium can run there, bench-gpu-chromium.json.
#
# It never hangs: every step runs under `timeout`, and the whole check stops at
# GPU_CHECK_DEADLINE_S (default 540 s, inside the tool's 600 s per command).
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
PACK="$ROOT/.gpu-device"

pack () {
  [ -x node_modules/.bin/node ] || { echo "pack: node_modules is not installed here (npm ci first)"; exit 1; }
  mkdir -p "$PACK"
  # Ignored, so it is never committed; it travels to the device only because `carry` names it.
  local exclude
  exclude=$(git rev-parse --git-path info/exclude)
  grep -qx '/.gpu-device/' "$exclude" 2>/dev/null || echo '/.gpu-device/' >> "$exclude"
  echo "packing Node $(node_modules/.bin/node --version) …"
  tar -C node_modules -cf - node/bin/node | xz -6 -T0 > "$PACK/node.tar.xz" || exit 1
  echo "packing onnxruntime-node (linux-x64), onnx-proto, protobufjs, node-seal …"
  tar -C node_modules --exclude='protobufjs/cli' -cf - \
    onnxruntime-node/package.json onnxruntime-node/dist onnxruntime-node/lib onnxruntime-node/bin/napi-v6/linux/x64 \
    onnxruntime-common onnx-proto protobufjs @protobufjs long node-seal | xz -6 -T0 > "$PACK/modules.tar.xz" || exit 1
  [ -f /usr/lib/chromium/libvulkan.so.1 ] && cp /usr/lib/chromium/libvulkan.so.1 "$PACK/"
  du -sh "$PACK"/*
  echo "now: device run, command 'bash scripts/gpu-device-check.sh', carry [\".gpu-device\"], timeout_s 600"
}

if [ "${1:-}" = "--pack" ]; then pack; exit $?; fi

OUT=${OUT:-$ROOT/gpu-device-out}
mkdir -p "$OUT"
DEADLINE=$(( $(date +%s) + ${GPU_CHECK_DEADLINE_S:-540} ))
# t SECONDS CMD…: run CMD under a limit that never passes the overall deadline.
t () {
  local want=$1; shift
  local left=$(( DEADLINE - $(date +%s) ))
  [ "$left" -le 5 ] && { echo "  (skipped: the check's deadline is reached)"; return 124; }
  [ "$want" -gt "$left" ] && want=$left
  timeout -k 5 "$want" "$@"
}
say () { printf '\n== %s\n' "$*"; }

main () {
  say "machine"
  uname -srm; echo "cores: $(nproc)"; t 10 free -g | head -2
  if command -v nvidia-smi >/dev/null; then t 30 nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "nvidia-smi failed"
  else echo "no nvidia-smi: no NVIDIA driver visible"; fi

  say "node"
  NODE=""
  for n in node_modules/.bin/node "$(command -v node 2>/dev/null)"; do
    [ -n "$n" ] && [ -x "$n" ] && [ "$(timeout 20 "$n" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -ge 24 ] && { NODE=$n; break; }
  done
  if [ -z "$NODE" ] && [ -f "$PACK/node.tar.xz" ]; then
    mkdir -p /tmp/cerberus-gpu && t 120 tar -C /tmp/cerberus-gpu -xJf "$PACK/node.tar.xz" && NODE=/tmp/cerberus-gpu/node/bin/node
  fi
  [ -z "$NODE" ] && { echo "no Node ≥ 24 here and no .gpu-device/node.tar.xz: run '--pack' where node_modules is installed and carry .gpu-device"; return 0; }
  echo "using $NODE ($("$NODE" --version))"
  if [ ! -d node_modules/onnxruntime-node/bin/napi-v6/linux/x64 ]; then
    [ -f "$PACK/modules.tar.xz" ] || { echo "onnxruntime-node is missing and .gpu-device/modules.tar.xz is not here"; return 0; }
    mkdir -p node_modules && t 120 tar -C node_modules -xJf "$PACK/modules.tar.xz" || { echo "unpacking the packages failed"; return 0; }
  fi

  say "vulkan (onnxruntime-node's WebGPU EP is Dawn over Vulkan)"
  if ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then echo "system Vulkan loader: yes"
  elif [ -f "$PACK/libvulkan.so.1" ]; then export LD_LIBRARY_PATH="$PACK${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; echo "system Vulkan loader: no; using the carried libvulkan.so.1 (from Chromium)"
  else echo "no Vulkan loader: the WebGPU EP will find no adapter"; fi
  ICD=""
  for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do [ -f "$f" ] && { ICD=$f; break; }; done
  if [ -n "$ICD" ]; then export VK_DRIVER_FILES=$ICD VK_ICD_FILENAMES=$ICD; echo "NVIDIA Vulkan ICD: $ICD"; else echo "no NVIDIA Vulkan ICD file found"; fi
  # The ICD names the driver's libGLX_nvidia.so.0; on the device image it lives here.
  [ -d /usr/local/nvidia/lib64 ] && export LD_LIBRARY_PATH="/usr/local/nvidia/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

  say "onnxruntime-node backends"
  t 60 "$NODE" --input-type=module -e "import o from 'onnxruntime-node'; console.log(JSON.stringify(o.listSupportedBackends()))" \
    || echo "onnxruntime-node did not load"
  echo "(cuda is listed unbundled: onnxruntime-node's CUDA binaries come from nuget.org, which this project never fetches)"

  say "self-test and node placement on onnxruntime-node's WebGPU EP"
  t 180 "$NODE" --input-type=module -e "
    import { createGpuMac } from './src/gpu/mac-runner.node.ts'
    import { gpuSelfTest } from './src/gpu/self-test.ts'
    const r = await gpuSelfTest(s => createGpuMac(s, { ep: 'webgpu', logSeverityLevel: 0 }))
    console.log(JSON.stringify(r))" > "$OUT/selftest-node.json" 2> "$OUT/selftest-node.stderr"
  cat "$OUT/selftest-node.json"; grep -h 'placed on \[' "$OUT/selftest-node.stderr" | sed 's/^.*VerifyEachNodeIsAssignedToAnEp\] */  /' | head -5
  grep -h -m3 -i 'adapter\|vulkan' "$OUT/selftest-node.stderr" | cut -c1-200

  say "bench gpu --runtime node (WebAssembly kernel vs onnxruntime-node WebGPU and CPU EPs)"
  t 300 "$NODE" src/bench/gpu-bench-main.ts --reps 5 --json "$OUT/bench-gpu-node.json" || echo "bench gpu --runtime node stopped (exit $?)"

  say "bench gpu --runtime chromium"
  CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
  if [ -z "$CHROME" ]; then echo "no Chromium on this machine: skipped (it is ~300 MB, too big to carry)"
  elif [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/vite ]; then echo "Chromium is here but playwright/vite are not: skipped"
  else CERBERUS_CHROMIUM=$CHROME t 400 "$NODE" bin/cerberus.js bench gpu --runtime chromium --hardware-gpu --json "$OUT/bench-gpu-chromium.json" || echo "the Chromium run stopped (exit $?)"; fi

  say "summary"
  [ -f "$OUT/bench-gpu-node.json" ] && t 30 "$NODE" -e "
    const r = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8'))
    console.log('adapter: ' + r.adapter)
    console.log(r.note)
    for (const s of r.shapes) console.log(s.dOut + 'x' + s.dIn + ': kernel ' + s.wasmMs.toFixed(2) + ' ms, webgpu ' + (s.webgpuMs === null ? '-' : s.webgpuMs.toFixed(2) + ' ms (' + (s.wasmMs / s.webgpuMs).toFixed(2) + 'x the kernel)') + ', exact ' + s.exact)
    const ran = r.shapes.filter(s => s.webgpuMs !== null)
    if (ran.length === 0) console.log('verdict: the WebGPU EP did not run here (see the vulkan and self-test sections)')
    else console.log('verdict: WebGPU ' + (ran.every(s => s.exact) ? 'exact on every shape' : 'NOT exact') + '; ' + (ran.every(s => s.wasmMs / s.webgpuMs >= 10) ? 'at least' : 'below') + ' 10x the kernel on ' + (ran.every(s => s.wasmMs / s.webgpuMs >= 10) ? 'every shape' : 'some shape'))" "$OUT/bench-gpu-node.json"
  return 0
}

main 2>&1 | tee "$OUT/device-check.log"
