// Helpers for secrets (tokens, proofs) shared by the wire and the admin endpoint.
#pragma once

#include <string_view>

namespace ferry {

// Compares in time that depends only on the lengths, never on where (or whether) the contents
// differ, so response time does not reveal how much of a guess matched.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace ferry
