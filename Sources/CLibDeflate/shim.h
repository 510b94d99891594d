// libdeflate: whole-buffer DEFLATE / zlib decompression and CRC-32 (Debian: libdeflate-dev).
#include <libdeflate.h>
