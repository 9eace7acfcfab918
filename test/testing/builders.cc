#include "testing/builders.h"

#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sextant::testutil {
namespace {

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "test builder: %s\n", message.c_str());
  std::abort();
}

void CheckOk(const absl::Status& status, const std::string& what) {
  if (!status.ok()) Die(what + ": " + status.ToString());
}

}  // namespace

Quantity Q(std::string_view text) {
  absl::StatusOr<Quantity> quantity = Quantity::Parse(text);
  if (!quantity.ok()) {
    Die("bad quantity literal \"" + std::string(text) + "\": " + quantity.status().ToString());
  }
  return *quantity;
}

ResourceList Resources(ResourceLiterals items) {
  ResourceList list;
  for (const auto& [name, text] : items) list.insert_or_assign(std::string(name), Q(text));
  return list;
}

SelectorRequirement Req(std::string key, SelectorOperator op, std::vector<std::string> values) {
  return SelectorRequirement{std::move(key), op, std::move(values)};
}

NodeSelectorTerm Term(std::vector<SelectorRequirement> match_expressions,
                      std::vector<SelectorRequirement> match_fields) {
  return NodeSelectorTerm{std::move(match_expressions), std::move(match_fields)};
}

NodeSelectorTerm FieldTerm(std::vector<SelectorRequirement> match_fields) {
  return NodeSelectorTerm{{}, std::move(match_fields)};
}

// ---- NodeBuilder ----

NodeBuilder::NodeBuilder(std::string name) { node_.name = std::move(name); }

NodeBuilder& NodeBuilder::Allocatable(ResourceLiterals items) {
  return AllocatableList(Resources(items));
}

NodeBuilder& NodeBuilder::AllocatableList(ResourceList list) {
  node_.capacity = list;
  node_.allocatable = std::move(list);
  return *this;
}

NodeBuilder& NodeBuilder::Label(std::string key, std::string value) {
  node_.labels.insert_or_assign(std::move(key), std::move(value));
  return *this;
}

NodeBuilder& NodeBuilder::Labels(sextant::Labels labels) {
  for (auto& [key, value] : labels) node_.labels.insert_or_assign(key, value);
  return *this;
}

NodeBuilder& NodeBuilder::Taint(std::string key, std::string value, TaintEffect effect) {
  node_.taints.push_back(sextant::Taint{std::move(key), std::move(value), effect});
  return *this;
}

NodeBuilder& NodeBuilder::Unschedulable(bool unschedulable) {
  node_.unschedulable = unschedulable;
  return *this;
}

// ---- PodBuilder ----

PodBuilder::PodBuilder(std::string name_space, std::string name) {
  pod_.name_space = std::move(name_space);
  pod_.name = std::move(name);
  pod_.uid = pod_.name_space + "-" + pod_.name + "-uid";
  pod_.phase = "Pending";
}

sextant::Container PodBuilder::MakeContainer(std::string name, ResourceList requests,
                                             ResourceList limits) {
  sextant::Container container;
  container.name = std::move(name);
  container.requests = std::move(requests);
  container.limits = std::move(limits);
  return container;
}

PodBuilder& PodBuilder::Container(ResourceLiterals requests, ResourceLiterals limits) {
  return ContainerList(Resources(requests), Resources(limits));
}

PodBuilder& PodBuilder::ContainerList(ResourceList requests, ResourceList limits) {
  pod_.containers.push_back(MakeContainer("c" + std::to_string(pod_.containers.size()),
                                          std::move(requests), std::move(limits)));
  return *this;
}

PodBuilder& PodBuilder::InitContainer(ResourceLiterals requests, ResourceLiterals limits) {
  return InitContainerList(Resources(requests), Resources(limits));
}

PodBuilder& PodBuilder::InitContainerList(ResourceList requests, ResourceList limits) {
  pod_.init_containers.push_back(MakeContainer("i" + std::to_string(pod_.init_containers.size()),
                                               std::move(requests), std::move(limits)));
  return *this;
}

