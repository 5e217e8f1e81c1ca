# velero.sh: the Velero simulator (sandbox/velero/velero) for tests and the
# sandbox. Source it (bash); it needs QRH_SRC (the repository root) and
# Debian's /usr/bin/python3 (not a pyenv shim: each command starts Python,
# and a shim makes that slow). Nothing runs in the background: the simulator computes a
# restore's progress from the wall clock whenever a command runs, so there
# is no server to start or stop, only a state directory.
#
#   VELERO_SIM                     the simulator's path
#   velero_sim_available           0 when python3 can run it
#   velero_sim_init DIR [SEED]     a fresh state directory, seeded from SEED
#                                  (default sandbox/velero/seed.json); exports
#                                  VELERO_SIM_DIR=DIR
#   velero_sim_backup PREFIX       prints the newest Completed backup whose
#                                  name starts with PREFIX
#   velero_sim_phase NAME          prints the phase of restore NAME
#   velero_sim_wait_phase NAME PHASE [SECONDS]
#                                  waits (default 60 s) until restore NAME is
#                                  in PHASE; 1 if it never is
#   velero_sim_exists NAME         0 when restore NAME exists
#   velero_sim_clock SECONDS       freezes the simulator's clock at SECONDS
#                                  since the epoch (decimals allowed): a test
#                                  steps a restore through its phases
#                                  instead of racing the wall clock
#   velero_sim_clock_real          back to the wall clock
#
# Restores take VELERO_SIM_DURATION seconds (default 30: set it to a few
# seconds in tests) and end in VELERO_SIM_OUTCOME (default Completed).

VELERO_SIM=${QRH_SRC:?QRH_SRC must name the repository root}/sandbox/velero/velero

velero_sim_available() {
	[ -x /usr/bin/python3 ] && [ -x "$VELERO_SIM" ]
}

velero_sim_init() {
	local dir=$1 seed=${2:-}
	rm -rf "$dir"
	mkdir -p "$dir"
	export VELERO_SIM_DIR=$dir
	if [ -n "$seed" ]; then
		VELERO_SIM_SEED=$seed "$VELERO_SIM" backup get >/dev/null 2>&1
	else
		"$VELERO_SIM" backup get >/dev/null 2>&1
	fi
}

velero_sim_backup() {
	"$VELERO_SIM" backup get -o json 2>/dev/null | /usr/bin/python3 -S -c '
import json, sys
doc = json.load(sys.stdin)
items = doc.get("items") or [] if doc.get("kind", "").endswith("List") else [doc]
ok = [b for b in items if b["metadata"]["name"].startswith(sys.argv[1])
      and b["status"].get("phase") == "Completed" and "deletionTimestamp" not in b["metadata"]]
ok.sort(key=lambda b: b["metadata"]["creationTimestamp"], reverse=True)
print(ok[0]["metadata"]["name"] if ok else "")' "$1"
}

velero_sim_phase() {
	"$VELERO_SIM" restore get "$1" -o json 2>/dev/null |
		/usr/bin/python3 -S -c 'import json, sys; print(json.load(sys.stdin)["status"].get("phase", ""))'
}

velero_sim_wait_phase() {
	local name=$1 want=$2 secs=${3:-60} i
	for ((i = 0; i < secs * 5; i++)); do
		[ "$(velero_sim_phase "$name")" = "$want" ] && return 0
		sleep 0.2
	done
	return 1
}

velero_sim_exists() {
	"$VELERO_SIM" restore get "$1" -o json >/dev/null 2>&1
}

velero_sim_clock() {
	printf '%s\n' "$1" >"$VELERO_SIM_DIR/clock.tmp" && mv -f "$VELERO_SIM_DIR/clock.tmp" "$VELERO_SIM_DIR/clock"
}

velero_sim_clock_real() {
	rm -f "$VELERO_SIM_DIR/clock"
}
