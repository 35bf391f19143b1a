// Keeping secrets out of messages. Connection strings hold passwords, and an error about a
// malformed one tends to quote the piece it could not read, which may be part of the password
// (`password=two words` leaves "words" without a key). Such messages reach the log, /status and
// the Error frame sent to the other agent.
#pragma once

#include <string>

namespace ferry {

// `message` with the text inside each pair of double quotes replaced by "...": libpq's
// connection-string errors quote the fragment they stopped at.
std::string RedactQuoted(const std::string& message);

// Said after such a message, so that "..." is not taken for the text itself.
inline constexpr char kDsnNotShown[] =
    " (the connection string's text is not shown: it may hold a password)";

}  // namespace ferry
