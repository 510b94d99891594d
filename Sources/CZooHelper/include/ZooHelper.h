// The process side of Zoo's libhdf5 helper (ZooFormat/HDF5/Helper): what Swift cannot do
// before `main` or through Glibc's module: a load-time check that turns a re-executed
// process into the helper, memfd_create, hole punching and process_vm_readv.
#ifndef ZOO_HELPER_H
#define ZOO_HELPER_H

#include <stddef.h>

/// The environment variable that makes a process the libhdf5 helper ("3,4": socket and arena fds).
#define ZOO_HDF5_HELPER_VARIABLE "ZOO_HDF5_HELPER"

/// An anonymous memory file (memfd_create with MFD_CLOEXEC); -1 with errno on failure.
int zoo_memfd(const char *name);

/// Frees the pages of `length` bytes at `offset` of `fd` (fallocate PUNCH_HOLE | KEEP_SIZE).
int zoo_punch_hole(int fd, long long offset, long long length);

/// Copies `count` bytes at `address` in process `pid` (a child) into `destination`
/// (process_vm_readv, looping over partial copies); the bytes copied, or -1 with errno.
long long zoo_copy_from_process(int pid, unsigned long long address, void *destination, long long count);

#endif
