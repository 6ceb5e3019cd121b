#!/usr/bin/env bash
# Side-by-side benchmark of tcsim's collective simulation against ASTRA-sim's analytical network backend.
# Not part of the CMake build or CI. Usage:
#
#   bench/astra-sim/run.sh [ASTRA_SIM_SRC]
#
# ASTRA_SIM_SRC (argument or environment variable): an ASTRA-sim source tree with its submodules present
# (extern/graph_frontend/chakra, extern/network_backend/analytical and its extern/yaml-cpp,
# extern/remote_memory_backend/analytical). It is only read: the script copies it to $WORK/src, generates
# Chakra's protobuf code there and builds ASTRA-sim's analytical backend (both binaries) in $WORK/build.
#
# Environment:
#   WORK            work directory (default /tmp/astra-bench): ASTRA-sim copy and build, inputs, outputs
#   TCSIM           tcsim binary to use; default: build one in $TCSIM_BUILD (default /tmp/build-tcsim-bench)
#   YAML_CPP_SRC    yaml-cpp sources, for ASTRA-sim versions whose CMakeLists fetch yaml-cpp from the
#                   network (FetchContent); passed as FETCHCONTENT_SOURCE_DIR_YAML-CPP
#   JOBS            build parallelism (default nproc)
#
# Needs: cmake, ninja, g++, protoc and libprotobuf-dev, python3 with the protobuf module (Debian:
# python3-protobuf; the script uses /usr/bin/python3), /usr/bin/time.
#
# Every case runs once, one after another; each row records the 1-minute load average before the pair ran
# and after it (one figure when they agree). The network each side models, and what differs: README.md here.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
src_in=${1:-${ASTRA_SIM_SRC:-}}
WORK=${WORK:-/tmp/astra-bench}
JOBS=${JOBS:-$(nproc)}
PY=/usr/bin/python3

die() { echo "run.sh: $*" >&2; exit 1; }

