#include "model/selectors.h"

#include <algorithm>

#include "absl/strings/match.h"
#include <cctype>
#include <charconv>

namespace sextant {
namespace {

bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// The name part of a qualified name, and a label value: [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?
bool IsQualifiedNamePart(absl::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

// validation.IsDNS1123Subdomain: <= 253 characters, lowercase labels of [a-z0-9-] joined by dots.
bool IsDns1123Subdomain(absl::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    absl::string_view label = s.substr(start, dot == absl::string_view::npos ? s.npos : dot - start);
    if (label.empty()) return false;
    auto lower_alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!lower_alnum(label.front()) || !lower_alnum(label.back())) return false;
    for (char c : label) {
      if (!lower_alnum(c) && c != '-') return false;
    }
    if (dot == absl::string_view::npos) return true;
    start = dot + 1;
  }
}

// strconv.ParseInt(s, 10, 64): optional sign, decimal digits, in range.
bool ParseInt64(absl::string_view s, int64_t* out) {
  if (s.empty()) return false;
  bool negative = false;
  if (s.front() == '+' || s.front() == '-') {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return false;
  uint64_t magnitude = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), magnitude);
  if (ec != std::errc() || ptr != s.data() + s.size()) return false;
  if (negative) {
    if (magnitude > static_cast<uint64_t>(INT64_MAX) + 1) return false;
    *out = static_cast<int64_t>(0 - magnitude);
  } else {
    if (magnitude > static_cast<uint64_t>(INT64_MAX)) return false;
    *out = static_cast<int64_t>(magnitude);
  }
  return true;
}

bool HasValue(const std::vector<std::string>& values, absl::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

}  // namespace

bool IsQualifiedName(absl::string_view value) {
  size_t slash = value.find('/');
  if (slash == absl::string_view::npos) return IsQualifiedNamePart(value);
  if (value.find('/', slash + 1) != absl::string_view::npos) return false;
  return IsDns1123Subdomain(value.substr(0, slash)) && IsQualifiedNamePart(value.substr(slash + 1));
}

bool IsValidLabelValue(absl::string_view value) {
  return value.empty() || IsQualifiedNamePart(value);
}

CompiledRequirement CompiledRequirement::ForLabels(const SelectorRequirement& requirement) {
  CompiledRequirement out;
  out.requirement_ = requirement;
  const auto& values = requirement.values;
  bool ok = IsQualifiedName(requirement.key);
  switch (requirement.op) {
    case SelectorOperator::kIn:
    case SelectorOperator::kNotIn:
      ok = ok && !values.empty();
      break;
    case SelectorOperator::kExists:
    case SelectorOperator::kDoesNotExist:
      ok = ok && values.empty();
      break;
    case SelectorOperator::kGt:
    case SelectorOperator::kLt:
      ok = ok && values.size() == 1 && ParseInt64(values[0], &out.bound_);
      break;
  }
  for (const std::string& v : values) ok = ok && IsValidLabelValue(v);
  out.valid_ = ok;
  return out;
}

CompiledRequirement CompiledRequirement::ForFields(const SelectorRequirement& requirement) {
  CompiledRequirement out;
  out.requirement_ = requirement;
  // nodeSelectorRequirementsAsFieldSelector: only In / NotIn with exactly one value.
  out.valid_ = (requirement.op == SelectorOperator::kIn || requirement.op == SelectorOperator::kNotIn) &&
               requirement.values.size() == 1;
  return out;
}

bool CompiledRequirement::Matches(const Labels& labels) const {
  auto it = labels.find(requirement_.key);
  bool exists = it != labels.end();
  switch (requirement_.op) {
    case SelectorOperator::kIn:
      return exists && HasValue(requirement_.values, it->second);
    case SelectorOperator::kNotIn:
      return !exists || !HasValue(requirement_.values, it->second);
    case SelectorOperator::kExists:
      return exists;
    case SelectorOperator::kDoesNotExist:
      return !exists;
    case SelectorOperator::kGt:
    case SelectorOperator::kLt: {
      int64_t label_value = 0;
      if (!exists || !ParseInt64(it->second, &label_value)) return false;
      return requirement_.op == SelectorOperator::kGt ? label_value > bound_ : label_value < bound_;
    }
  }
  return false;
}

bool CompiledRequirement::MatchesFields(absl::string_view node_name) const {
  absl::string_view value = requirement_.key == "metadata.name" ? node_name : absl::string_view();
  bool equal = value == requirement_.values[0];
  return requirement_.op == SelectorOperator::kIn ? equal : !equal;
}

CompiledNodeSelectorTerm::CompiledNodeSelectorTerm(const NodeSelectorTerm& term) {
  empty_ = term.match_expressions.empty() && term.match_fields.empty();
  for (const auto& r : term.match_expressions) {
    expressions_.push_back(CompiledRequirement::ForLabels(r));
    valid_ = valid_ && expressions_.back().valid();
  }
  for (const auto& r : term.match_fields) {
    fields_.push_back(CompiledRequirement::ForFields(r));
    valid_ = valid_ && fields_.back().valid();
  }
}

