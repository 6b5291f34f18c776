# Sourced by the scripts here: where the one-node cluster keeps its state, and the client settings that point at it.
# Its own state folder, ports and munge socket, so it does not meet a Slurm or munge the machine may already run.
MLNOTES_SLURM_DIR=${MLNOTES_SLURM_DIR:-/tmp/mlnotes-slurm}
MLNOTES_SLURM_PORT=${MLNOTES_SLURM_PORT:-16817}
export SLURM_CONF="$MLNOTES_SLURM_DIR/slurm.conf"
