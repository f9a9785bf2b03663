#ifndef RKAN_CHDF5_SHIM_H
#define RKAN_CHDF5_SHIM_H
#include <hdf5.h>
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
#endif
