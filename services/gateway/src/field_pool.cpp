#include "enkisys/gateway/field_pool.hpp"

#include <array>
#include <new>

namespace enkisys::gateway::detail {
namespace {

constexpr std::size_t kGranule = 64;
constexpr std::size_t kClasses = 16;  // 64 .. 1024 bytes

struct FreeBlock {
  FreeBlock* next;
};

struct ThreadPool {
  std::array<FreeBlock*, kClasses> head{};
  std::array<std::size_t, kClasses> count{};
  ~ThreadPool() {
    for (std::size_t c = 0; c < kClasses; ++c) {
      for (FreeBlock* b = head[c]; b;) {
        FreeBlock* n = b->next;
        ::operator delete(b);
        b = n;
      }
      head[c] = nullptr;
      count[c] = kPoolMaxBlocksPerClass;  // frees after thread teardown go to operator delete
    }
  }
};

thread_local ThreadPool tls_pool;

std::size_t class_of(std::size_t bytes) {
  return (bytes + kGranule - 1) / kGranule - 1;
}

}  // namespace

void* pool_allocate(std::size_t bytes) {
  const std::size_t c = class_of(bytes);
  if (bytes == 0 || c >= kClasses) return ::operator new(bytes == 0 ? 1 : bytes);
  ThreadPool& p = tls_pool;
  if (FreeBlock* b = p.head[c]) {
    p.head[c] = b->next;
    --p.count[c];
    return b;
  }
  return ::operator new((c + 1) * kGranule);
}

void pool_deallocate(void* ptr, std::size_t bytes) noexcept {
  if (!ptr) return;
  const std::size_t c = class_of(bytes);
  if (bytes == 0 || c >= kClasses) {
    ::operator delete(ptr);
    return;
  }
  ThreadPool& p = tls_pool;
  if (p.count[c] >= kPoolMaxBlocksPerClass) {
    ::operator delete(ptr);
    return;
  }
  auto* b = static_cast<FreeBlock*>(ptr);
  b->next = p.head[c];
  p.head[c] = b;
  ++p.count[c];
}

}  // namespace enkisys::gateway::detail
