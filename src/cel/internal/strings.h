// The Debian Abseil build has its own absl::string_view, distinct from std::string_view; this
// bridges the two for StrCat, StrSplit and friends.
#ifndef SEXTANT_CEL_INTERNAL_STRINGS_H_
#define SEXTANT_CEL_INTERNAL_STRINGS_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace sextant::cel::internal {

inline absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace sextant::cel::internal

#endif  // SEXTANT_CEL_INTERNAL_STRINGS_H_
