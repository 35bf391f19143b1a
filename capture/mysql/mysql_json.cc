#include "capture/mysql/mysql_json.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "capture/mysql/mysql_decimal.h"
#include "capture/mysql/mysql_temporal.h"
#include "common/json_text.h"

namespace ferry::capture::mysql {
namespace {

// MySQL refuses documents nested deeper than 100; a little slack, and no stack overflow on
// hostile input.
constexpr int kMaxDepth = 128;

enum JsonType : uint8_t {
  kSmallObject = 0x00,
  kLargeObject = 0x01,
  kSmallArray = 0x02,
  kLargeArray = 0x03,
  kLiteral = 0x04,
  kInt16 = 0x05,
  kUint16 = 0x06,
  kInt32 = 0x07,
  kUint32 = 0x08,
  kInt64 = 0x09,
  kUint64 = 0x0a,
  kDouble = 0x0b,
  kString = 0x0c,
  kOpaque = 0x0f,
};

// enum_field_types values that opaque JSON values carry.
enum FieldType : uint8_t {
  kFieldTimestamp = 7,
  kFieldDate = 10,
  kFieldTime = 11,
  kFieldDatetime = 12,
  kFieldNewdate = 14,
  kFieldTimestamp2 = 17,
  kFieldDatetime2 = 18,
  kFieldTime2 = 19,
  kFieldNewDecimal = 246,
};

uint64_t LittleEndian(std::string_view data, size_t offset, size_t n) {
  uint64_t value = 0;
  for (size_t i = n; i-- > 0;) value = (value << 8) | static_cast<uint8_t>(data[offset + i]);
  return value;
}

void AppendBase64(std::string_view data, std::string* out) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t v =
        static_cast<uint32_t>(LittleEndian(data, i, 1) << 16 | LittleEndian(data, i + 1, 1) << 8 |
                              LittleEndian(data, i + 2, 1));
    for (int shift = 18; shift >= 0; shift -= 6) out->push_back(kAlphabet[(v >> shift) & 63]);
  }
  size_t rest = data.size() - i;
  if (rest == 0) return;
  uint32_t v = static_cast<uint32_t>(LittleEndian(data, i, 1) << 16);
  if (rest == 2) v |= static_cast<uint32_t>(LittleEndian(data, i + 1, 1) << 8);
  out->push_back(kAlphabet[(v >> 18) & 63]);
  out->push_back(kAlphabet[(v >> 12) & 63]);
  out->push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
  out->push_back('=');
}

// Writes the JSON text of one binary JSON value. Every read is checked against the bytes of the
// enclosing container, so a corrupt offset can neither read outside the document nor loop.
class Printer {
 public:
  // `budget` caps the text: a legitimate document prints at most a few bytes per stored byte,
  // while corrupt offsets that share one subtree among many entries could print without end.
  Printer(std::string* out, size_t budget) : out_(out), budget_(budget) {}

  // `data` runs from the value's first byte to the end of its enclosing container; `base` is the
  // offset of data[0] in the document, for messages.
  Status Value(uint8_t type, std::string_view data, size_t base, int depth) {
    if (out_->size() > budget_) return Error(base, "offsets repeat a value (text too large)");
    switch (type) {
      case kSmallObject:
      case kLargeObject:
      case kSmallArray:
      case kLargeArray:
        if (depth >= kMaxDepth) return Error(base, "nested deeper than 128 levels");
        return Container(type, data, base, depth);
      case kLiteral:
        return Fixed(data, base, 1, [&](uint64_t v) { return Literal(v, base); });
      case kInt16:
        return Fixed(data, base, 2, [&](uint64_t v) { return Signed(v, 16); });
      case kUint16:
      case kUint32:
      case kUint64:
        return Fixed(data, base,
                     type == kUint16   ? 2
                     : type == kUint32 ? 4
                                       : 8,
                     [&](uint64_t v) { return Unsigned(v); });
      case kInt32:
        return Fixed(data, base, 4, [&](uint64_t v) { return Signed(v, 32); });
      case kInt64:
        return Fixed(data, base, 8, [&](uint64_t v) { return Signed(v, 64); });
      case kDouble:
        return Fixed(data, base, 8, [&](uint64_t v) { return Double(v, base); });
      case kString:
        return String(data, base);
      case kOpaque:
        return Opaque(data, base);
      default:
        return Error(base, "unknown value type " + std::to_string(type));
    }
  }

