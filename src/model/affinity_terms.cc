#include "model/affinity_terms.h"

#include <algorithm>

namespace sextant {
namespace {

AffinityTerm CompileTerm(const Pod& pod, const PodAffinityTerm& term, int32_t weight) {
  AffinityTerm out;
  out.selector = CompiledLabelSelector::FromOptional(term.label_selector);
  // getNamespacesFromPodAffinityTerm: no namespaces and no namespace selector mean the pod's own.
  if (term.namespaces.empty() && !term.namespace_selector) {
    out.namespaces.push_back(pod.name_space);
  } else {
    out.namespaces = term.namespaces;
  }
  out.namespace_selector = CompiledLabelSelector::FromOptional(term.namespace_selector);
  out.topology_key = term.topology_key;
  out.weight = weight;
  return out;
}

void CompileKind(const Pod& pod, const std::optional<PodAffinity>& affinity,
                 std::vector<AffinityTerm>& required, std::vector<AffinityTerm>& preferred) {
  if (!affinity) return;
  for (const auto& term : affinity->required) required.push_back(CompileTerm(pod, term, 0));
  for (const auto& weighted : affinity->preferred) {
    preferred.push_back(CompileTerm(pod, weighted.term, weighted.weight));
  }
}

}  // namespace

bool AffinityTerm::ListsNamespace(const std::string& name) const {
  return std::find(namespaces.begin(), namespaces.end(), name) != namespaces.end();
}

bool AffinityTerm::Matches(const Pod& pod, const Labels& ns_labels) const {
  if (ListsNamespace(pod.name_space) || namespace_selector.Matches(ns_labels)) {
    return selector.Matches(pod.labels);
  }
  return false;
}

PodAffinityTerms CompilePodAffinityTerms(const Pod& pod) {
  PodAffinityTerms out;
  if (!pod.affinity) return out;
  CompileKind(pod, pod.affinity->pod_affinity, out.required_affinity, out.preferred_affinity);
  CompileKind(pod, pod.affinity->pod_anti_affinity, out.required_anti_affinity,
              out.preferred_anti_affinity);
  return out;
}

const Labels& NoLabels() {
  static const Labels* const kEmpty = new Labels();
  return *kEmpty;
}

}  // namespace sextant
