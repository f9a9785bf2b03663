#ifndef RKAN_CBLAS_SHIM_H
#define RKAN_CBLAS_SHIM_H
#include <cblas.h>
/* openblas_set_num_threads, openblas_get_num_threads and openblas_get_corename
   are declared by OpenBLAS's cblas.h. */
#endif
