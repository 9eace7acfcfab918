// Error messages that name a field, shared by the edges that decode client input (the snapshot
// reader, the gRPC converter), so both say `Pod "default/web-0": spec.containers[0]...: why`.
#ifndef SEXTANT_COMMON_FIELD_PATH_H_
#define SEXTANT_COMMON_FIELD_PATH_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace sextant {

// "text" with C escapes, for names and values inside messages.
std::string Quote(absl::string_view text);

// InvalidArgument "path: message".
absl::Status FieldError(absl::string_view path, absl::string_view message);

// Prefixes an error with the object it concerns: `Pod "default/web-0": spec...`. OK stays OK.
absl::Status Annotate(absl::string_view who, const absl::Status& status);

// `parent.key` for identifier-like keys, `parent["nvidia.com/gpu"]` for the rest.
std::string JoinPath(absl::string_view parent, absl::string_view key);

// `parent[index]`.
std::string IndexPath(absl::string_view parent, size_t index);

}  // namespace sextant

#endif  // SEXTANT_COMMON_FIELD_PATH_H_
