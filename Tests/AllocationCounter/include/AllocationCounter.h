// Counts the calls to malloc and its kin made on the calling thread (allocation_counter.c).
#pragma once

/// Calls to malloc, calloc, realloc, aligned_alloc, memalign and posix_memalign made on this
/// thread since it started.
long allocation_count(void);
