#!/bin/bash -eu
# ClusterFuzzLite build script: the OSS-Fuzz one, from the copied tree (see
# ci/oss-fuzz/build.sh for what it puts into $OUT). ClusterFuzzLite builds
# with libFuzzer only, for the sanitizers the workflows ask for (address,
# undefined, coverage; it rejects thread).
exec bash -eu "$SRC/mcfuzz/ci/oss-fuzz/build.sh"
