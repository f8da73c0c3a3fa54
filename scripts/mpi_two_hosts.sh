#!/usr/bin/env bash
# Two "hosts" on one machine: two network namespaces joined by a bridge, with mpirun starting one
# train_cifar process in each (through `ip netns exec` instead of ssh) and MPI talking TCP between
# them, as it would between two machines. The run must end with the very checkpoint two processes
# on one host write. The bridge and mpirun live in a third namespace of their own: the machine's
# own network is not touched, and a killed run leaves at most three namespaces named gn*PID.
#
#   scripts/mpi_two_hosts.sh [BUILD_DIR]      (default build; needs root, iproute2 and unshare)
#
# Exit status 0: the same checkpoint; 1: a difference or a failed run; 77: this sandbox cannot make
# network namespaces (not root, or no permission), nothing was tested.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
[[ $(id -u) -eq 0 ]] && command -v ip > /dev/null && command -v unshare > /dev/null || {
  echo "mpi_two_hosts.sh: needs root, ip (iproute2) and unshare" >&2; exit 77; }
[[ -x $build/train_cifar ]] || { echo "mpi_two_hosts.sh: $build/train_cifar is not built" >&2; exit 1; }
command -v mpirun > /dev/null || { echo "mpi_two_hosts.sh: no mpirun" >&2; exit 77; }

id=$$ work=$(mktemp -d)
hub=gnh$id bridge=gb$id a=gna$id b=gnb$id
subnet=10.$((id % 200 + 20)).$((id / 200 % 250)).
cleanup() {
  for ns in "$a" "$b" "$hub"; do ip netns del "$ns" 2> /dev/null || true; done  # with their devices
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$hub" 2> /dev/null || { echo "mpi_two_hosts.sh: cannot make network namespaces here" >&2; exit 77; }
ip -n "$hub" link add "$bridge" type bridge 2> /dev/null ||
  { echo "mpi_two_hosts.sh: cannot make network devices here" >&2; exit 77; }
ip -n "$hub" addr add "${subnet}1/24" dev "$bridge"
ip -n "$hub" link set "$bridge" up
ip -n "$hub" link set lo up
host=2
for ns in "$a" "$b"; do
  ip netns add "$ns"
  ip -n "$hub" link add "v$ns" type veth peer name "p$ns"
  ip -n "$hub" link set "p$ns" netns "$ns"
  ip -n "$hub" link set "v$ns" master "$bridge"
  ip -n "$hub" link set "v$ns" up
  ip netns exec "$ns" ip addr add "${subnet}$host/24" dev "p$ns"
  ip netns exec "$ns" ip link set "p$ns" up
  ip netns exec "$ns" ip link set lo up
  host=$((host + 1))
done

# mpirun's "ssh": HOST COMMAND... -> the command inside HOST's namespace, with its own hostname
cat > "$work/netns_rsh" << AGENT
#!/bin/sh
case "\$1" in ${subnet}2) ns=$a ;; ${subnet}3) ns=$b ;; *) echo "netns_rsh: unknown host \$1" >&2; exit 1 ;; esac
shift
exec ip netns exec "\$ns" unshare --uts sh -c "hostname \$ns; \$*"
AGENT
chmod +x "$work/netns_rsh"

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
run="$build/train_cifar --data data/sample/cifar10 --batch 16 --max-steps 4 --threads 1 --quiet"
ip netns exec "$hub" mpirun -np 2 --host "${subnet}2:1,${subnet}3:1" --mca plm_rsh_agent "$work/netns_rsh" --mca btl tcp,self \
  --mca btl_tcp_if_include "${subnet}0/24" --mca oob_tcp_if_include "${subnet}0/24" \
  $run --save "$work/two_hosts.ckpt" > "$work/two_hosts.log" 2>&1 || { cat "$work/two_hosts.log" >&2; exit 1; }
mpirun -np 2 --oversubscribe $run --save "$work/one_host.ckpt" > "$work/one_host.log" 2>&1 ||
  { cat "$work/one_host.log" >&2; exit 1; }
if cmp -s "$work/two_hosts.ckpt" "$work/one_host.ckpt"; then
  echo "mpi_two_hosts.sh: two hosts over TCP wrote the checkpoint two processes on one host write"
else
  echo "mpi_two_hosts.sh: the checkpoints differ" >&2
  exit 1
fi
