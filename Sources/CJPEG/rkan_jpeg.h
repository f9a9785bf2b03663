/* Safe JPEG decode/encode on top of libjpeg(-turbo), header-only so the CJPEG system-library
 * target needs no compiled sources (Swift's Clang importer emits these static inline functions).
 *
 * libjpeg reports fatal errors through error_exit, which must not return: the default one calls
 * exit(). Swift cannot setjmp, so the setjmp/longjmp pair lives here: a broken file makes these
 * functions return nonzero with libjpeg's message, never crash or exit. */
#ifndef RKAN_JPEG_H
#define RKAN_JPEG_H

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <jerror.h>

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    int truncated;
} rkan_jpeg_error_mgr;

static void rkan_jpeg_error_exit(j_common_ptr cinfo) {
    rkan_jpeg_error_mgr *err = (rkan_jpeg_error_mgr *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, err->message);
    longjmp(err->jump, 1);
}

/* Warnings do not stop libjpeg (after "Premature end of JPEG file" it pads with grey): count
 * them, keep the first message, and flag a premature end, which the decoder reports as an error
 * as PIL does ("image file is truncated"). Trace messages (level > 0) are ignored. */
static void rkan_jpeg_emit_message(j_common_ptr cinfo, int level) {
    rkan_jpeg_error_mgr *err = (rkan_jpeg_error_mgr *)cinfo->err;
    if (level >= 0) return;
    if (err->pub.num_warnings == 0) (*cinfo->err->format_message)(cinfo, err->message);
    if (err->pub.msg_code == JWRN_JPEG_EOF) {
        err->truncated = 1;
        (*cinfo->err->format_message)(cinfo, err->message);
    }
    err->pub.num_warnings++;
}

static inline void rkan_jpeg_install(rkan_jpeg_error_mgr *err) {
    jpeg_std_error(&err->pub);
    err->pub.error_exit = rkan_jpeg_error_exit;
    err->pub.emit_message = rkan_jpeg_emit_message;
    err->message[0] = 0;
    err->truncated = 0;
}

/* The most pixels one byte of a JPEG can describe, generously: a baseline scan spends at least 2
 * bits per 8x8 block and component, and progressive end-of-band runs far less, but no real
 * photograph comes near this ratio; beyond it (plus 1 Mpx for tiny files) the header lies. */
#define RKAN_JPEG_MAX_PIXELS_PER_BYTE 4096ull

/* Decodes a JPEG held in memory to 8-bit RGB, HWC.
 * min_width, min_height: if > 0, the largest DCT scaling 1/2, 1/4 or 1/8 is used that keeps the
 *   output at least this large (decoding a 500 px photo for a 64 px target reads 1/8 of it).
 * pixels: receives a malloc'ed (height, width, 3) buffer, to free() (NULL on failure).
 * width, height: output size. color_space: the file's J_COLOR_SPACE. warnings: libjpeg warnings.
 * message: receives libjpeg's error text (JMSG_LENGTH_MAX bytes).
 * max_pixels: the most pixels accepted (width and height receive the header's size when refused).
 * Returns 0 on success, 1 on a libjpeg error, 2 when out of memory, 3 on an unsupported layout,
 * 4 when the data ends before the image does (pixels are then freed too), 5 when the header's
 * size exceeds max_pixels or what `size` bytes can hold. */
