#!/usr/bin/env bash
# Smoke test on a real Slurm: configures a one-node cluster on this machine (munge, slurmctld,
# slurmd; no cgroups), starts a scratch PostgreSQL, plans the quick sweep with
# `isoflop sweep slurm`, submits the job-array script with sbatch, waits for it, and checks
# with `isoflop sweep status` that every run is done. Not part of the test suite.
#
# Exit status: 0 every run done; 77 SKIPPED (Slurm or PostgreSQL cannot start here: the
# reason is printed); anything else a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SKIPPED=77
NODES=${NODES:-2}             # array tasks, all on this one node
PROCESSES=${PROCESSES:-1}     # worker processes per task
STORE_KIND=${STORE_KIND:-postgresql}   # or sqlite, where PostgreSQL is not wanted

skip() { echo "slurm-smoke: SKIPPED: $*"; exit "$SKIPPED"; }
fail() { echo "slurm-smoke: FAILED: $*"; exit 1; }
note() { echo "slurm-smoke: $*"; }

[ "$(id -u)" = 0 ] || skip "slurmd must run as root to start jobs; run this script as root"

if ! command -v sbatch >/dev/null || ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    command -v apt-get >/dev/null || skip "slurm-wlm and munge are missing and there is no apt-get to install them"
    note "installing slurm-wlm and munge"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends slurm-wlm munge >/dev/null \
        || skip "apt-get could not install slurm-wlm and munge"
fi
if [ "$STORE_KIND" = postgresql ]; then
    PGBIN=$(pg_config --bindir 2>/dev/null || true)
    [ -x "$PGBIN/initdb" ] || PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -x "$PGBIN/initdb" ] || skip "PostgreSQL's initdb was not found (install the postgresql package)"
fi

ISOFLOP=$ROOT/.build/release/isoflop
if [ ! -x "$ISOFLOP" ]; then
    note "building isoflop"
    swift build -c release --product isoflop >/dev/null
fi