PodBuilder& PodBuilder::Sidecar(ResourceLiterals requests, ResourceLiterals limits) {
  pod_.init_containers.push_back(MakeContainer("s" + std::to_string(pod_.init_containers.size()),
                                               Resources(requests), Resources(limits)));
  pod_.init_containers.back().restart_policy = "Always";
  return *this;
}

PodBuilder& PodBuilder::Overhead(ResourceLiterals items) {
  pod_.overhead = Resources(items);
  return *this;
}

PodBuilder& PodBuilder::PodLevelRequests(ResourceLiterals items) {
  if (!pod_.resources) pod_.resources.emplace();
  pod_.resources->requests = Resources(items);
  return *this;
}

PodBuilder& PodBuilder::Toleration(std::string key, TolerationOperator op, std::string value,
                                   TaintEffect effect) {
  sextant::Toleration toleration;
  toleration.key = std::move(key);
  toleration.op = op;
  toleration.value = std::move(value);
  toleration.effect = effect;
  pod_.tolerations.push_back(std::move(toleration));
  return *this;
}

PodBuilder& PodBuilder::NodeSelector(std::string key, std::string value) {
  pod_.node_selector.insert_or_assign(std::move(key), std::move(value));
  return *this;
}

sextant::NodeAffinity& PodBuilder::MutableNodeAffinity() {
  if (!pod_.affinity) pod_.affinity.emplace();
  if (!pod_.affinity->node_affinity) pod_.affinity->node_affinity.emplace();
  return *pod_.affinity->node_affinity;
}

PodBuilder& PodBuilder::RequiredNodeAffinity(NodeSelectorTerm term) {
  sextant::NodeAffinity& affinity = MutableNodeAffinity();
  if (!affinity.required) affinity.required.emplace();
  affinity.required->terms.push_back(std::move(term));
  return *this;
}

PodBuilder& PodBuilder::RequiredNodeAffinityTerms(std::vector<NodeSelectorTerm> terms) {
  MutableNodeAffinity().required = sextant::NodeSelector{std::move(terms)};
  return *this;
}

PodBuilder& PodBuilder::PreferredNodeAffinity(int32_t weight, NodeSelectorTerm preference) {
  MutableNodeAffinity().preferred.push_back(PreferredSchedulingTerm{weight, std::move(preference)});
  return *this;
}

PodBuilder& PodBuilder::EmptyNodeAffinity() {
  MutableNodeAffinity();
  return *this;
}

PodBuilder& PodBuilder::Priority(int32_t priority) {
  pod_.priority = priority;
  return *this;
}

PodBuilder& PodBuilder::NodeName(std::string node_name) {
  pod_.node_name = std::move(node_name);
  if (!pod_.node_name.empty()) pod_.phase = "Running";
  return *this;
}

PodBuilder& PodBuilder::Label(std::string key, std::string value) {
  pod_.labels.insert_or_assign(std::move(key), std::move(value));
  return *this;
}

PodBuilder& PodBuilder::Phase(std::string phase) {
  pod_.phase = std::move(phase);
  return *this;
}

// ---- ClusterState fixture ----

std::unique_ptr<ClusterState> MakeState(const std::vector<Node>& nodes,
                                        const std::vector<Pod>& pods) {
  auto state = std::make_unique<ClusterState>();
  for (const Node& node : nodes) CheckOk(state->UpsertNode(node), "UpsertNode " + node.name);
  for (const Pod& pod : pods) CheckOk(state->UpsertPod(pod), "UpsertPod " + pod.Key());
  return state;
}

const NodeInfo& NodeInfoFor(const ClusterState& state, std::string_view node_name) {
  int64_t index = state.FindNode(absl::string_view(node_name.data(), node_name.size()));
  if (index < 0) Die("no node \"" + std::string(node_name) + "\" in the state");
  return state.node(static_cast<uint32_t>(index));
}

const std::string& NodeNameAt(const ClusterState& state, uint32_t index) {
  return state.node(index).node->name;
}

}  // namespace sextant::testutil
