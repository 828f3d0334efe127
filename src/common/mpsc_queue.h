// Bounded multi-producer single-consumer queue: producers never block, the consumer takes batches.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

namespace wojak {

// The consumer takes everything queued at once ("smart batching": a batch is whatever arrived
// while the previous one was being processed, never a wait to fill a batch). A mutex and a
// vector swap keep it simple; the consumer is woken only when it is actually waiting, so a busy
// consumer costs producers no futex syscalls.
template <typename T>
class MpscQueue {
 public:
  explicit MpscQueue(size_t capacity) : capacity_(capacity) {}
  MpscQueue(const MpscQueue&) = delete;
  MpscQueue& operator=(const MpscQueue&) = delete;

  // Queues item unless the queue is full or closed. On false, item is left untouched so the
  // caller can still use it (e.g. to answer "busy").
  bool TryPush(T&& item) {
    bool wake;
    {
      std::lock_guard lock(mutex_);
      if (closed_ || items_.size() >= capacity_) return false;
      items_.push_back(std::move(item));
      wake = consumer_waiting_;
    }
    if (wake) ready_.notify_one();
    return true;
  }

  // Waits up to max_wait for at least one item (not at all when max_wait <= 0), then replaces
  // out's contents with every queued item, oldest first. Returns how many were taken; 0 on
  // timeout or when the queue is closed and empty. out's old buffer is recycled into the queue, so
  // a consumer that reuses one vector stops allocating once batches reach their usual size.
  size_t PopAll(std::vector<T>& out, std::chrono::nanoseconds max_wait) {
    out.clear();
    std::unique_lock lock(mutex_);
    if (items_.empty() && !closed_ && !woken_ && max_wait > std::chrono::nanoseconds::zero()) {
      consumer_waiting_ = true;
      ready_.wait_for(lock, max_wait, [this] { return !items_.empty() || closed_ || woken_; });
      consumer_waiting_ = false;
    }
    woken_ = false;
    out.swap(items_);
    return out.size();
  }

  // Makes the consumer's current or next PopAll return without waiting, even with nothing queued:
  // lets a producer of another queue (executor results) wake a consumer that sleeps on this one.
  void Wake() {
    {
      std::lock_guard lock(mutex_);
      woken_ = true;
    }
    ready_.notify_one();
  }

  // Refuses further pushes and wakes the consumer; items already queued can still be popped.
  void Close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    ready_.notify_all();
  }

  bool closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }
  size_t size() const {
    std::lock_guard lock(mutex_);
    return items_.size();
  }
  size_t capacity() const { return capacity_; }

 private:
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<T> items_;
  bool consumer_waiting_ = false;
  bool woken_ = false;
  bool closed_ = false;
};

}  // namespace wojak