bool CompiledNodeSelectorTerm::Matches(const Node& node) const {
  if (empty_ || !valid_) return false;
  for (const auto& r : expressions_) {
    if (!r.Matches(node.labels)) return false;
  }
  // Upstream skips field matching for a node without a name (no fields to match against).
  if (!node.name.empty()) {
    for (const auto& r : fields_) {
      if (!r.MatchesFields(node.name)) return false;
    }
  }
  return true;
}

RequiredNodeAffinity::RequiredNodeAffinity(const Pod& pod) {
  if (!pod.node_selector.empty()) node_selector_ = &pod.node_selector;
  if (pod.affinity && pod.affinity->node_affinity && pod.affinity->node_affinity->required) {
    has_required_ = true;
    for (const auto& term : pod.affinity->node_affinity->required->terms) {
      CompiledNodeSelectorTerm compiled(term);
      if (!compiled.empty()) terms_.push_back(std::move(compiled));
    }
  }
}

bool RequiredNodeAffinity::Matches(const Node& node) const {
  if (node_selector_ != nullptr) {
    for (const auto& [key, value] : *node_selector_) {
      auto it = node.labels.find(key);
      if (it == node.labels.end() || it->second != value) return false;
    }
  }
  if (!has_required_) return true;
  return std::any_of(terms_.begin(), terms_.end(),
                     [&](const CompiledNodeSelectorTerm& t) { return t.Matches(node); });
}

PreferredNodeAffinity::PreferredNodeAffinity(const std::vector<PreferredSchedulingTerm>& terms) {
  for (const auto& term : terms) {
    if (term.weight == 0) continue;
    CompiledNodeSelectorTerm compiled(term.preference);
    // Upstream refuses the whole list when a term is malformed (PreScore error); the API server
    // validates these fields, so an invalid term here is dropped rather than failing the cycle.
    if (compiled.empty() || !compiled.valid()) continue;
    terms_.emplace_back(std::move(compiled), term.weight);
  }
}

int64_t PreferredNodeAffinity::Score(const Node& node) const {
  int64_t score = 0;
  for (const auto& [term, weight] : terms_) {
    if (term.Matches(node)) score += weight;
  }
  return score;
}

bool LabelSelectorMatches(const LabelSelector& selector, const Labels& labels) {
  for (const auto& [key, value] : selector.match_labels) {
    if (!IsQualifiedName(key) || !IsValidLabelValue(value)) return false;
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  for (const auto& requirement : selector.match_expressions) {
    // metav1.LabelSelectorAsSelector accepts only In, NotIn, Exists, DoesNotExist.
    if (requirement.op == SelectorOperator::kGt || requirement.op == SelectorOperator::kLt) {
      return false;
    }
    CompiledRequirement compiled = CompiledRequirement::ForLabels(requirement);
    if (!compiled.valid() || !compiled.Matches(labels)) return false;
  }
  return true;
}

CompiledLabelSelector::CompiledLabelSelector(const LabelSelector& selector) {
  nothing_ = false;
  for (const auto& [key, value] : selector.match_labels) {
    requirements_.push_back(
        CompiledRequirement::ForLabels(SelectorRequirement{key, SelectorOperator::kIn, {value}}));
  }
  for (const auto& requirement : selector.match_expressions) {
    requirements_.push_back(CompiledRequirement::ForLabels(requirement));
  }
  for (const auto& r : requirements_) {
    // metav1.LabelSelectorAsSelector accepts only In, NotIn, Exists, DoesNotExist; an error
    // leaves the caller with a selector that matches nothing.
    SelectorOperator op = r.requirement().op;
    if (!r.valid() || op == SelectorOperator::kGt || op == SelectorOperator::kLt) {
      nothing_ = true;
      requirements_.clear();
      return;
    }
  }
}

CompiledLabelSelector CompiledLabelSelector::FromOptional(
    const std::optional<LabelSelector>& selector) {
  return selector ? CompiledLabelSelector(*selector) : CompiledLabelSelector();
}

bool CompiledLabelSelector::Matches(const Labels& labels) const {
  if (nothing_) return false;
  for (const auto& r : requirements_) {
    if (!r.Matches(labels)) return false;
  }
  return true;
}

void CompiledLabelSelector::PrependMatchLabels(const Labels& labels) {
  if (nothing_ || labels.empty()) return;
  std::vector<CompiledRequirement> merged;
  for (const auto& [key, value] : labels) {
    merged.push_back(
        CompiledRequirement::ForLabels(SelectorRequirement{key, SelectorOperator::kIn, {value}}));
  }
  merged.insert(merged.end(), requirements_.begin(), requirements_.end());
  requirements_ = std::move(merged);
}

}  // namespace sextant
