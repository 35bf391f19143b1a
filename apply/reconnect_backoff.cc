#include "apply/reconnect_backoff.h"

#include <algorithm>

namespace ferry::apply {

ReconnectBackoff::ReconnectBackoff(std::chrono::milliseconds first, std::chrono::milliseconds cap,
                                   uint64_t seed)
    : first_(first), cap_(std::max(cap, first)), random_(seed) {}

std::chrono::milliseconds ReconnectBackoff::Next() {
  // 2^20 times any first wait is past any cap; counting on would overflow the shift.
  const uint64_t doublings = std::min<uint64_t>(failures_, 20);
  ++failures_;
  const int64_t ceiling = std::min<int64_t>(cap_.count(), first_.count() << doublings);
  const int64_t floor = ceiling / 2;
  std::uniform_int_distribution<int64_t> draw(floor, ceiling);
  return std::chrono::milliseconds(draw(random_));
}

}  // namespace ferry::apply