static inline int rkan_jpeg_decode(const unsigned char *data, unsigned long size, int min_width, int min_height,
                                   unsigned long long max_pixels,
                                   unsigned char **pixels, int *width, int *height, int *color_space,
                                   long *warnings, char *message) {
    struct jpeg_decompress_struct cinfo;
    rkan_jpeg_error_mgr err;
    unsigned char *volatile out = NULL;
    unsigned char *volatile row = NULL;
    *pixels = NULL;
    message[0] = 0;
    rkan_jpeg_install(&err);
    cinfo.err = &err.pub;
    if (setjmp(err.jump)) {
        strncpy(message, err.message, JMSG_LENGTH_MAX - 1);
        message[JMSG_LENGTH_MAX - 1] = 0;
        jpeg_destroy_decompress(&cinfo);
        free(out);
        free(row);
        return 1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, size);
    jpeg_read_header(&cinfo, TRUE);
    *color_space = (int)cinfo.jpeg_color_space;
    /* The header's size is believed only up to max_pixels and what the data can hold: a
     * 65500x65500 header over a few bytes would otherwise be decoded to grey filler. */
    *width = (int)cinfo.image_width;
    *height = (int)cinfo.image_height;
    if ((unsigned long long)cinfo.image_width * cinfo.image_height > max_pixels
        || (unsigned long long)cinfo.image_width * cinfo.image_height > (unsigned long long)size * RKAN_JPEG_MAX_PIXELS_PER_BYTE + (1ull << 20)) {
        jpeg_destroy_decompress(&cinfo);
        return 5;
    }
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    cinfo.scale_num = 1;
    cinfo.scale_denom = 1;
    if (min_width > 0 && min_height > 0) {
        for (int d = 8; d > 1; d /= 2) {
            if ((int)((cinfo.image_width + d - 1) / d) >= min_width && (int)((cinfo.image_height + d - 1) / d) >= min_height) {
                cinfo.scale_denom = d;
                break;
            }
        }
    }
    jpeg_start_decompress(&cinfo);
    int w = (int)cinfo.output_width, h = (int)cinfo.output_height, n = cinfo.output_components;
    if ((cmyk && n != 4) || (!cmyk && n != 3)) {
        strcpy(message, cmyk ? "CMYK output without 4 components" : "RGB output without 3 components");
        jpeg_destroy_decompress(&cinfo);
        return 3;
    }
    out = (unsigned char *)malloc((size_t)w * h * 3);
    row = (unsigned char *)malloc((size_t)w * n);
    if (!out || !row) {
        strcpy(message, "out of memory");
        jpeg_destroy_decompress(&cinfo);
        free(out);
        free(row);
        return 2;
    }
    int inverted = cinfo.saw_Adobe_marker;   /* Adobe (Photoshop) CMYK is stored inverted */
    while ((int)cinfo.output_scanline < h) {
        unsigned char *dst = out + (size_t)cinfo.output_scanline * w * 3;
        JSAMPROW rows[1] = { cmyk ? row : dst };
        jpeg_read_scanlines(&cinfo, rows, 1);
        if (cmyk) {
            for (int x = 0; x < w; x++) {
                int c = row[4 * x], m = row[4 * x + 1], y = row[4 * x + 2], k = row[4 * x + 3];
                if (!inverted) { c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k; }
                dst[3 * x] = (unsigned char)((c * k + 127) / 255);
                dst[3 * x + 1] = (unsigned char)((m * k + 127) / 255);
                dst[3 * x + 2] = (unsigned char)((y * k + 127) / 255);
            }
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    *warnings = err.pub.num_warnings;
    if (err.pub.num_warnings) { strncpy(message, err.message, JMSG_LENGTH_MAX - 1); message[JMSG_LENGTH_MAX - 1] = 0; }
    if (err.truncated) {
        free(out);
        return 4;
    }
    *pixels = out;
    *width = w;
    *height = h;
    return 0;
}

/* Encodes 8-bit pixels (HWC; components 1 = grey, 3 = RGB, 4 = CMYK written with an Adobe marker)
 * to a malloc'ed JPEG in *jpeg (free() it). For tests and fixtures. Returns 0 on success. */
static inline int rkan_jpeg_encode(const unsigned char *pixels, int width, int height, int components, int quality,
                                   unsigned char **jpeg, unsigned long *size, char *message) {
    struct jpeg_compress_struct cinfo;
    rkan_jpeg_error_mgr err;
    *jpeg = NULL;
    *size = 0;
    rkan_jpeg_install(&err);
    cinfo.err = &err.pub;
    if (setjmp(err.jump)) {
        strncpy(message, err.message, JMSG_LENGTH_MAX - 1);
        message[JMSG_LENGTH_MAX - 1] = 0;
        jpeg_destroy_compress(&cinfo);
        free(*jpeg);
        *jpeg = NULL;
        return 1;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, jpeg, size);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = components;
    cinfo.in_color_space = components == 1 ? JCS_GRAYSCALE : components == 4 ? JCS_CMYK : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW rows[1] = { (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * width * components) };
        jpeg_write_scanlines(&cinfo, rows, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    return 0;
}

#endif
