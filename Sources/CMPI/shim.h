#ifndef RKAN_CMPI_SHIM_H
#define RKAN_CMPI_SHIM_H
#include <mpi.h>
#include <stdint.h>
/* Open MPI's handles (MPI_COMM_WORLD, MPI_BYTE, MPI_ERRORS_RETURN) are macros over globals that
   Swift cannot import; these wrappers are the whole MPI surface rkan-repro uses, all on
   MPI_COMM_WORLD, all returning MPI error codes (errors return instead of aborting, so the caller
   can say what failed before the job ends). */

/* MPI_Init_thread with MPI_THREAD_FUNNELED (only the main thread calls MPI); sets rank and size. */
static inline int rk_mpi_init(int *rank, int *size) {
    int provided = 0, rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) return rc;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    rc = MPI_Comm_rank(MPI_COMM_WORLD, rank);
    if (rc != MPI_SUCCESS) return rc;
    return MPI_Comm_size(MPI_COMM_WORLD, size);
}

static inline int rk_mpi_is_initialized(void) { int f = 0; MPI_Initialized(&f); return f; }

/* Sends and receives `bytes` bytes with `partner`, in pieces of at most 1 GiB (int counts). */
static inline int rk_mpi_exchange(const void *send, void *recv, int64_t bytes, int partner) {
    const int64_t piece = (int64_t)1 << 30;
    for (int64_t off = 0; off < bytes; off += piece) {
        int n = (int)(bytes - off < piece ? bytes - off : piece);
        int rc = MPI_Sendrecv((const char *)send + off, n, MPI_BYTE, partner, 7,
                              (char *)recv + off, n, MPI_BYTE, partner, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS) return rc;
    }
    return MPI_SUCCESS;
}

static inline int rk_mpi_broadcast(void *buf, int64_t bytes, int root) {
    const int64_t piece = (int64_t)1 << 30;
    for (int64_t off = 0; off < bytes; off += piece) {
        int n = (int)(bytes - off < piece ? bytes - off : piece);
        int rc = MPI_Bcast((char *)buf + off, n, MPI_BYTE, root, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return rc;
    }
    return MPI_SUCCESS;
}

static inline int rk_mpi_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static inline int rk_mpi_finalize(void) { return MPI_Finalize(); }
static inline void rk_mpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

/* The text of an MPI error code into buf (len bytes). */
static inline void rk_mpi_error_string(int code, char *buf, int len) {
    int n = 0;
    if (MPI_Error_string(code, buf, &n) != MPI_SUCCESS || n >= len) buf[0] = 0; else buf[n] = 0;
}
#endif
