// Zoo's PNG and JPEG decoding through libpng and libjpeg(-turbo). Both libraries report errors
// with longjmp; every setjmp and every library call lives in these C functions, so no longjmp
// ever crosses a Swift frame. Each call takes the whole file in memory and parses it afresh.
#ifndef ZOO_IMAGE_H
#define ZOO_IMAGE_H

#include <stddef.h>

/// Results of the calls: success, malformed data, data that ends too early.
#define ZOO_IMAGE_OK 0
#define ZOO_IMAGE_MALFORMED (-1)
#define ZOO_IMAGE_TRUNCATED (-2)

/// What a header says, and the layout the decoder will produce.
typedef struct {
    /// Pixels per row and rows (as stored, before any EXIF orientation).
    int width;
    int height;
    /// Samples per pixel of the decoded pixels: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA (PNG) or CMYK (JPEG).
    int channels;
    /// PNG: the color type as stored (0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA);
    /// JPEG: libjpeg's J_COLOR_SPACE of the file (1 gray, 2 RGB, 3 YCbCr, 4 CMYK, 5 YCCK).
    int color_type;
    /// Bits per sample as stored (PNG 1, 2, 4, 8, 16; JPEG 8). Decoded samples are always 8 bits.
    int bit_depth;
    /// PNG: Adam7 interlaced; JPEG: progressive.
    int interlaced;
    /// JPEG CMYK written by Adobe software: the samples are stored inverted (255 = no ink).
    int inverted_cmyk;
} zoo_image_info;

/// Reads a PNG's header and the layout after Zoo's transforms (palette and tRNS expanded to
/// RGB(A), gray below 8 bits expanded, 16-bit samples reduced to their high byte).
int zoo_png_info(const unsigned char *data, size_t size, zoo_image_info *info, char *message, size_t message_size);

/// Decodes a PNG into `pixels` (height × width × channels bytes, row-major, as `zoo_png_info` says).
int zoo_png_decode(const unsigned char *data, size_t size, unsigned char *pixels, size_t pixels_size,
                   char *message, size_t message_size);

/// Reads a JPEG's header: gray decodes to 1 channel, YCbCr and RGB to 3, CMYK and YCCK to 4 (CMYK).
int zoo_jpeg_info(const unsigned char *data, size_t size, zoo_image_info *info, char *message, size_t message_size);

/// Decodes a JPEG into `pixels` (height × width × channels bytes) with libjpeg's defaults
/// (integer slow DCT, fancy upsampling), as PIL does. A file that ends before its last scan is
/// ZOO_IMAGE_TRUNCATED (libjpeg would pad it with gray and warn).
int zoo_jpeg_decode(const unsigned char *data, size_t size, unsigned char *pixels, size_t pixels_size,
                    char *message, size_t message_size);

#endif
