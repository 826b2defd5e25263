# Installs Docker from the distribution's packages. Constant: nothing is interpolated.
set -u
export DEBIAN_FRONTEND=noninteractive
for attempt in 1 2 3; do
    if apt-get -o Acquire::Retries=3 -o DPkg::Lock::Timeout=300 update &&
        apt-get -o Acquire::Retries=3 -o DPkg::Lock::Timeout=300 install -y docker.io; then
        exit 0
    fi
    echo "sam: installing docker.io failed (attempt $attempt of 3)" >&2
    sleep 10
done
exit 1