WORK=$(mktemp -d -t isoflop-slurm-smoke.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
    set +e
    for pidfile in "$WORK/slurmd.pid" "$WORK/slurmctld.pid" "$WORK/munge/munged.pid"; do
        [ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
    done
    [ -f "$WORK/pg/postmaster.pid" ] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" -m fast stop >/dev/null 2>&1
    sleep 1
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() {  # wait_for SECONDS COMMAND...: true once COMMAND succeeds within SECONDS
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do [ $SECONDS -lt $deadline ] || return 1; sleep 0.5; done
}
show_log() { [ -f "$1" ] && tail -n 15 "$1" | sed 's/^/    /'; return 0; }
job_gone() { [ -z "$(squeue -h -j "$JOB" 2>/dev/null)" ]; }
submit_and_wait() {  # submit_and_wait SCRIPT WHAT: sbatch, wait for the array, show its task logs; sets JOB, START, END
    START=$(date +%s.%N)
    JOB=$(sbatch --parsable "$1") || fail "sbatch refused the $2 script"
    note "submitted the $2 job array $JOB ($NODES tasks)"
    wait_for 600 job_gone || { squeue; fail "the $2 job array did not finish within 10 minutes"; }
    END=$(date +%s.%N)
    for log in "$(dirname "$1")"/slurm-logs/*.out; do
        echo "--- $(basename "$log")"
        sed 's/^/    /' "$log"
    done
}

# munge: a fresh key and a daemon of our own, run by the munge user.
mkdir -p "$WORK/munge"
dd if=/dev/urandom of="$WORK/munge/munge.key" bs=1024 count=1 status=none
chown -R munge:munge "$WORK/munge"
chmod 755 "$WORK/munge"   # munged wants its socket folder open to all
chmod 400 "$WORK/munge/munge.key"
MUNGE_SOCKET=$WORK/munge/munge.socket
runuser -u munge -- /usr/sbin/munged --key-file="$WORK/munge/munge.key" --socket="$MUNGE_SOCKET" \
    --pid-file="$WORK/munge/munged.pid" --log-file="$WORK/munge/munged.log" --seed-file="$WORK/munge/munged.seed" \
    || { show_log "$WORK/munge/munged.log"; skip "munged would not start"; }
wait_for 10 munge --socket="$MUNGE_SOCKET" -n || { show_log "$WORK/munge/munged.log"; skip "munge does not answer"; }

# Slurm: this host as the only node with all its CPUs; process tracking without cgroups.
HOST=$(hostname -s)
CPUS=$(nproc)
mkdir -p "$WORK/state" "$WORK/spool"
export SLURM_CONF=$WORK/slurm.conf
cat > "$SLURM_CONF" <<EOF
ClusterName=isoflop-smoke
SlurmctldHost=$HOST
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
CredType=cred/munge
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=600
NodeName=$HOST CPUs=$CPUS State=UNKNOWN
PartitionName=smoke Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -f "$SLURM_CONF" -i || { show_log "$WORK/slurmctld.log"; skip "slurmctld would not start"; }
slurmd -f "$SLURM_CONF" -N "$HOST" || { show_log "$WORK/slurmd.log"; skip "slurmd would not start"; }
node_idle() { sinfo -h -n "$HOST" -o %t | grep -qx idle; }
wait_for 60 node_idle || {
    sinfo 2>&1 | sed 's/^/    /'; show_log "$WORK/slurmctld.log"; show_log "$WORK/slurmd.log"
    skip "the node did not come up idle in Slurm"
}
note "slurm up: node $HOST with $CPUS CPUs"

if [ "$STORE_KIND" = postgresql ]; then
    # PostgreSQL: a scratch cluster on loopback, owned by the postgres user.
    PGPORT=$(free_port)
    mkdir -p "$WORK/pg" "$WORK/pgsock"
    chown postgres "$WORK/pg" "$WORK/pgsock"
    runuser -u postgres -- "$PGBIN/initdb" -D "$WORK/pg" -U postgres --auth=trust >"$WORK/initdb.log" 2>&1 \
        || { show_log "$WORK/initdb.log"; skip "initdb failed"; }
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pgsock/pg.log" -w \
        -o "-p $PGPORT -k $WORK/pgsock -c listen_addresses=127.0.0.1" start >/dev/null \
        || { show_log "$WORK/pgsock/pg.log"; skip "PostgreSQL would not start"; }
    runuser -u postgres -- "$PGBIN/psql" -q -h 127.0.0.1 -p "$PGPORT" -U postgres -c "CREATE DATABASE isoflop" \
        || fail "could not create the database"
    STORE=postgresql://postgres@127.0.0.1:$PGPORT/isoflop
else
    STORE=sqlite:$WORK/sweep.sqlite
fi
note "store: $STORE"

# The sweep: plan, submit, wait.
"$ISOFLOP" sweep slurm configs/quick.toml --store "$STORE" --checkpoints "$WORK/checkpoints" \
    --nodes "$NODES" --processes-per-node "$PROCESSES" --time 00:20:00 --output "$WORK/job/quick.sbatch" \
    || fail "isoflop sweep slurm could not plan the sweep"
submit_and_wait "$WORK/job/quick.sbatch" sweep
STATUS=$("$ISOFLOP" sweep status --store "$STORE")
echo "$STATUS"
echo "$STATUS" | grep -q "sweep quick: 18 runs (planned 0, running 0, done 18, diverged 0, failed 0)" \
    || fail "not every run of the quick sweep is done"
[ "$(ls "$WORK"/job/slurm-logs/*.out | wc -l)" = "$NODES" ] || fail "expected $NODES task logs"
BAD=$(scontrol -o show job "$JOB" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | grep -v 'JobState=COMPLETED' || true)
[ -z "$BAD" ] || fail "array tasks ended $BAD"
awk -v n="$NODES" -v p="$PROCESSES" -v kind="$STORE_KIND" -v s="$START" -v e="$END" 'BEGIN {
    printf "slurm-smoke: PASSED: %d array tasks x %d worker process(es) trained the quick sweep on a %s store; wall time %.1f s (sbatch to the last task done)\n", n, p, kind, e - s }'

# The ladder: two rungs on the quick sweep at a tenth of its budgets, the second changing only how
# N is counted (so all its runs are copies of the first's), as a job array of the same size.
sed 's/^budgets = \[1e11, 2e11, 3e11\]/budgets = [1e10, 2e10, 4e10]/; s/^name = "quick"/name = "tinyladder"/' \
    configs/quick.toml > "$WORK/tiny.toml"
grep -q '^budgets = \[1e10' "$WORK/tiny.toml" || fail "configs/quick.toml's budgets line changed; update this script"
printf '%s\n' 'name = "tinyladder"' "base = \"$WORK/tiny.toml\"" '[[rungs]]' 'name = "total"' 'schedule = "matched"' \
    '[[rungs]]' 'name = "nonemb"' 'params = "nonemb"' > "$WORK/ladder.toml"
"$ISOFLOP" ladder --config "$WORK/ladder.toml" --slurm --store "$STORE" --checkpoints "$WORK/checkpoints" \
    --nodes "$NODES" --processes-per-node "$PROCESSES" --time 00:20:00 --out "$WORK/ladder-out" \
    --script "$WORK/ladder/ladder.sbatch" || fail "isoflop ladder --slurm could not write the job"
submit_and_wait "$WORK/ladder/ladder.sbatch" ladder
for rung in total nonemb; do
    "$ISOFLOP" sweep status --store "$STORE" --sweep "tinyladder-$rung" \
        | grep -q "9 runs (planned 0, running 0, done 9, diverged 0, failed 0)" || fail "not every run of rung $rung is done"
done
[ -f "$WORK/ladder-out/ladder.json" ] || fail "no ladder.json"
grep -Eq '"copied" : 9\b' "$WORK/ladder-out/ladder.json" || fail "the second rung did not copy its nine runs from the first"
BAD=$(scontrol -o show job "$JOB" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | grep -v 'JobState=COMPLETED' || true)
[ -z "$BAD" ] || fail "ladder array tasks ended $BAD"
awk -v n="$NODES" -v s="$START" -v e="$END" 'BEGIN {
    printf "slurm-smoke: PASSED: %d array tasks ran a two-rung ladder, each training once; wall time %.1f s\n", n, e - s }'
