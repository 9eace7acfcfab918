// Fluent builders for the model types and a small ClusterState fixture, for tests only.
// Quantity literals are parsed with Quantity::Parse; a bad literal aborts the test binary, since it
// is a mistake in the test, not an input under test.
#ifndef SEXTANT_TEST_TESTING_BUILDERS_H_
#define SEXTANT_TEST_TESTING_BUILDERS_H_

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sextant/cluster_state.h"
#include "sextant/model.h"
#include "sextant/quantity.h"
#include "state/node_info.h"

namespace sextant::testutil {

// {{"cpu", "100m"}, {"memory", "1Gi"}}.
using ResourceLiterals = std::initializer_list<std::pair<std::string_view, std::string_view>>;

// Quantity::Parse, aborting on a bad literal.
Quantity Q(std::string_view text);
ResourceList Resources(ResourceLiterals items);

// Selector helpers: a requirement, and a term of label expressions and field requirements.
SelectorRequirement Req(std::string key, SelectorOperator op, std::vector<std::string> values = {});
NodeSelectorTerm Term(std::vector<SelectorRequirement> match_expressions,
                      std::vector<SelectorRequirement> match_fields = {});
// A term with only matchFields.
NodeSelectorTerm FieldTerm(std::vector<SelectorRequirement> match_fields);

class NodeBuilder {
 public:
  explicit NodeBuilder(std::string name);

  // Sets allocatable, and capacity to the same list (as upstream's test wrappers do).
  NodeBuilder& Allocatable(ResourceLiterals items);
  NodeBuilder& AllocatableList(ResourceList list);
  NodeBuilder& Label(std::string key, std::string value);
  NodeBuilder& Labels(sextant::Labels labels);
  NodeBuilder& Taint(std::string key, std::string value, TaintEffect effect);
  NodeBuilder& Unschedulable(bool unschedulable = true);

  Node Build() const { return node_; }

 private:
  Node node_;
};

class PodBuilder {
 public:
  PodBuilder(std::string name_space, std::string name);

  // A regular container named c<N>. An empty list is a container without requests.
  PodBuilder& Container(ResourceLiterals requests, ResourceLiterals limits = {});
  PodBuilder& ContainerList(ResourceList requests, ResourceList limits = {});
  // A non-restartable init container named i<N>.
  PodBuilder& InitContainer(ResourceLiterals requests, ResourceLiterals limits = {});
  PodBuilder& InitContainerList(ResourceList requests, ResourceList limits = {});
  // A restartable init container (restartPolicy: Always) named s<N>.
  PodBuilder& Sidecar(ResourceLiterals requests, ResourceLiterals limits = {});
  PodBuilder& Overhead(ResourceLiterals items);
  // Pod-level spec.resources.requests.
  PodBuilder& PodLevelRequests(ResourceLiterals items);

  PodBuilder& Toleration(std::string key, TolerationOperator op, std::string value,
                         TaintEffect effect = TaintEffect::kNone);
  PodBuilder& NodeSelector(std::string key, std::string value);
  // Appends a term to required node affinity, creating it when absent.
  PodBuilder& RequiredNodeAffinity(NodeSelectorTerm term);
  // Sets required node affinity to exactly these terms (possibly none).
  PodBuilder& RequiredNodeAffinityTerms(std::vector<NodeSelectorTerm> terms);
  PodBuilder& PreferredNodeAffinity(int32_t weight, NodeSelectorTerm preference);
  // A node affinity with neither required nor preferred terms.
  PodBuilder& EmptyNodeAffinity();

  PodBuilder& Priority(int32_t priority);
  PodBuilder& NodeName(std::string node_name);
  PodBuilder& Label(std::string key, std::string value);
  PodBuilder& Phase(std::string phase);

  Pod Build() const { return pod_; }

 private:
  sextant::NodeAffinity& MutableNodeAffinity();
  sextant::Container MakeContainer(std::string name, ResourceList requests, ResourceList limits);

  Pod pod_;
};

// A ClusterState holding `nodes` and `pods` (bound pods are accounted on their nodes). Aborts when
// the state rejects an object.
std::unique_ptr<ClusterState> MakeState(const std::vector<Node>& nodes,
                                        const std::vector<Pod>& pods = {});

// The NodeInfo of a present node; aborts when the state does not hold it.
const NodeInfo& NodeInfoFor(const ClusterState& state, std::string_view node_name);

// The name of the node at `index` (NodeVerdict::node).
const std::string& NodeNameAt(const ClusterState& state, uint32_t index);

}  // namespace sextant::testutil

#endif  // SEXTANT_TEST_TESTING_BUILDERS_H_
