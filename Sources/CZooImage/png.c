// PNG through libpng, errors caught with setjmp inside each call (see ZooImage.h).
#include "ZooImage.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

/// The file in memory, read in order by libpng, and where an error's message goes.
typedef struct {
    const unsigned char *data;
    size_t size;
    size_t position;
    int status;
    char *message;
    size_t message_size;
} png_source;

static void png_source_read(png_structp png, png_bytep out, size_t count) {
    png_source *source = (png_source *)png_get_io_ptr(png);
    if (count > source->size - source->position) {
        source->status = ZOO_IMAGE_TRUNCATED;
        snprintf(source->message, source->message_size, "the file ends at byte %zu, inside a chunk that needs %zu more bytes",
                 source->size, count - (source->size - source->position));
        png_longjmp(png, 1);
    }
    memcpy(out, source->data + source->position, count);
    source->position += count;
}

static void png_source_error(png_structp png, png_const_charp text) {
    png_source *source = (png_source *)png_get_error_ptr(png);
    source->status = ZOO_IMAGE_MALFORMED;
    snprintf(source->message, source->message_size, "libpng: %s", text);
    png_longjmp(png, 1);
}

static void png_source_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;
}

/// Sets the transforms to 8-bit gray, gray+alpha, RGB or RGBA, then fills `info`; the number
/// of passes over the rows (7 for Adam7, else 1).
static int png_prepare(png_structp png, png_infop png_info, zoo_image_info *info) {
    png_read_info(png, png_info);
    int color_type = png_get_color_type(png, png_info);
    int bit_depth = png_get_bit_depth(png, png_info);
    info->width = (int)png_get_image_width(png, png_info);
    info->height = (int)png_get_image_height(png, png_info);
    info->color_type = color_type;
    info->bit_depth = bit_depth;
    info->interlaced = png_get_interlace_type(png, png_info) != PNG_INTERLACE_NONE;
    info->inverted_cmyk = 0;
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, png_info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (bit_depth == 16) png_set_strip_16(png);
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, png_info);
    info->channels = png_get_channels(png, png_info);
    return passes;
}

/// Runs the header (and with `pixels`, the image) of one PNG; libpng's longjmp lands here.
static int png_run(const unsigned char *data, size_t size, zoo_image_info *info, unsigned char *pixels, size_t pixels_size,
                   char *message, size_t message_size) {
    png_source source = {data, size, 0, ZOO_IMAGE_OK, message, message_size};
    if (message_size > 0) message[0] = 0;
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        snprintf(message, message_size, "not a PNG signature");
        return ZOO_IMAGE_MALFORMED;
    }
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &source, png_source_error, png_source_warning);
    if (!png) {
        snprintf(message, message_size, "libpng could not allocate its decoder");
        return ZOO_IMAGE_MALFORMED;
    }
    png_infop png_info = png_create_info_struct(png);
    if (!png_info) {
        png_destroy_read_struct(&png, NULL, NULL);
        snprintf(message, message_size, "libpng could not allocate its decoder");
        return ZOO_IMAGE_MALFORMED;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &png_info, NULL);
        return source.status == ZOO_IMAGE_OK ? ZOO_IMAGE_MALFORMED : source.status;
    }
    png_set_read_fn(png, &source, png_source_read);
    // Zoo bounds the pixel count itself (before allocating); libpng's own limit stays as a backstop.
    int passes = png_prepare(png, png_info, info);
    if (pixels) {
        size_t row_bytes = png_get_rowbytes(png, png_info);
        if (row_bytes != (size_t)info->width * (size_t)info->channels
            || pixels_size != row_bytes * (size_t)info->height) {
            png_error(png, "the decoded layout differs from the one the header announced");
        }
        for (int pass = 0; pass < passes; pass++) {
            for (int y = 0; y < info->height; y++) png_read_row(png, pixels + (size_t)y * row_bytes, NULL);
        }
        // The rest of the image data and the chunks after it, to IEND: a file cut short is truncated
        // even when its rows decoded (the zlib checksum and IEND missing).
        png_read_end(png, NULL);
    }
    png_destroy_read_struct(&png, &png_info, NULL);
    return ZOO_IMAGE_OK;
}

int zoo_png_info(const unsigned char *data, size_t size, zoo_image_info *info, char *message, size_t message_size) {
    return png_run(data, size, info, NULL, 0, message, message_size);
}

int zoo_png_decode(const unsigned char *data, size_t size, unsigned char *pixels, size_t pixels_size,
                   char *message, size_t message_size) {
    zoo_image_info info;
    if (!pixels) {
        snprintf(message, message_size, "no pixel buffer");
        return ZOO_IMAGE_MALFORMED;
    }
    return png_run(data, size, &info, pixels, pixels_size, message, message_size);
}
