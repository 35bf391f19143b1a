// CRC-32C (Castagnoli), as used by iSCSI, ext4 and many log formats.
#pragma once

#include <cstdint>
#include <string_view>

namespace ferry::wire {

// CRC-32C of `data`, continuing from `crc` (0 to start). Crc32c("123456789") == 0xE3069283.
uint32_t Crc32c(std::string_view data, uint32_t crc = 0);

}  // namespace ferry::wire
