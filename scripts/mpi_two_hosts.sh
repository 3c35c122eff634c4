#!/usr/bin/env bash
# Data-parallel training between two "hosts" over TCP, on one machine: two
# network namespaces (nnc-a 10.77.0.1, nnc-b 10.77.0.2) joined by a veth
# pair. mpirun runs in nnc-a with a hostfile naming both addresses and
# starts the remote rank through a launch agent that enters nnc-b (where a
# cluster would use ssh), with Open MPI's TCP transport only: what a
# two-node run does, minus the cable. Needs root (ip netns).
#   scripts/mpi_two_hosts.sh [MODEL.nn] [EPOCHS]   (default: the test suite's
#                                                   small word LSTM, 3 epochs)
# Trains MODEL on one process and on the two hosts, prints both runs' loss
# lines and the data-parallel summary, and compares the two checkpoints
# (build/tests/e2e/ckpt_diff, relative 1e-5). The namespaces are removed
# on exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
nnc=${NNC:-$root/build/bin/nnc}
diff=${CKPT_DIFF:-$root/build/tests/e2e/ckpt_diff}
model=$(realpath "${1:-$root/tests/e2e/textgen_small.nn}")
epochs=${2:-3}
work=$(mktemp -d)
remove_namespaces() {
  ip netns del nnc-a 2>/dev/null || true
  ip netns del nnc-b 2>/dev/null || true
}
trap 'remove_namespaces; rm -rf "$work"' EXIT
remove_namespaces # left by an interrupted run

ip netns add nnc-a
ip netns add nnc-b
ip link add veth-nnc-a type veth peer name veth-nnc-b
ip link set veth-nnc-a netns nnc-a
ip link set veth-nnc-b netns nnc-b
ip -n nnc-a addr add 10.77.0.1/24 dev veth-nnc-a
ip -n nnc-b addr add 10.77.0.2/24 dev veth-nnc-b
for ns in nnc-a nnc-b; do
  ip -n $ns link set lo up
done
ip -n nnc-a link set veth-nnc-a up
ip -n nnc-b link set veth-nnc-b up

# mpirun's remote launcher: "agent HOST COMMAND..." (as ssh would run it).
cat > "$work/agent.sh" <<'AGENT'
#!/bin/sh
host=$1; shift
case $host in
  10.77.0.1) ns=nnc-a ;;
  10.77.0.2) ns=nnc-b ;;
  *) echo "agent: unknown host $host" >&2; exit 1 ;;
esac
exec ip netns exec $ns /bin/sh -c "$*"
AGENT
chmod +x "$work/agent.sh"
printf '10.77.0.1 slots=1\n10.77.0.2 slots=1\n' > "$work/hostfile"

cd "$work"
cp "$model" model.nn
# The data the model's train block names, if it is beside the model.
if grep -q '"corpus.txt"' model.nn; then
  head -c 3000 "$root/examples/textgen/data/moby_dick_four_chapters.txt" > corpus.txt
fi
export NNC_CACHE_DIR=$work/cache OMP_NUM_THREADS=1
echo "== one process"
"$nnc" train model.nn --epochs "$epochs" --save one.st | grep -E '^Epoch|trained'
echo "== two hosts over TCP (10.77.0.1, 10.77.0.2)"
ip netns exec nnc-a mpirun --allow-run-as-root --hostfile hostfile -np 2 \
  --mca plm_rsh_agent "$work/agent.sh" --mca btl tcp,self \
  --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 ${MPI_EXTRA:-} \
  -x NNC_CACHE_DIR -x OMP_NUM_THREADS \
  "$nnc" train model.nn --epochs "$epochs" --save two.st | grep -E '^Epoch|trained|data-parallel'
if [[ -x $diff ]]; then
  "$diff" one.st two.st 1e-5
fi
