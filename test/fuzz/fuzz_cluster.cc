#include "fuzz_cluster.h"

#include <cstdio>
#include <cstdlib>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/delimited_message_util.h"
#include "server/convert.h"
#include "spdlog/spdlog.h"

namespace sextant::fuzz {
namespace {

void SetResources(v1::ResourceList* list, const std::string& cpu, const std::string& memory) {
  (*list->mutable_items())["cpu"] = cpu;
  (*list->mutable_items())["memory"] = memory;
}

v1::Node MakeNode(const std::string& name, const std::string& zone, const std::string& cpu) {
  v1::Node node;
  node.set_name(name);
  (*node.mutable_labels())["kubernetes.io/hostname"] = name;
  (*node.mutable_labels())["topology.kubernetes.io/zone"] = zone;
  SetResources(node.mutable_allocatable(), cpu, "8Gi");
  (*node.mutable_allocatable()->mutable_items())["pods"] = "10";
  *node.mutable_capacity() = node.allocatable();
  return node;
}

v1::Pod BoundPod(const std::string& ns, const std::string& name, const std::string& node,
                 const std::string& app, int64_t cpu_millis, int32_t priority) {
  v1::Pod pod;
  pod.set_namespace_(ns);
  pod.set_name(name);
  pod.set_uid("uid-" + name);
  (*pod.mutable_labels())["app"] = app;
  pod.set_node_name(node);
  pod.set_priority(priority);
  pod.set_phase("Running");
  v1::Container* container = pod.add_containers();
  container->set_name("main");
  SetResources(container->mutable_requests(), std::to_string(cpu_millis) + "m", "1Gi");
  return pod;
}

v1::LabelSelector AppSelector(const std::string& app) {
  v1::LabelSelector selector;
  (*selector.mutable_match_labels())["app"] = app;
  return selector;
}

}  // namespace

v1::Pod PendingPod(const std::string& name, int64_t cpu_millis, const std::string& memory,
                   int32_t priority) {
  v1::Pod pod;
  pod.set_namespace_("default");
  pod.set_name(name);
  pod.set_uid("uid-" + name);
  (*pod.mutable_labels())["app"] = "web";
  pod.set_priority(priority);
  pod.set_phase("Pending");
  v1::Container* container = pod.add_containers();
  container->set_name("main");
  SetResources(container->mutable_requests(), std::to_string(cpu_millis) + "m", memory);
  return pod;
}

v1::Pod SelectivePod(const std::string& name) {
  v1::Pod pod = PendingPod(name, 500, "512Mi", 100);
  v1::Affinity* affinity = pod.mutable_affinity();
  v1::NodeSelectorTerm* term = affinity->mutable_node_affinity()
                                   ->mutable_required_during_scheduling_ignored_during_execution()
                                   ->add_node_selector_terms();
  v1::SelectorRequirement* zone = term->add_match_expressions();
  zone->set_key("topology.kubernetes.io/zone");
  zone->set_operator_("In");
  zone->add_values("zone-a");
  zone->add_values("zone-b");
  v1::PreferredSchedulingTerm* preferred =
      affinity->mutable_node_affinity()->add_preferred_during_scheduling_ignored_during_execution();
  preferred->set_weight(10);
  v1::SelectorRequirement* gpu = preferred->mutable_preference()->add_match_expressions();
  gpu->set_key("gpu");
  gpu->set_operator_("Exists");
  v1::PodAffinityTerm* anti = affinity->mutable_pod_anti_affinity()
                                  ->add_required_during_scheduling_ignored_during_execution();
  *anti->mutable_label_selector() = AppSelector("web");
  anti->set_topology_key("kubernetes.io/hostname");
  v1::WeightedPodAffinityTerm* near =
      affinity->mutable_pod_affinity()->add_preferred_during_scheduling_ignored_during_execution();
  near->set_weight(50);
  *near->mutable_pod_affinity_term()->mutable_label_selector() = AppSelector("db");
  near->mutable_pod_affinity_term()->set_topology_key("topology.kubernetes.io/zone");
  (*near->mutable_pod_affinity_term()
        ->mutable_namespace_selector()
        ->mutable_match_labels())["team"] = "data";
  v1::TopologySpreadConstraint* spread = pod.add_topology_spread_constraints();
  spread->set_max_skew(1);
  spread->set_topology_key("topology.kubernetes.io/zone");
  spread->set_when_unsatisfiable("DoNotSchedule");
  *spread->mutable_label_selector() = AppSelector("web");
  v1::Toleration* toleration = pod.add_tolerations();
  toleration->set_key("dedicated");
  toleration->set_operator_("Equal");
  toleration->set_value("gpu");
  toleration->set_effect("NoSchedule");
  return pod;
}

v1::SyncRequest SmallClusterSnapshot() {
  v1::SyncRequest request;
  v1::FullSnapshot* full = request.mutable_full();
  full->set_sequence(kSnapshotSequence);
  auto add = [full]() { return full->add_objects(); };

  *add()->mutable_upsert_node() = MakeNode("node-a1", "zone-a", "2");
  *add()->mutable_upsert_node() = MakeNode("node-a2", "zone-a", "2");
  v1::Node gpu = MakeNode("node-b1", "zone-b", "4");
  (*gpu.mutable_labels())["gpu"] = "true";
  (*gpu.mutable_allocatable()->mutable_items())["nvidia.com/gpu"] = "2";
  v1::Taint* taint = gpu.add_taints();
  taint->set_key("dedicated");
  taint->set_value("gpu");
  taint->set_effect("NoSchedule");
  *add()->mutable_upsert_node() = gpu;
  v1::Node cordoned = MakeNode("node-b2", "zone-b", "2");
  cordoned.set_unschedulable(true);
  *add()->mutable_upsert_node() = cordoned;

  v1::Namespace data;
  data.set_name("data");
  (*data.mutable_labels())["team"] = "data";
  *add()->mutable_upsert_namespace() = data;
  v1::Namespace def;
  def.set_name("default");
  *add()->mutable_upsert_namespace() = def;

  v1::PriorityClass low;
  low.set_name("low");
  low.set_value(10);
  *add()->mutable_upsert_priority_class() = low;
  v1::PriorityClass high;
  high.set_name("high");
  high.set_value(1000);
  high.set_global_default(true);
  *add()->mutable_upsert_priority_class() = high;

  v1::PodDisruptionBudget pdb;
  pdb.set_namespace_("data");
  pdb.set_name("db-pdb");
  *pdb.mutable_selector() = AppSelector("db");
  pdb.mutable_min_available()->set_value(1);
  pdb.set_disruptions_allowed(0);
  *add()->mutable_upsert_pod_disruption_budget() = pdb;

  *add()->mutable_upsert_pod() = BoundPod("default", "web-0", "node-a1", "web", 1200, 10);
  *add()->mutable_upsert_pod() = BoundPod("data", "db-0", "node-a2", "db", 900, 10);
  *add()->mutable_upsert_pod() = BoundPod("default", "batch-0", "node-a2", "batch", 800, 0);
  v1::Pod anti = BoundPod("default", "cache-0", "node-b1", "cache", 1500, 500);
  v1::PodAffinityTerm* term = anti.mutable_affinity()
                                  ->mutable_pod_anti_affinity()
                                  ->add_required_during_scheduling_ignored_during_execution();
  *term->mutable_label_selector() = AppSelector("cache");
  term->set_topology_key("topology.kubernetes.io/zone");
  v1::Toleration* toleration = anti.add_tolerations();
  toleration->set_key("dedicated");
  toleration->set_operator_("Exists");
  *add()->mutable_upsert_pod() = anti;
  v1::Pod nominated = PendingPod("preemptor-0", 1500, "1Gi", 1000);
  nominated.set_nominated_node_name("node-a1");
  *add()->mutable_upsert_pod() = nominated;
  return request;
}

SyncedEngine::SyncedEngine()
    : engine([] {
        EngineOptions options;
        options.epoch = kEpoch;
        options.profile.parallelism = 1;
        return options;
      }()),
      service(&engine) {}

std::unique_ptr<SyncedEngine> NewSyncedEngine() {
  // The handlers log every message they apply or refuse; at fuzzing rates that is most of the
  // time spent.
  spdlog::set_level(spdlog::level::off);
  // Decoded once: the targets start from it on every input.
  static const std::vector<ClusterChange>* const objects = [] {
    absl::StatusOr<std::vector<ClusterChange>> decoded =
        server::FromProto(SmallClusterSnapshot().full().objects(), "objects", true);
    if (!decoded.ok()) {
      std::fprintf(stderr, "the fuzz cluster does not decode: %s\n",
                   decoded.status().ToString().c_str());
      std::abort();
    }
    return new std::vector<ClusterChange>(*std::move(decoded));
  }();
  auto synced = std::make_unique<SyncedEngine>();
  const absl::Status status = synced->engine.ApplySnapshot(kSnapshotSequence, *objects);
  if (!status.ok()) {
    std::fprintf(stderr, "the fuzz cluster is rejected: %s\n", status.ToString().c_str());
    std::abort();
  }
  return synced;
}

std::vector<v1::SyncRequest> ParseSyncInput(const uint8_t* data, size_t size, size_t limit) {
  std::vector<v1::SyncRequest> messages;
  google::protobuf::io::ArrayInputStream input(data, static_cast<int>(size));
  while (messages.size() < limit) {
    v1::SyncRequest message;
    bool clean_eof = false;
    if (!google::protobuf::util::ParseDelimitedFromZeroCopyStream(&message, &input, &clean_eof)) {
      break;
    }
    messages.push_back(std::move(message));
  }
  return messages;
}

std::string SyncInput(const std::vector<v1::SyncRequest>& messages) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  for (const v1::SyncRequest& message : messages) {
    google::protobuf::util::SerializeDelimitedToZeroCopyStream(message, &stream);
  }
  return out;
}

}  // namespace sextant::fuzz
