# Sourced by tests/e2e/mpi*.sh after tests/e2e/lib/check.sh: skips the test,
# saying why, when mpirun is missing or this churnlab was built without MPI; otherwise sets up
# Open MPI for a test run and defines MPIRUN.
if ! command -v mpirun >/dev/null 2>&1; then
    echo "skip: mpirun not found (apt-get install openmpi-bin libopenmpi-dev, then make)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
if [ "$("$CL" -e 'io.write(tostring(require("churnlab").mpi.built))')" != true ]; then
    echo "skip: this churnlab was built without MPI (make MPI=1 with libopenmpi-dev installed)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
# root (CI, containers) needs Open MPI's consent; 3 ranks on fewer cores need oversubscribe;
# loopback only; the sanitizer builds do not judge Open MPI's own allocations
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
MPIRUN="mpirun --oversubscribe"
