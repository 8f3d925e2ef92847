#!/usr/bin/env bash
# Idle connections with every client in the lobby and the lobby holding history
# (docs/performance.md). Uses the chat-server bench's lib.sh, load generator and
# summarize.py; BENCH is the bench's directory.
#
#   BENCH=... SERVER_NAME=trio SERVER_CMD="..." LINE_FLAGS="..." \
#       SERVERS="trio ngircd" CLIENTS="1000 10000" REPS=3 bash benchmarks/idle_history.sh
#
# Each run starts a fresh server (pinned to CPU 0). For the line-protocol server
# named SERVER_NAME, prime_lobby (below) first says HISTORY (60) lines in its
# lobby, so that every client joining afterwards is replayed the last of them;
# the IRC baselines keep no history, so theirs is a plain idle run. Then the
# generator (pinned to CPU 1) connects N clients, holds them HOLD (2) s and
# reports the server's RSS per connection and the time to connect and join.
# A run that lost more than MAX_OTHER (0.15) cores to the rest of the machine is
# repeated up to RETRIES (2) times, as in run_baselines.sh. JSON lines go to
# $OUT/raw.jsonl (noisy ones to $OUT/noisy.jsonl).
set -u
: "${BENCH:?set BENCH to the chat-server bench directory}"
BENCH_DIR=$BENCH
source "$BENCH/lib.sh"
SERVERS=${SERVERS:-trio ngircd}
CLIENTS=${CLIENTS:-1000 10000}
REPS=${REPS:-3}
HISTORY=${HISTORY:-60}
HOLD=${HOLD:-2}
MAX_OTHER=${MAX_OTHER:-0.15}
RETRIES=${RETRIES:-2}
OUT=${OUT:-$BUILD_DIR/results/idle-history-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# prime_lobby PORT COUNT: one client chooses a nickname, waits for its welcome,
# says COUNT lines, waits until the last comes back (so all are stored), quits
prime_lobby() {
    local port=$1 count=$2 line i
    exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
    printf 'primer\n' >&3
    while IFS= read -r -t 30 line <&3; do [[ $line == *"welcome, primer!"* ]] && break; done
    for ((i = 0; i < count; i++)); do
        printf 'history line %03d of %d, said before anyone else joined\n' "$i" "$count" >&3
    done
    while IFS= read -r -t 30 line <&3; do
        [[ $line == *"history line $(printf %03d $((count - 1))) of $count"* ]] && break
    done
    printf '/quit\n' >&3
    exec 3<&- 3>&-
}

one_try() {
    local srv=$1 n=$2 port dir pid line label hist=0
    port=$(free_port)
    dir=$(mktemp -d /tmp/chatbench.XXXXXX)
    chmod 755 "$dir"
    if ! pid=$(start_server "$srv" "$port" "$dir"); then
        LAST="{\"server\":\"$srv\",\"clients\":$n,\"error\":\"server did not start\"}"
        return
    fi
    if [ "$srv" = "${SERVER_NAME:-custom}" ]; then
        prime_lobby "$port" "$HISTORY" && hist=$HISTORY
    fi
    label="idle-$n"
    [ "$hist" -gt 0 ] && label="idle-$n-history"
    proto_flags "$srv"
    line=$(timeout 400 taskset -c "$GEN_CPU" "$LOADGEN" "${PROTO[@]}" --port "$port" \
        --server-pid "$pid" --label "$label" --clients "$n" --idle "$HOLD" \
        --hs-timeout 60 --join-timeout 10 --connect-max 60 2>"$dir/loadgen.err")
    stop_pid "$pid"
    if [ -z "$line" ]; then
        LAST="{\"label\":\"$label\",\"server\":\"$srv\",\"error\":\"$(tail -1 "$dir/loadgen.err" | tr -d '\"\\\\')\"}"
    else
        LAST="${line%\}},\"server\":\"$srv\",\"history\":$hist}"
    fi
    rm -rf "$dir"
}

for n in $CLIENTS; do
    for srv in $SERVERS; do
        for rep in $(seq 1 "$REPS"); do
            for ((try = 0; try <= RETRIES; try++)); do
                one_try "$srv" "$n"
                other=$(echo "$LAST" | "$PYTHON" "$BENCH/summarize.py" --interference)
                if "$PYTHON" -c "import sys; sys.exit(0 if float('$other') <= $MAX_OTHER else 1)" || [ "$try" -eq "$RETRIES" ]; then
                    break
                fi
                echo "$LAST" >>"$OUT/noisy.jsonl"
                printf '%-8s idle-%-6s the rest of the machine took %s cores; retrying\n' "$srv" "$n" "$other" >&2
                sleep 5
            done
            echo "$LAST" >>"$OUT/raw.jsonl"
            printf '%-8s %s\n' "$srv" "$(echo "$LAST" | "$PYTHON" "$BENCH/summarize.py" --brief)" >&2
        done
    done
done
echo "results in $OUT" >&2