 private:
  static Status Error(size_t offset, const std::string& what) {
    return Status::Error("malformed binary JSON at offset " + std::to_string(offset) + ": " + what);
  }

  template <typename Print>
  Status Fixed(std::string_view data, size_t base, size_t width, Print print) {
    if (data.size() < width) return Error(base, "value truncated");
    return print(LittleEndian(data, 0, width));
  }

  Status Literal(uint64_t value, size_t base) {
    switch (value) {
      case 0:
        out_->append("null");
        return Status::Ok();
      case 1:
        out_->append("true");
        return Status::Ok();
      case 2:
        out_->append("false");
        return Status::Ok();
      default:
        return Error(base, "unknown literal " + std::to_string(value));
    }
  }

  Status Signed(uint64_t value, int bits) {
    uint64_t sign = uint64_t{1} << (bits - 1);
    uint64_t masked = bits == 64 ? value : value & ((uint64_t{1} << bits) - 1);
    out_->append(std::to_string(static_cast<int64_t>((masked ^ sign) - sign)));
    return Status::Ok();
  }

  Status Unsigned(uint64_t value) {
    out_->append(std::to_string(value));
    return Status::Ok();
  }

  Status Double(uint64_t bits, size_t base) {
    double value = std::bit_cast<double>(bits);
    if (!std::isfinite(value)) return Error(base, "double is not finite");
    char text[64];
    auto [end, ec] = std::to_chars(text, text + sizeof text, value);
    if (ec != std::errc()) return Error(base, "double cannot be printed");
    std::string_view printed(text, static_cast<size_t>(end - text));
    out_->append(printed);
    if (printed.find_first_of(".e") == std::string_view::npos) out_->append(".0");
    return Status::Ok();
  }

  // A var-length count: 7 bits per byte, least significant first, at most 5 bytes (uint32).
  static bool VarLength(std::string_view data, size_t* pos, uint64_t* length) {
    *length = 0;
    for (int i = 0; i < 5; ++i) {
      if (*pos >= data.size()) return false;
      uint8_t byte = static_cast<uint8_t>(data[(*pos)++]);
      *length |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
      if ((byte & 0x80) == 0) return *length <= UINT32_MAX;
    }
    return false;
  }

  Status String(std::string_view data, size_t base) {
    size_t pos = 0;
    uint64_t length = 0;
    if (!VarLength(data, &pos, &length) || length > data.size() - pos) {
      return Error(base, "string truncated");
    }
    AppendJsonString(data.substr(pos, length), out_);
    return Status::Ok();
  }

  Status Opaque(std::string_view data, size_t base) {
    if (data.empty()) return Error(base, "opaque value truncated");
    uint8_t field_type = static_cast<uint8_t>(data[0]);
    size_t pos = 1;
    uint64_t length = 0;
    if (!VarLength(data, &pos, &length) || length > data.size() - pos) {
      return Error(base, "opaque value truncated");
    }
    std::string_view bytes = data.substr(pos, length);
    switch (field_type) {
      case kFieldNewDecimal:
        return OpaqueDecimal(bytes, base);
      case kFieldDate:
      case kFieldNewdate:
      case kFieldDatetime:
      case kFieldDatetime2:
      case kFieldTimestamp:
      case kFieldTimestamp2:
      case kFieldTime:
      case kFieldTime2:
        return OpaqueTemporal(field_type, bytes, base);
      default:
        out_->append("\"base64:type" + std::to_string(field_type) + ":");
        AppendBase64(bytes, out_);
        out_->push_back('"');
        return Status::Ok();
    }
  }

