#include "common/redact.h"

namespace ferry {

std::string RedactQuoted(const std::string& message) {
  std::string out;
  out.reserve(message.size());
  size_t at = 0;
  while (at < message.size()) {
    const size_t open = message.find('"', at);
    const size_t close = open == std::string::npos ? open : message.find('"', open + 1);
    if (close == std::string::npos) {
      // An unpaired quote: what follows it may be the fragment, so it goes too.
      out.append(message, at, open == std::string::npos ? std::string::npos : open - at);
      if (open != std::string::npos) out += "\"...";
      break;
    }
    out.append(message, at, open - at);
    out += "\"...\"";
    at = close + 1;
  }
  return out;
}

}  // namespace ferry
