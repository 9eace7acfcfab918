// Label and node selector matching with the semantics of k8s.io/apimachinery labels.Selector and
// k8s.io/component-helpers nodeaffinity, plus the name validations those rely on.
// Pure functions; thread-safe.
#ifndef SEXTANT_MODEL_SELECTORS_H_
#define SEXTANT_MODEL_SELECTORS_H_

#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "sextant/model.h"

namespace sextant {

// validation.IsQualifiedName: [prefix/]name, prefix a DNS-1123 subdomain, name <= 63 characters of
// [A-Za-z0-9_.-] starting and ending alphanumeric.
bool IsQualifiedName(absl::string_view value);
// validation.IsValidLabelValue: empty, or <= 63 characters as a qualified name's name part.
bool IsValidLabelValue(absl::string_view value);

// A node selector requirement compiled once per scheduling cycle. A requirement upstream would
// refuse to build (bad key, wrong value count, non-integer Gt/Lt operand) is kept as invalid:
// the term that holds it never matches, as upstream's lazy-error selector behaves.
class CompiledRequirement {
 public:
  static CompiledRequirement ForLabels(const SelectorRequirement& requirement);
  static CompiledRequirement ForFields(const SelectorRequirement& requirement);

  bool valid() const { return valid_; }
  const SelectorRequirement& requirement() const { return requirement_; }
  bool Matches(const Labels& labels) const;
  // Field requirements: only metadata.name is a known node field; others read as "".
  bool MatchesFields(absl::string_view node_name) const;

 private:
  bool valid_ = false;
  SelectorRequirement requirement_;
  int64_t bound_ = 0;  // parsed operand of Gt / Lt
};

// One NodeSelectorTerm: requirements ANDed; an empty term matches nothing.
class CompiledNodeSelectorTerm {
 public:
  explicit CompiledNodeSelectorTerm(const NodeSelectorTerm& term);
  bool empty() const { return empty_; }
  bool valid() const { return valid_; }
  bool Matches(const Node& node) const;
  const std::vector<CompiledRequirement>& expressions() const { return expressions_; }
  const std::vector<CompiledRequirement>& fields() const { return fields_; }

 private:
  bool empty_ = true;
  bool valid_ = true;
  std::vector<CompiledRequirement> expressions_;
  std::vector<CompiledRequirement> fields_;
};

// The pod's required node placement: spec.nodeSelector AND any term of required node affinity
// (nodeaffinity.RequiredNodeAffinity).
class RequiredNodeAffinity {
 public:
  explicit RequiredNodeAffinity(const Pod& pod);
  bool Matches(const Node& node) const;
  bool has_required() const { return has_required_; }
  const std::vector<CompiledNodeSelectorTerm>& terms() const { return terms_; }

 private:
  const Labels* node_selector_ = nullptr;
  bool has_required_ = false;
  std::vector<CompiledNodeSelectorTerm> terms_;  // empty terms dropped, as upstream
};

// The pod's preferred node affinity terms with their weights (nodeaffinity.PreferredSchedulingTerms).
class PreferredNodeAffinity {
 public:
  explicit PreferredNodeAffinity(const std::vector<PreferredSchedulingTerm>& terms);
  bool empty() const { return terms_.empty(); }
  // Sum of the weights of the terms the node matches.
  int64_t Score(const Node& node) const;

 private:
  std::vector<std::pair<CompiledNodeSelectorTerm, int32_t>> terms_;
};

// metav1.LabelSelector semantics: nil selects nothing is the caller's business; an empty selector
// selects everything; an invalid requirement selects nothing (LabelSelectorAsSelector errors).
bool LabelSelectorMatches(const LabelSelector& selector, const Labels& labels);

// A metav1.LabelSelector compiled once, as labels.Selector: Nothing() for a nil selector (and for
// one LabelSelectorAsSelector would refuse), Everything for an empty one, otherwise the ANDed
// requirements (matchLabels as single-value In). Matching a compiled selector does no validation.
class CompiledLabelSelector {
 public:
  // Selects nothing.
  CompiledLabelSelector() = default;
  explicit CompiledLabelSelector(const LabelSelector& selector);
  // nullopt (a nil selector) selects nothing.
  static CompiledLabelSelector FromOptional(const std::optional<LabelSelector>& selector);

  bool Matches(const Labels& labels) const;
  // labels.Selector.Empty(): selects everything (no requirements). A nothing selector is not empty.
  bool Empty() const { return !nothing_ && requirements_.empty(); }
  bool nothing() const { return nothing_; }
  // The requirements (matchLabels first, sorted by key, then matchExpressions in order).
  const std::vector<CompiledRequirement>& requirements() const { return requirements_; }
  // Adds key=value requirements in front (podtopologyspread mergeLabelSetWithSelector); a
  // nothing selector stays nothing.
  void PrependMatchLabels(const Labels& labels);

 private:
  bool nothing_ = true;
  std::vector<CompiledRequirement> requirements_;
};

}  // namespace sextant

#endif  // SEXTANT_MODEL_SELECTORS_H_
