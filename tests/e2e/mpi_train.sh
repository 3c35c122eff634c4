#!/usr/bin/env bash
# Data-parallel training: `mpirun -np 2 nnc train` against one process.
#   mpi_train.sh NNC CKPT_DIFF TEXT_MODEL GPT_MODEL CORPUS WORK
# - a word LSTM (Adam) and a small GPT (SGD, with a dropout added, whose
#   masks must follow the rows across ranks) train 3 epochs on 1 and on 2
#   processes with the same global batch: the same loss lines, and parameters and
#   optimizer state equal to 1e-5 of each tensor's largest value;
# - 2 epochs on 2 processes, resumed on 1 for the third: the same again;
# - a global batch that 2 processes cannot split is refused;
# - a rank that errors (its data file is missing) ends the job at once,
#   with a message naming the rank; a rank killed mid-training ends the
#   job within seconds, and the checkpoint at --save is left as it was and
#   resumes.
set -uo pipefail
nnc=$1 diff=$2 textModel=$3 gptModel=$4 corpus=$5 work=$6
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
export NNC_CACHE_DIR=$work/cache OMP_NUM_THREADS=1
fail() { echo "FAIL: $*"; }
mpi() { mpirun --allow-run-as-root --oversubscribe --mca btl self,vader -np "$@"; }
epochs() { grep '^Epoch' "$1" | sed 's/ - [0-9.]*m\?s - / - /'; }

head -c 3000 "$corpus" > corpus.txt
cp "$textModel" text.nn
sed -e 's/^  b2     = TransformerBlock(H)(b1).*/  b2     = dropout(TransformerBlock(H)(b1), 0.1)/' \
  "$gptModel" > gpt.nn
grep -q dropout gpt.nn || fail "the GPT model has no dropout to test"

# The GPT with SGD: Adam turns the rounding noise of a gradient that is 0
# in exact arithmetic (the attention's key bias: softmax ignores a shift
# shared by a row's scores) into steps of the learning rate's size, so its
# runs part by more than rounding whatever the number of processes.
declare -A opts=([text]="" [gpt]="--optimizer sgd --lr 0.1")
for m in text gpt; do
  "$nnc" train $m.nn --epochs 3 ${opts[$m]} --save $m-1.st > $m-1.log 2>&1 ||
    fail "$m: one process exited non-zero"
  mpi 2 "$nnc" train $m.nn --epochs 3 ${opts[$m]} --save $m-2.st > $m-2.log 2>&1 ||
    fail "$m: two processes exited non-zero: $(tail -3 $m-2.log)"
  grep -q "identical on every rank" $m-2.log || fail "$m: no check that the ranks agree"
  [[ "$(epochs $m-1.log)" == "$(epochs $m-2.log)" ]] ||
    fail "$m: the loss lines differ: $(epochs $m-1.log) / $(epochs $m-2.log)"
  "$diff" $m-1.st $m-2.st 1e-5 || fail "$m: 2 processes trained other parameters than 1"
  [[ $(grep -c '^Epoch' $m-2.log) == 3 ]] || fail "$m: rank 1 printed too (or rank 0 did not)"
done

# Resume with another number of ranks.
mpi 2 "$nnc" train text.nn --epochs 2 --save half.st > half.log 2>&1 || fail "2 epochs on 2 exited non-zero"
"$nnc" train text.nn --epochs 3 --resume half.st --save mixed.st > mixed.log 2>&1 ||
  fail "resuming on 1 process exited non-zero"
"$diff" text-1.st mixed.st 1e-5 || fail "2 epochs on 2 processes and 1 on 1 differ from 3 on 1"

# A batch the ranks cannot split.
mpi 3 "$nnc" train text.nn --epochs 1 > odd.log 2>&1 && fail "batch 32 on 3 processes was accepted"
grep -q "does not split evenly across 3 processes" odd.log || fail "no message for batch 32 on 3: $(cat odd.log)"

# A rank that errors: rank 1 alone gets a missing data file.
start=$(date +%s)
mpirun --allow-run-as-root --oversubscribe --mca btl self,vader \
  -np 1 "$nnc" train text.nn --epochs 50 : -np 1 "$nnc" train text.nn --epochs 50 --data nowhere.txt \
  > err.log 2>&1 && fail "a job whose rank 1 failed exited 0"
(( $(date +%s) - start < 60 )) || fail "the failed job took more than a minute to end"
grep -q "nowhere.txt" err.log || fail "the error does not name the cause: $(cat err.log)"
grep -q "rank 1 of 2 failed" err.log || fail "the error does not name the rank: $(cat err.log)"

# A rank killed mid-training: the job ends, and the checkpoint at --save is
# the last complete one, which loads and resumes.
cp half.st keep.st
# The run is marked by its metrics path (unique to this work directory), so
# that the cleanup finds its ranks and nothing else; whatever happens, they
# do not outlive the test.
long="--metrics-out $work/long-run.json"
trap 'pkill -9 -f -- "$long" 2>/dev/null' EXIT
mpirun --allow-run-as-root --oversubscribe --mca btl self,vader -np 2 \
  "$nnc" train text.nn --epochs 100000 --resume keep.st --save keep.st $long > kill.log 2>&1 &
job=$!
victim=""
for _ in $(seq 100); do
  sleep 0.2
  grep -q '^Epoch 4/' kill.log 2>/dev/null || continue # training, past its first epoch
  for p in $(pgrep -f -- "$long"); do
    tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1' && victim=$p
  done
  [[ -n $victim ]] && break
done
if [[ -z $victim ]]; then
  fail "rank 1 of the long run was not found"
  kill $job 2>/dev/null
  pkill -9 -f -- "$long"
else
  kill -9 "$victim"
  killedAt=$(date +%s)
  for _ in $(seq 150); do kill -0 $job 2>/dev/null || break; sleep 0.2; done
  if kill -0 $job 2>/dev/null; then
    fail "the job was still running 30 s after rank 1 died"
    pkill -9 -f -- "$long"
  fi
  wait $job && fail "the job whose rank 1 died exited 0"
  echo "job ended $(( $(date +%s) - killedAt )) s after rank 1 was killed"
  grep -qi "rank 1" kill.log || fail "mpirun did not name the rank that died: $(tail -5 kill.log)"
  cmp -s half.st keep.st || fail "the checkpoint at --save changed"
  "$nnc" train text.nn --epochs 3 --resume keep.st > after-kill.log 2>&1 ||
    fail "the checkpoint left by the killed job does not resume: $(tail -2 after-kill.log)"
  grep -q '^Epoch 3/3' after-kill.log || fail "the resumed run did not train epoch 3"
fi
echo "mpi_train: done"
