#define _GNU_SOURCE
#include "ZooHelper.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <errno.h>
#include <unistd.h>

int zoo_memfd(const char *name) { return memfd_create(name, MFD_CLOEXEC); }

int zoo_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}

int zoo_punch_hole(int fd, long long offset, long long length) {
    return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);
}

long long zoo_copy_from_process(int pid, unsigned long long address, void *destination, long long count) {
    long long done = 0;
    while (done < count) {
        struct iovec local = { (char *)destination + done, (size_t)(count - done) };
        struct iovec remote = { (void *)(address + (unsigned long long)done), (size_t)(count - done) };
        ssize_t got = process_vm_readv(pid, &local, 1, &remote, 1, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return done > 0 ? done : -1;
        done += got;
    }
    return done;
}

/// Defined by ZooFormat (Swift, @_cdecl): serves libhdf5 requests until the parent closes
/// the socket, then exits. Weak, so this file links without it.
extern void zoo_hdf5_helper_main(void) __attribute__((weak));

/// Runs before `main` in every process that links ZooFormat (the zoo CLI, a test runner, a
/// library user's program): when re-executed as the helper (the variable set by the parent),
/// the process becomes the helper and never reaches its own `main`.
__attribute__((constructor)) static void zoo_helper_entry(void) {
    if (getenv(ZOO_HDF5_HELPER_VARIABLE) && zoo_hdf5_helper_main) {
        zoo_hdf5_helper_main();
        _exit(0);
    }
}
