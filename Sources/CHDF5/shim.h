#ifndef RKAN_CHDF5_SHIM_H
#define RKAN_CHDF5_SHIM_H
#include <hdf5.h>
#include <stdio.h>
/* HDF5 exposes these as macros over globals that need H5open(); Swift cannot import them. */
static inline hid_t rk_H5P_DEFAULT(void) { return H5P_DEFAULT; }
static inline hid_t rk_H5S_ALL(void) { return H5S_ALL; }
static inline hid_t rk_H5T_NATIVE_FLOAT(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t rk_H5T_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t rk_H5T_NATIVE_INT64(void) { return H5T_NATIVE_INT64; }
static inline hid_t rk_H5T_NATIVE_UINT8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t rk_H5T_C_S1(void) { return H5T_C_S1; }
static inline hid_t rk_H5P_FILE_CREATE(void) { return H5P_FILE_CREATE; }
static inline hid_t rk_H5P_FILE_ACCESS(void) { return H5P_FILE_ACCESS; }
static inline hid_t rk_H5P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
static inline hid_t rk_H5P_GROUP_CREATE(void) { return H5P_GROUP_CREATE; }
static inline hid_t rk_H5P_OBJECT_CREATE(void) { return H5P_OBJECT_CREATE; }
static inline unsigned rk_H5F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }
static inline unsigned rk_H5F_ACC_EXCL(void) { return H5F_ACC_EXCL; }
static inline unsigned rk_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned rk_H5F_ACC_RDWR(void) { return H5F_ACC_RDWR; }
static inline hid_t rk_H5T_NATIVE_UINT64(void) { return H5T_NATIVE_UINT64; }
/* Little-endian file types, so a run file's bytes do not depend on the writing machine. */
static inline hid_t rk_H5T_IEEE_F32LE(void) { return H5T_IEEE_F32LE; }
static inline hid_t rk_H5T_IEEE_F64LE(void) { return H5T_IEEE_F64LE; }
static inline hid_t rk_H5T_STD_I64LE(void) { return H5T_STD_I64LE; }
static inline hid_t rk_H5T_STD_U64LE(void) { return H5T_STD_U64LE; }
static inline hid_t rk_H5T_STD_U8LE(void) { return H5T_STD_U8LE; }
static inline size_t rk_H5T_VARIABLE(void) { return H5T_VARIABLE; }
static inline hid_t rk_H5E_DEFAULT(void) { return H5E_DEFAULT; }
static inline hid_t rk_H5P_LINK_CREATE(void) { return H5P_LINK_CREATE; }
static inline hid_t rk_H5P_DATASET_XFER(void) { return H5P_DATASET_XFER; }
static inline unsigned rk_H5P_CRT_ORDER_TRACKED(void) { return H5P_CRT_ORDER_TRACKED; }
static inline unsigned rk_H5P_CRT_ORDER_INDEXED(void) { return H5P_CRT_ORDER_INDEXED; }

/* Turns off HDF5's automatic printing of error stacks to stderr (errors become Swift throws). */
static inline herr_t rk_H5E_silence(void) { return H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

typedef struct { char *buf; size_t len; int seen; } rk_error_sink;

static inline herr_t rk_error_walk(unsigned n, const H5E_error2_t *err, void *data) {
    rk_error_sink *sink = (rk_error_sink *)data;
    (void)n;
    if (sink->seen == 0 && err->desc != NULL && err->desc[0] != 0) {
        snprintf(sink->buf, sink->len, "%s: %s", err->func_name ? err->func_name : "?", err->desc);
        sink->seen = 1;
    }
    return 0;
}

/* Writes the innermost message of the current thread's error stack ("func: description")
   into buf (empty when the stack is empty), then clears the stack. */
static inline void rk_H5E_last_message(char *buf, size_t len) {
    rk_error_sink sink = { buf, len, 0 };
    if (len > 0) buf[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, rk_error_walk, &sink);
    H5Eclear2(H5E_DEFAULT);
}
#endif
