// The process side of Zoo's libhdf5 helper (ZooFormat/HDF5/Helper): what Swift cannot do
// before `main` or through Glibc's module: a load-time check that turns a re-executed
// process into the helper, memfd_create, hole punching, process_vm_readv and closing the
// descriptors a spawned helper would otherwise inherit.
#ifndef ZOO_HELPER_H
#define ZOO_HELPER_H

#include <stddef.h>
#include <spawn.h>

/// The environment variable that makes a process the libhdf5 helper ("3,4": socket and arena fds).
#define ZOO_HDF5_HELPER_VARIABLE "ZOO_HDF5_HELPER"

/// An anonymous memory file (memfd_create with MFD_CLOEXEC); -1 with errno on failure.
int zoo_memfd(const char *name);

/// Frees the pages of `length` bytes at `offset` of `fd` (fallocate PUNCH_HOLE | KEEP_SIZE).
int zoo_punch_hole(int fd, long long offset, long long length);

/// Copies `count` bytes at `address` in process `pid` (a child) into `destination`
/// (process_vm_readv, looping over partial copies); the bytes copied, or -1 with errno.
long long zoo_copy_from_process(int pid, unsigned long long address, void *destination, long long count);

/// Makes `posix_spawn` close every descriptor from `lowest` up in the child before it runs
/// (glibc's posix_spawn_file_actions_addclosefrom_np): a helper must not inherit the parent's
/// open files — an inherited libhdf5 file keeps its flock lock alive in the helper, and another
/// open of that file then fails with EWOULDBLOCK. Returns 0 or an errno value.
int zoo_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest);

#endif