[[ -n $src_in ]] || die "give the ASTRA-sim source directory as an argument or in ASTRA_SIM_SRC"
[[ -d $src_in ]] || die "$src_in: not a directory"
src_in=$(cd "$src_in" && pwd)
WORK=$(realpath -m "$WORK")
if [[ $WORK/ == "$repo"/* && $WORK/ != "$repo"/build-astra/* ]]; then
  die "WORK must be outside $repo, or under $repo/build-astra"
fi

for tool in cmake ninja g++ protoc; do command -v "$tool" >/dev/null || die "missing $tool (apt-get install cmake ninja-build g++ protobuf-compiler libprotobuf-dev)"; done
[[ -x /usr/bin/time ]] || die "missing /usr/bin/time (apt-get install time)"
"$PY" -c 'import google.protobuf' 2>/dev/null || die "missing the protobuf module for $PY (apt-get install python3-protobuf)"

for f in CMakeLists.txt build/astra_analytical/CMakeLists.txt \
         extern/graph_frontend/chakra/schema/protobuf/et_def.proto \
         extern/network_backend/analytical/CMakeLists.txt \
         extern/remote_memory_backend/analytical/AnalyticalRemoteMemory.cc; do
  [[ -e $src_in/$f ]] || die "$src_in/$f is missing: is this an ASTRA-sim tree with its submodules checked out?"
done
if grep -q 'extern/yaml-cpp' "$src_in/extern/network_backend/analytical/CMakeLists.txt" &&
   [[ ! -e $src_in/extern/network_backend/analytical/extern/yaml-cpp/CMakeLists.txt ]]; then
  die "$src_in/extern/network_backend/analytical/extern/yaml-cpp is empty (a nested submodule)"
fi

log=$WORK/log
mkdir -p "$WORK" "$log"

# ---------------------------------------------------------------------------------------------------------
# Build ASTRA-sim (analytical backend, congestion-unaware and congestion-aware) out of the source tree.
# cp -a keeps modification times, so a second run rebuilds only what changed.
echo "== ASTRA-sim: copy $src_in to $WORK/src and build in $WORK/build" >&2
mkdir -p "$WORK/src"
cp -a "$src_in/." "$WORK/src/"
proto_dir=$WORK/src/extern/graph_frontend/chakra/schema/protobuf
if [[ ! -e $proto_dir/et_def.pb.cc || $proto_dir/et_def.proto -nt $proto_dir/et_def.pb.cc ]]; then
  protoc et_def.proto --proto_path="$proto_dir" --cpp_out="$proto_dir"
fi
mkdir -p "$WORK/pb2"
protoc et_def.proto --proto_path="$proto_dir" --python_out="$WORK/pb2"
cmake_extra=()
[[ -n ${YAML_CPP_SRC:-} ]] && cmake_extra+=("-DFETCHCONTENT_SOURCE_DIR_YAML-CPP=$YAML_CPP_SRC")
cmake -S "$WORK/src/build/astra_analytical" -B "$WORK/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DBUILDTARGET=all "${cmake_extra[@]}" >"$log/astra-cmake.log" 2>&1 || { tail -20 "$log/astra-cmake.log"; die "ASTRA-sim configure failed"; }
cmake --build "$WORK/build" -j "$JOBS" >"$log/astra-build.log" 2>&1 || { tail -30 "$log/astra-build.log"; die "ASTRA-sim build failed"; }
astra_cu=$WORK/build/bin/AstraSim_Analytical_Congestion_Unaware
astra_ca=$WORK/build/bin/AstraSim_Analytical_Congestion_Aware
[[ -x $astra_cu && -x $astra_ca ]] || die "ASTRA-sim binaries not found in $WORK/build/bin"

# ---------------------------------------------------------------------------------------------------------
# tcsim
if [[ -z ${TCSIM:-} ]]; then
  tb=${TCSIM_BUILD:-/tmp/build-tcsim-bench}
  echo "== tcsim: build in $tb" >&2
  cmake -S "$repo" -B "$tb" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTCSIM_CUDA=OFF -DTCSIM_TESTS=OFF \
    -DTCSIM_PYTHON=OFF >"$log/tcsim-cmake.log" 2>&1 || { tail -20 "$log/tcsim-cmake.log"; die "tcsim configure failed"; }
  cmake --build "$tb" --target tcsim -j "$JOBS" >"$log/tcsim-build.log" 2>&1 || { tail -30 "$log/tcsim-build.log"; die "tcsim build failed"; }
  TCSIM=$tb/tcsim
fi
[[ -x $TCSIM ]] || die "$TCSIM is not executable"

# ---------------------------------------------------------------------------------------------------------
# The network, in ASTRA-sim's units. tcsim's side is its built-in DeepSeek-V3 cluster (scenarios/deepseek-v3.yaml,
# hardware/catalog.cpp): H800, 8 GPUs per node on an NVSwitch at 200 GB/s per direction per GPU, one
# 400 Gb/s (50 GB/s) NIC per GPU, multi-plane two-layer fat-tree of 64-port switches, 2.8 us same-leaf and
# 3.33 us NVLink end-to-end latency, HBM 3.35 TB/s. tcsim's GB is 1e9 bytes; ASTRA-sim's analytical backend
# reads "GB/s" as 2^30 bytes per second (common/NetworkFunction bw_GBps_to_Bpns), so the same bytes per
# second are written as x 1e9 / 2^30.
gib=1073741824
nic_gbps=$(awk "BEGIN{printf \"%.9f\", 50e9 / $gib}")     # 50 GB/s
nvl_gbps=$(awk "BEGIN{printf \"%.9f\", 200e9 / $gib}")    # 200 GB/s
nic_link_ns=1400      # a Switch path is 2 links: 2 x 1400 ns = 2.8 us, tcsim's same-leaf figure
nvl_link_ns=1665      # 2 x 1665 ns = 3.33 us, tcsim's NVLink figure
size=$gib             # 1 GiB, as nccl-tests counts it (all-reduce: buffer per GPU; all-to-all: send buffer)

# ASTRA-sim system layer: the values of the system inputs ASTRA-sim ships (inputs/system/*.json: LIFO,
# endpoint delay 10 cycles, 1 active chunk per dimension, 4 dataset splits), except the per-dimension
# algorithms and local-mem-bw, set to the GPU's HBM bandwidth as tcsim has it (3.35 TB/s; ASTRA-sim reads
# it in bytes per ns). Its examples use 50, which makes every reduction step cost 3 x chunk / 50 GB/s.
system_json() {  # $1 all-reduce impl list, $2 all-to-all impl list, $3 collective-optimization
  cat <<EOF
{
  "scheduling-policy": "LIFO",
  "endpoint-delay": 10,
  "active-chunks-per-dimension": 1,
  "preferred-dataset-splits": 4,
  "all-reduce-implementation": [$1],
  "all-gather-implementation": [$1],
  "reduce-scatter-implementation": [$1],
  "all-to-all-implementation": [$2],
  "collective-optimization": "$3",
  "local-mem-bw": 3350,
  "boost-mode": 0
}
EOF
}

network_1d() {  # $1 NPUs: every GPU on one switch through its own 50 GB/s link
  printf 'topology: [ Switch ]\nnpus_count: [ %d ]\nbandwidth: [ %s ]\nlatency: [ %s ]\n' "$1" "$nic_gbps" "$nic_link_ns"
}
network_2d() {  # $1 NPUs: dimension 0 the node's NVSwitch (8 GPUs), dimension 1 the NICs' switch (nodes)
  printf 'topology: [ Switch, Switch ]\nnpus_count: [ 8, %d ]\nbandwidth: [ %s, %s ]\nlatency: [ %s, %s ]\n' \
    "$(($1 / 8))" "$nvl_gbps" "$nic_gbps" "$nvl_link_ns" "$nic_link_ns"
}

load1() { cut -d' ' -f1 /proc/loadavg; }

# run_astra NAME BACKEND(ca|cu) NPUS OP DIMS SYSTEM_JSON NETWORK_YML -> sets a_time_s a_wall a_cpu a_rss
run_astra() {
  local name=$1 backend=$2 n=$3 op=$4 dims=$5 d=$WORK/runs/$1
  rm -rf "$d"; mkdir -p "$d"
  printf '%s\n' "$6" >"$d/system.json"
  printf '%s\n' "$7" >"$d/network.yml"
  echo '{ "memory-type": "NO_MEMORY_EXPANSION" }' >"$d/memory.json"
  "$PY" "$here/gen_et.py" "$WORK/pb2" "$d/et/workload" "$n" "$op" "$size" "$dims"
  local bin=$astra_cu; [[ $backend == ca ]] && bin=$astra_ca
  (cd "$d" && /usr/bin/time -f '%e %U %S %M' -o "$d/time" "$bin" \
     --workload-configuration="$d/et/workload" --system-configuration="$d/system.json" \
     --remote-memory-configuration="$d/memory.json" --network-configuration="$d/network.yml" >"$d/out" 2>&1) ||
    die "ASTRA-sim failed on $name: $(tail -3 "$d/out")"
  local finished
  finished=$(grep -c 'finished, [0-9]* cycles' "$d/out" || true)
  [[ $finished == "$n" ]] || die "ASTRA-sim $name: $finished of $n NPUs finished (see $d/out)"
  # One cycle is 1 ns (ASTRA-sim's default clock); the collective ends when its last NPU finishes.
  a_time_s=$(awk -F'finished, ' '/finished, [0-9]* cycles/ {split($2, a, " "); if (a[1] > m) m = a[1]} END {printf "%.9f", m / 1e9}' "$d/out")
  read -r a_wall a_user a_sys a_rss <"$d/time"
  a_cpu=$(awk "BEGIN{printf \"%.2f\", $a_user + $a_sys}")
}

# run_tcsim NAME ARGS... -> sets t_time_s t_wall t_cpu t_rss (KB)
run_tcsim() {
  local name=$1 d=$WORK/runs/$1; shift
  rm -rf "$d"; mkdir -p "$d"
  echo "$TCSIM collective $* --json" >"$d/cmd"
  /usr/bin/time -f '%e %U %S %M' -o "$d/time" "$TCSIM" collective "$@" --json >"$d/out.json" 2>"$d/err" ||
    die "tcsim failed on $name: $(tail -3 "$d/err")"
  t_time_s=$("$PY" -c 'import json,sys; print("%.9f" % json.load(open(sys.argv[1]))["time_s"])' "$d/out.json")
  read -r t_wall t_user t_sys t_rss <"$d/time"
  t_cpu=$(awk "BEGIN{printf \"%.2f\", $t_user + $t_sys}")
}

busbw() {  # $1 op $2 npus $3 time_s -> GB/s (1e9), nccl-tests' factor
  awk -v op="$1" -v n="$2" -v t="$3" -v s="$size" 'BEGIN {
    f = (op == "all-reduce") ? 2 * (n - 1) / n : (n - 1) / n; printf "%.1f", s / t * f / 1e9 }'
}

results=$WORK/results.tsv
printf 'workload\tGPUs\ttcsim config\ttcsim time ms\ttcsim busbw GB/s\ttcsim wall s\ttcsim CPU s\ttcsim max RSS MB\ttcsim wall s every-step\tASTRA-sim config\tASTRA time ms\tASTRA busbw GB/s\tASTRA wall s\tASTRA CPU s\tASTRA max RSS MB\ttime ASTRA/tcsim\twall ASTRA/tcsim\tload 1-min\n' >"$results"

# pair WORKLOAD N TCSIM_LABEL "TCSIM ARGS" ASTRA_LABEL BACKEND OP DIMS SYSTEM NETWORK
pair() {
  local workload=$1 n=$2 tlabel=$3 targs=$4 alabel=$5 backend=$6 op=$7 dims=$8 system=$9 network=${10}
  local key load
  key=$(echo "$workload-$n-$tlabel-$alabel" | tr -c 'A-Za-z0-9\n-' '_')
  echo "== $workload, $n GPUs: tcsim $tlabel vs ASTRA-sim $alabel" >&2
  load=$(load1)
  # shellcheck disable=SC2086  # targs is a word list
  run_tcsim "$key.tcsim" $targs
  local tt=$t_time_s tw=$t_wall tc=$t_cpu tr=$t_rss ew=-
  if [[ $op == all-reduce ]]; then
    # shellcheck disable=SC2086
    run_tcsim "$key.tcsim-every-step" $targs --every-step
    ew=$t_wall
  fi
  run_astra "$key.astra" "$backend" "$n" "$op" "$dims" "$system" "$network"
  local after; after=$(load1); [[ $after == "$load" ]] || load="$load-$after"
  printf '%s\t%d\t%s\t%.3f\t%s\t%s\t%s\t%.0f\t%s\t%s\t%.3f\t%s\t%s\t%s\t%.0f\t%.2f\t%.1f\t%s\n' \
    "$workload" "$n" "$tlabel" "$(awk "BEGIN{print $tt * 1e3}")" "$(busbw "$op" "$n" "$tt")" "$tw" "$tc" "$(awk "BEGIN{print $tr / 1024}")" "$ew" \
    "$alabel" "$(awk "BEGIN{print $a_time_s * 1e3}")" "$(busbw "$op" "$n" "$a_time_s")" "$a_wall" "$a_cpu" \
    "$(awk "BEGIN{print $a_rss / 1024}")" "$(awk "BEGIN{print $a_time_s / $tt}")" \
    "$(awk "BEGIN{w = $tw; if (w < 0.01) w = 0.01; print $a_wall / w}")" "$load" >>"$results"
}

sys_ring=$(system_json '"ring"' '"direct"' baseline)
sys_one_ring=$(system_json '"oneRing", "oneRing"' '"oneDirect", "oneDirect"' baseline)
sys_hier=$(system_json '"ring", "ring"' '"direct", "direct"' localBWAware)

for n in 64 256 1024; do
  w="ring all-reduce 1 GiB"
  pair "$w" "$n" "ring, 1 channel" "--op all-reduce --algo ring --channels 1 --size 1GiB --gpus $n" \
    "congestion-aware, 1-D switch, ring" ca all-reduce 1 "$sys_ring" "$(network_1d "$n")"
  pair "$w" "$n" "ring, 1 channel" "--op all-reduce --algo ring --channels 1 --size 1GiB --gpus $n" \
    "congestion-unaware, 1-D switch, ring" cu all-reduce 1 "$sys_ring" "$(network_1d "$n")"
  pair "$w" "$n" "ring, 8 channels (default)" "--op all-reduce --algo ring --size 1GiB --gpus $n" \
    "congestion-unaware, 2-D, oneRing" cu all-reduce 2 "$sys_one_ring" "$(network_2d "$n")"
  pair "$w" "$n" "hierarchical" "--op all-reduce --algo hierarchical --size 1GiB --gpus $n" \
    "congestion-unaware, 2-D, ring_ring localBWAware" cu all-reduce 2 "$sys_hier" "$(network_2d "$n")"
done
for n in 64 256; do
  w="direct all-to-all 1 GiB"
  pair "$w" "$n" "direct" "--op all-to-all --algo direct --size 1GiB --gpus $n" \
    "congestion-aware, 1-D switch, direct" ca all-to-all 1 "$sys_ring" "$(network_1d "$n")"
  pair "$w" "$n" "direct" "--op all-to-all --algo direct --size 1GiB --gpus $n" \
    "congestion-unaware, 1-D switch, direct" cu all-to-all 1 "$sys_ring" "$(network_1d "$n")"
done

# ---------------------------------------------------------------------------------------------------------
echo
echo "tcsim: $TCSIM ($(cd "$repo" && git rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo "ASTRA-sim: $src_in, built in $WORK/build"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); each case run once"
echo
"$PY" - "$results" <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter="\t"))
print("| " + " | ".join(rows[0]) + " |")
print("|" + "---|" * len(rows[0]))
for r in rows[1:]:
    print("| " + " | ".join(r) + " |")
EOF
echo
echo "(tab-separated: $results; every run's command, output and /usr/bin/time figures under $WORK/runs)"