  Status OpaqueDecimal(std::string_view bytes, size_t base) {
    if (bytes.size() < 2) return Error(base, "DECIMAL truncated");
    Result<std::string> text = DecodeDecimal(bytes.substr(2), static_cast<uint8_t>(bytes[0]),
                                             static_cast<uint8_t>(bytes[1]));
    if (!text.ok()) return Error(base, text.message());
    out_->append(*text);
    return Status::Ok();
  }

  Status OpaqueTemporal(uint8_t field_type, std::string_view bytes, size_t base) {
    if (bytes.size() < 8) return Error(base, "temporal value truncated");
    int64_t packed = static_cast<int64_t>(LittleEndian(bytes, 0, 8));
    std::string text;
    if (field_type == kFieldTime || field_type == kFieldTime2) {
      text = FormatTime(TimeFromPacked(packed), 6);
    } else if (field_type == kFieldDate || field_type == kFieldNewdate) {
      text = FormatDate(DatetimeFromPacked(packed));
    } else {
      text = FormatDatetime(DatetimeFromPacked(packed), 6);
    }
    AppendJsonString(text, out_);
    return Status::Ok();
  }

  static bool Inlined(uint8_t type, bool large) {
    return type == kLiteral || type == kInt16 || type == kUint16 ||
           (large && (type == kInt32 || type == kUint32));
  }

  Status Container(uint8_t type, std::string_view data, size_t base, int depth) {
    bool object = type == kSmallObject || type == kLargeObject;
    bool large = type == kLargeObject || type == kLargeArray;
    size_t width = large ? 4 : 2;
    if (data.size() < 2 * width) return Error(base, "container header truncated");
    uint64_t count = LittleEndian(data, 0, width);
    uint64_t size = LittleEndian(data, width, width);
    if (size > data.size() || size < 2 * width) {
      return Error(base, "container size " + std::to_string(size) + " exceeds the document");
    }
    data = data.substr(0, size);
    size_t key_entry = width + 2;
    size_t value_entry = 1 + width;
    uint64_t header = 2 * width + count * ((object ? key_entry : 0) + value_entry);
    if (count > size || header > size) return Error(base, "container entries truncated");
    size_t values_at = 2 * width + (object ? count * key_entry : 0);

    out_->push_back(object ? '{' : '[');
    for (uint64_t i = 0; i < count; ++i) {
      if (i > 0) out_->push_back(',');
      if (object) FERRY_RETURN_IF_ERROR(Key(data, base, 2 * width + i * key_entry, width));
      size_t entry = values_at + i * value_entry;
      uint8_t value_type = static_cast<uint8_t>(data[entry]);
      if (Inlined(value_type, large)) {
        FERRY_RETURN_IF_ERROR(
            Value(value_type, data.substr(entry + 1, width), base + entry + 1, depth + 1));
        continue;
      }
      uint64_t offset = LittleEndian(data, entry + 1, width);
      if (offset < header || offset >= size) {
        return Error(base + entry, "value offset " + std::to_string(offset) + " out of range");
      }
      FERRY_RETURN_IF_ERROR(Value(value_type, data.substr(offset), base + offset, depth + 1));
    }
    out_->push_back(object ? '}' : ']');
    return Status::Ok();
  }

  Status Key(std::string_view data, size_t base, size_t entry, size_t width) {
    uint64_t offset = LittleEndian(data, entry, width);
    uint64_t length = LittleEndian(data, entry + width, 2);
    if (offset > data.size() || length > data.size() - offset) {
      return Error(base + entry, "key out of range");
    }
    AppendJsonString(data.substr(offset, length), out_);
    out_->push_back(':');
    return Status::Ok();
  }

  std::string* out_;
  size_t budget_;
};

}  // namespace

Result<std::string> MysqlJsonToText(std::string_view binary) {
  if (binary.empty()) return std::string("null");
  std::string text;
  // Escaping turns a control character into six bytes; nothing else grows more than that.
  Printer printer(&text, 16 * binary.size() + 1024);
  FERRY_RETURN_IF_ERROR(
      printer.Value(static_cast<uint8_t>(binary[0]), binary.substr(1), 1, /*depth=*/0));
  return text;
}

}  // namespace ferry::capture::mysql
