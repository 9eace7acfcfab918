// Fuzzes label selectors, node selectors and pod (anti-)affinity terms along the path user input
// takes online: the input is a v1::Pod (binary protobuf) decoded by the server's FromProto, then
// compiled as the plugins compile it. Invariants: decoding refuses with INVALID_ARGUMENT or
// succeeds; a decoded pod encodes back to a message that decodes to the same pod (quantities as
// the text they print as) and encodes again to the same message; every label
// selector the pod carries matches exactly the label sets its uncompiled form matches
// (CompiledLabelSelector against LabelSelectorMatches); compiling and matching node affinity,
// affinity terms and spread selectors does not crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "google/protobuf/util/message_differencer.h"
#include "model/affinity_terms.h"
#include "model/selectors.h"
#include "server/convert.h"
#include "state/internal/canonical.h"

namespace {

using sextant::Labels;
using sextant::LabelSelector;

// Label sets a selector may or may not match: empty, the pod's own, and for each requirement one
// set with its key at each of its values, one with the key and another value, one without it.
std::vector<Labels> ProbeLabels(const LabelSelector& selector, const Labels& own) {
  std::vector<Labels> probes = {{}, own, {{"app", "web"}}};
  Labels all = selector.match_labels;
  probes.push_back(all);
  for (const sextant::SelectorRequirement& r : selector.match_expressions) {
    for (const std::string& value : r.values) {
      Labels one = all;
      one[r.key] = value;
      probes.push_back(one);
      all[r.key] = value;
    }
    Labels other = all;
    other[r.key] = "fuzz-other-value";
    probes.push_back(other);
    Labels without = all;
    without.erase(r.key);
    probes.push_back(without);
  }
  probes.push_back(all);
  return probes;
}

void CheckSelector(const LabelSelector& selector, const Labels& own) {
  const sextant::CompiledLabelSelector compiled(selector);
  for (const Labels& labels : ProbeLabels(selector, own)) {
    const bool expected = sextant::LabelSelectorMatches(selector, labels);
    SEXTANT_FUZZ_CHECK(compiled.Matches(labels) == expected,
                       "compiled selector says %d, LabelSelectorMatches %d (%zu labels)", !expected,
                       expected, labels.size());
  }
}

void CheckSelector(const std::optional<LabelSelector>& selector, const Labels& own) {
  if (selector) CheckSelector(*selector, own);
}

void CheckTerms(const std::vector<sextant::PodAffinityTerm>& terms, const Labels& own) {
  for (const sextant::PodAffinityTerm& term : terms) {
    CheckSelector(term.label_selector, own);
    CheckSelector(term.namespace_selector, own);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sextant;
  v1::Pod message;
  if (!message.ParseFromArray(data, static_cast<int>(size))) return 0;
  const absl::StatusOr<Pod> pod = server::FromProto(message);
  if (!pod.ok()) {
    SEXTANT_FUZZ_CHECK(absl::IsInvalidArgument(pod.status()), "%s",
                       pod.status().ToString().c_str());
    return 0;
  }

  // Round trip through the proto edge.
  v1::Pod encoded;
  server::ToProto(*pod, &encoded);
  const absl::StatusOr<Pod> decoded = server::FromProto(encoded);
  SEXTANT_FUZZ_CHECK(decoded.ok(), "the encoding of a decoded pod is refused: %s",
                     decoded.status().ToString().c_str());
  // Quantities travel as the text they print as (upstream's String()): compared in that form.
  internal::CanonicalWriter first(/*exact_quantities=*/false), second(/*exact_quantities=*/false);
  first.Write(*pod);
  second.Write(*decoded);
  SEXTANT_FUZZ_CHECK(first.bytes() == second.bytes(), "pod changed through ToProto/FromProto");
  v1::Pod reencoded;
  server::ToProto(*decoded, &reencoded);
  SEXTANT_FUZZ_CHECK(google::protobuf::util::MessageDifferencer::Equals(encoded, reencoded),
                     "ToProto is not stable");

  // Selectors, compiled against uncompiled.
  const Labels& own = pod->labels;
  if (pod->affinity) {
    if (pod->affinity->pod_affinity) {
      CheckTerms(pod->affinity->pod_affinity->required, own);
      for (const auto& weighted : pod->affinity->pod_affinity->preferred) {
        CheckTerms({weighted.term}, own);
      }
    }
    if (pod->affinity->pod_anti_affinity) {
      CheckTerms(pod->affinity->pod_anti_affinity->required, own);
      for (const auto& weighted : pod->affinity->pod_anti_affinity->preferred) {
        CheckTerms({weighted.term}, own);
      }
    }
  }
  for (const TopologySpreadConstraint& constraint : pod->topology_spread_constraints) {
    CheckSelector(constraint.label_selector, own);
  }

  // Compiled terms and node affinity, against a few nodes and the pod itself.
  const PodAffinityTerms terms = CompilePodAffinityTerms(*pod);
  for (const auto* kind : {&terms.required_affinity, &terms.required_anti_affinity,
                           &terms.preferred_affinity, &terms.preferred_anti_affinity}) {
    for (const AffinityTerm& term : *kind) {
      (void)term.Matches(*pod, own);
      (void)term.Matches(*pod, NoLabels());
    }
  }
  const RequiredNodeAffinity required(*pod);
  Node node;
  node.name = "node-1";
  node.labels = own;
  (void)required.Matches(node);
  node.labels = {{"kubernetes.io/hostname", "node-1"}, {"topology.kubernetes.io/zone", "a"}};
  (void)required.Matches(node);
  if (pod->affinity && pod->affinity->node_affinity) {
    const PreferredNodeAffinity preferred(pod->affinity->node_affinity->preferred);
    const int64_t score = preferred.Score(node);
    SEXTANT_FUZZ_CHECK(score >= 0 || !preferred.empty(), "score %lld with no terms",
                       static_cast<long long>(score));
  }
  return 0;
}
