// The Kubernetes API spellings of the model's enums, shared by every edge that reads or writes
// them (the snapshot reader, the gRPC converter), so the edges cannot drift apart. Where several
// spellings decode to one value, the first is the one to write.
#ifndef SEXTANT_MODEL_API_NAMES_H_
#define SEXTANT_MODEL_API_NAMES_H_

#include "absl/strings/string_view.h"
#include "sextant/dra.h"
#include "sextant/model.h"

namespace sextant {

// An API enum value and its spelling.
template <typename E>
struct EnumName {
  absl::string_view name;
  E value;
};

constexpr EnumName<TaintEffect> kTaintEffects[] = {
    {"NoSchedule", TaintEffect::kNoSchedule},
    {"PreferNoSchedule", TaintEffect::kPreferNoSchedule},
    {"NoExecute", TaintEffect::kNoExecute},
};
// An empty effect on a toleration matches every effect.
constexpr EnumName<TaintEffect> kTolerationEffects[] = {
    {"", TaintEffect::kNone},
    {"NoSchedule", TaintEffect::kNoSchedule},
    {"PreferNoSchedule", TaintEffect::kPreferNoSchedule},
    {"NoExecute", TaintEffect::kNoExecute},
};
// An empty operator defaults to Equal ("Equal" first: it is what encoding writes). Lt / Gt
// (alpha, gate off) are read but never tolerate.
constexpr EnumName<TolerationOperator> kTolerationOperators[] = {
    {"Equal", TolerationOperator::kEqual},   {"", TolerationOperator::kEqual},
    {"Exists", TolerationOperator::kExists}, {"Lt", TolerationOperator::kLt},
    {"Gt", TolerationOperator::kGt},
};
constexpr EnumName<SelectorOperator> kNodeSelectorOperators[] = {
    {"In", SelectorOperator::kIn},         {"NotIn", SelectorOperator::kNotIn},
    {"Exists", SelectorOperator::kExists}, {"DoesNotExist", SelectorOperator::kDoesNotExist},
    {"Gt", SelectorOperator::kGt},         {"Lt", SelectorOperator::kLt},
};
constexpr EnumName<SelectorOperator> kLabelSelectorOperators[] = {
    {"In", SelectorOperator::kIn},
    {"NotIn", SelectorOperator::kNotIn},
    {"Exists", SelectorOperator::kExists},
    {"DoesNotExist", SelectorOperator::kDoesNotExist},
};
constexpr EnumName<UnsatisfiableConstraintAction> kUnsatisfiableActions[] = {
    {"DoNotSchedule", UnsatisfiableConstraintAction::kDoNotSchedule},
    {"ScheduleAnyway", UnsatisfiableConstraintAction::kScheduleAnyway},
};
constexpr EnumName<NodeInclusionPolicy> kNodeInclusionPolicies[] = {
    {"Honor", NodeInclusionPolicy::kHonor},
    {"Ignore", NodeInclusionPolicy::kIgnore},
};
// Unknown device taint effects are kept (as kUnknown): upstream's allocator ignores them.
constexpr EnumName<DeviceTaintEffect> kDeviceTaintEffects[] = {
    {"None", DeviceTaintEffect::kNone},
    {"NoSchedule", DeviceTaintEffect::kNoSchedule},
    {"NoExecute", DeviceTaintEffect::kNoExecute},
};
constexpr EnumName<PreemptionPolicy> kPreemptionPolicies[] = {
    {"PreemptLowerPriority", PreemptionPolicy::kPreemptLowerPriority},
    {"Never", PreemptionPolicy::kNever},
};

}  // namespace sextant

#endif  // SEXTANT_MODEL_API_NAMES_H_
