#!/usr/bin/env bash
# Installs the Debian packages Zoo builds against, when they are missing.
# Needs root (or sudo) only if something is missing.
set -euo pipefail

# dataset-fashion-mnist: Fashion-MNIST under /usr/share/datasets/fashion-mnist (the demo and some tests).
packages=(pkg-config zlib1g-dev libdeflate-dev libhdf5-dev libdnnl-dev libopenblas-dev dataset-fashion-mnist)
# libpng and libjpeg(-turbo): the image decoders (zoo predict on pictures, image folders).
packages+=(libpng-dev libjpeg62-turbo-dev)
# libhdf5 filter plugins (h5py's LZF; LZ4 and bzip2; Blosc), loaded by Zoo from their directory;
# liblzf1 because Debian's LZF plugin does not link the library it needs (Zoo preloads it).
packages+=(hdf5-plugin-lzf liblzf1 hdf5-filter-plugin hdf5-filter-plugin-blosc-serial)

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: run as root or install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
