#ifndef RKAN_CZLIB_SHIM_H
#define RKAN_CZLIB_SHIM_H
#include <zlib.h>
#endif
