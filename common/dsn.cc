#include "common/dsn.h"

#include <cctype>

#include "common/redact.h"

namespace ferry {
namespace {

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// Reads the pairs of one string, left to right; `at` never moves back.
class DsnScanner {
 public:
  explicit DsnScanner(std::string_view text) : text_(text) {}

  bool Done() {
    SkipSpace();
    return at_ >= text_.size();
  }

  // The key and its '=' (white space around it skipped).
  Result<std::string> Key() {
    const size_t start = at_;
    while (at_ < text_.size() && text_[at_] != '=' && !IsSpace(text_[at_])) ++at_;
    std::string key(text_.substr(start, at_ - start));
    SkipSpace();
    if (at_ >= text_.size() || text_[at_] != '=') {
      // The word is not quoted back: it may be the second half of a password with a space.
      return Status::Error("the word at byte " + std::to_string(start) +
                           " has no '=', so the text from there on is not key=value (e.g. "
                           "host=db.example user=ferry dbname=app; quote values that hold "
                           "spaces: password='...')" +
                           std::string(kDsnNotShown));
    }
    ++at_;
    SkipSpace();
    return key;
  }

  // A value: quoted ('...') or up to the next white space, with backslash escapes in both.
  Result<std::string> Value() {
    std::string value;
    const bool quoted = at_ < text_.size() && text_[at_] == '\'';
    if (quoted) ++at_;
    for (;;) {
      if (at_ >= text_.size()) {
        if (!quoted) return value;
        return Status::Error("a quoted value has no closing quote" + std::string(kDsnNotShown));
      }
      char c = text_[at_];
      if (quoted && c == '\'') {
        ++at_;
        return value;
      }
      if (!quoted && IsSpace(c)) return value;
      if (c == '\\' && at_ + 1 < text_.size()) c = text_[++at_];
      value.push_back(c);
      ++at_;
    }
  }

 private:
  void SkipSpace() {
    while (at_ < text_.size() && IsSpace(text_[at_])) ++at_;
  }

  std::string_view text_;
  size_t at_ = 0;
};

}  // namespace

Result<std::vector<DsnPair>> SplitDsn(std::string_view text) {
  std::vector<DsnPair> pairs;
  DsnScanner scanner(text);
  while (!scanner.Done()) {
    Result<std::string> key = scanner.Key();
    if (!key.ok()) return key.status();
    Result<std::string> value = scanner.Value();
    if (!value.ok()) return value.status();
    pairs.push_back({std::move(*key), std::move(*value)});
  }
  return pairs;
}

}  // namespace ferry
