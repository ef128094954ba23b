// PoolAllocator: a stateless allocator for Beast's header containers on the proxy hot path.
//
// Contract:
//  * Every parsed request/response header allocates one block per field plus the target/reason;
//    PoolAllocator serves those blocks from per-thread free lists in 64-byte size classes
//    (up to 1 KiB; larger blocks go to operator new), so a warm worker parses headers without
//    touching malloc.
//  * Blocks may be freed on another thread than the one that allocated them (they then join
//    that thread's lists). Each list keeps at most kPoolMaxBlocksPerClass blocks; the rest are
//    returned to operator delete. Lists are released when their thread exits.
//  * All instances compare equal (stateless), as std::allocator does.
#pragma once

#include <boost/beast/http/fields.hpp>
#include <cstddef>

namespace enkisys::gateway {

namespace detail {
void* pool_allocate(std::size_t bytes);
void pool_deallocate(void* p, std::size_t bytes) noexcept;
}  // namespace detail

inline constexpr std::size_t kPoolMaxBlocksPerClass = 512;

template <class T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() noexcept = default;
  template <class U>
  PoolAllocator(const PoolAllocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor)
  T* allocate(std::size_t n) { return static_cast<T*>(detail::pool_allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { detail::pool_deallocate(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const PoolAllocator<U>&) const noexcept {
    return true;
  }
};

// Header container used by the proxy's request and upstream-response parsers.
using PooledFields = boost::beast::http::basic_fields<PoolAllocator<char>>;

}  // namespace enkisys::gateway
