// Pod (anti-)affinity terms compiled once per pod, as upstream's framework.PodInfo keeps them
// (fwk.AffinityTerm): the label selector, the namespaces the term applies to, the namespace
// selector and the topology key. Pure values; thread-safe to read.
#ifndef SEXTANT_MODEL_AFFINITY_TERMS_H_
#define SEXTANT_MODEL_AFFINITY_TERMS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "model/selectors.h"
#include "sextant/model.h"

namespace sextant {

struct AffinityTerm {
  CompiledLabelSelector selector;       // nil labelSelector: nothing
  std::vector<std::string> namespaces;  // spec namespaces, or the owning pod's own
  CompiledLabelSelector namespace_selector;  // nil namespaceSelector: nothing
  std::string topology_key;
  int32_t weight = 0;  // preferred terms only

  // fwk.AffinityTerm.Matches: the pod's namespace is listed or its labels (ns_labels; empty when
  // the namespace is unknown) satisfy the namespace selector, and the pod's labels the selector.
  bool Matches(const Pod& pod, const Labels& ns_labels) const;
  bool ListsNamespace(const std::string& name) const;
};

// A pod's terms by kind. Terms come from spec.affinity only: matchLabelKeys and
// mismatchLabelKeys were merged into the selectors by kube-apiserver when the pod was created,
// and the scheduler, upstream's and ours, does not read them again.
struct PodAffinityTerms {
  std::vector<AffinityTerm> required_affinity;
  std::vector<AffinityTerm> required_anti_affinity;
  std::vector<AffinityTerm> preferred_affinity;
  std::vector<AffinityTerm> preferred_anti_affinity;

  bool empty() const {
    return required_affinity.empty() && required_anti_affinity.empty() &&
           preferred_affinity.empty() && preferred_anti_affinity.empty();
  }
};

PodAffinityTerms CompilePodAffinityTerms(const Pod& pod);

// An empty labels set, for Matches calls with no namespace labels (upstream's nil labels.Set).
const Labels& NoLabels();

}  // namespace sextant

#endif  // SEXTANT_MODEL_AFFINITY_TERMS_H_
