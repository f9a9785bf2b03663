#ifndef RKAN_CJPEG_SHIM_H
#define RKAN_CJPEG_SHIM_H
#include <stdio.h>
#include <stddef.h>
#include <jpeglib.h>
#include "rkan_jpeg.h"
#endif
