// Global operator new/delete replacements that count allocations per thread. A thread_local
// counter keeps the cost to one increment with no cross-core traffic.
#include "bench/alloc_counter.h"

#include <cstdlib>
#include <new>

namespace wojak {
namespace {
thread_local int64_t allocations = 0;

void* Allocate(std::size_t size) {
  ++allocations;
  return std::malloc(size == 0 ? 1 : size);
}
}  // namespace

int64_t ThreadAllocationCount() { return allocations; }

}  // namespace wojak

void* operator new(std::size_t size) {
  if (void* p = wojak::Allocate(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* p = wojak::Allocate(size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return wojak::Allocate(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return wojak::Allocate(size);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
