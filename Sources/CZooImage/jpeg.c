// JPEG through libjpeg(-turbo), errors caught with setjmp inside each call (see ZooImage.h).
#include "ZooImage.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

/// libjpeg's error manager, extended with where to jump and what went wrong.
typedef struct {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
    int status;
    char *message;
    size_t message_size;
} jpeg_failure;

static void jpeg_failure_exit(j_common_ptr info) {
    jpeg_failure *failure = (jpeg_failure *)info->err;
    char text[JMSG_LENGTH_MAX];
    (*info->err->format_message)(info, text);
    failure->status = ZOO_IMAGE_MALFORMED;
    snprintf(failure->message, failure->message_size, "libjpeg: %s", text);
    longjmp(failure->jump, 1);
}

/// Warnings are ignored (as PIL does), except the end of the data before the image's end: libjpeg
/// would fill the rest with gray; PIL refuses such a file ("image file is truncated"), so does Zoo.
static void jpeg_failure_message(j_common_ptr info, int level) {
    jpeg_failure *failure = (jpeg_failure *)info->err;
    if (level == -1 && info->err->msg_code == JWRN_JPEG_EOF) {
        failure->status = ZOO_IMAGE_TRUNCATED;
        snprintf(failure->message, failure->message_size, "the file ends before its image data does");
        longjmp(failure->jump, 1);
    }
}

static void jpeg_failure_output(j_common_ptr info) {
    (void)info;
}

/// Runs the header (and with `pixels`, the image) of one JPEG; libjpeg's longjmp lands here.
static int jpeg_run(const unsigned char *data, size_t size, zoo_image_info *info, unsigned char *pixels, size_t pixels_size,
                    char *message, size_t message_size) {
    struct jpeg_decompress_struct decoder;
    jpeg_failure failure;
    if (message_size > 0) message[0] = 0;
    memset(&decoder, 0, sizeof decoder);
    decoder.err = jpeg_std_error(&failure.manager);
    failure.manager.error_exit = jpeg_failure_exit;
    failure.manager.emit_message = jpeg_failure_message;
    failure.manager.output_message = jpeg_failure_output;
    failure.status = ZOO_IMAGE_OK;
    failure.message = message;
    failure.message_size = message_size;
    if (size < 3 || data[0] != 0xFF || data[1] != 0xD8 || data[2] != 0xFF) {
        snprintf(message, message_size, "not a JPEG start of image");
        return ZOO_IMAGE_MALFORMED;
    }
    if (setjmp(failure.jump)) {
        jpeg_destroy_decompress(&decoder);
        return failure.status == ZOO_IMAGE_OK ? ZOO_IMAGE_MALFORMED : failure.status;
    }
    jpeg_create_decompress(&decoder);
    jpeg_mem_src(&decoder, data, (unsigned long)size);
    jpeg_read_header(&decoder, TRUE);
    info->width = (int)decoder.image_width;
    info->height = (int)decoder.image_height;
    info->color_type = decoder.jpeg_color_space;
    info->bit_depth = decoder.data_precision;
    info->interlaced = jpeg_has_multiple_scans(&decoder);
    info->inverted_cmyk = decoder.saw_Adobe_marker;
    switch (decoder.jpeg_color_space) {
    case JCS_GRAYSCALE:
        decoder.out_color_space = JCS_GRAYSCALE;
        info->channels = 1;
        break;
    case JCS_CMYK:
    case JCS_YCCK:
        decoder.out_color_space = JCS_CMYK;
        info->channels = 4;
        break;
    default:
        decoder.out_color_space = JCS_RGB;
        info->channels = 3;
        break;
    }
    if (pixels) {
        jpeg_start_decompress(&decoder);
        size_t row_bytes = (size_t)decoder.output_width * (size_t)decoder.output_components;
        if (decoder.output_components != info->channels || decoder.output_width != decoder.image_width
            || decoder.output_height != decoder.image_height || pixels_size != row_bytes * decoder.output_height) {
            snprintf(message, message_size, "the decoded layout differs from the one the header announced");
            jpeg_destroy_decompress(&decoder);
            return ZOO_IMAGE_MALFORMED;
        }
        while (decoder.output_scanline < decoder.output_height) {
            JSAMPROW row = pixels + (size_t)decoder.output_scanline * row_bytes;
            jpeg_read_scanlines(&decoder, &row, 1);
        }
        jpeg_finish_decompress(&decoder);
    }
    jpeg_destroy_decompress(&decoder);
    return ZOO_IMAGE_OK;
}

int zoo_jpeg_info(const unsigned char *data, size_t size, zoo_image_info *info, char *message, size_t message_size) {
    return jpeg_run(data, size, info, NULL, 0, message, message_size);
}

int zoo_jpeg_decode(const unsigned char *data, size_t size, unsigned char *pixels, size_t pixels_size,
                    char *message, size_t message_size) {
    zoo_image_info info;
    if (!pixels) {
        snprintf(message, message_size, "no pixel buffer");
        return ZOO_IMAGE_MALFORMED;
    }
    return jpeg_run(data, size, &info, pixels, pixels_size, message, message_size);
}
