// Heap-allocation counting for benchmarks: the binary that links alloc_counter.cc replaces global
// operator new, and every allocation on a thread bumps that thread's counter.
#pragma once

#include <cstdint>

namespace wojak {

// Allocations made by the calling thread since it started (operator new in all its forms).
int64_t ThreadAllocationCount();

}  // namespace wojak
