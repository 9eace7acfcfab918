#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sextant/model.h"
#include "sextant/snapshot.h"

#ifndef SEXTANT_SOURCE_DIR
#error "SEXTANT_SOURCE_DIR must name the repository root (the CMake build defines it)"
#endif

namespace sextant {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

std::string FixturePath(const std::string& name) {
  return absl::StrCat(SEXTANT_SOURCE_DIR, "/test/data/snapshot_reader/", name);
}

// A `kubectl get ... -o json` List holding `items` (comma-separated JSON objects).
std::string List(const std::string& items) {
  return absl::StrCat(R"({"apiVersion": "v1", "kind": "List", "items": [)", items, "]}");
}

// A Pod "default/web-0" whose spec is `spec` (a JSON object body without braces).
std::string PodWithSpec(const std::string& spec) {
  return absl::StrCat(R"({"apiVersion": "v1", "kind": "Pod",
                          "metadata": {"name": "web-0", "namespace": "default"},
                          "spec": {)",
                      spec, "}}");
}

int64_t UnixNanos(int year, int month, int day, int hour, int minute, int second) {
  const absl::CivilSecond civil(year, month, day, hour, minute, second);
  return absl::ToUnixNanos(absl::FromCivil(civil, absl::UTCTimeZone()));
}

std::string ErrorMessage(const absl::StatusOr<Snapshot>& snapshot) {
  return std::string(snapshot.status().message());
}

TEST(SnapshotReaderTest, ReadsRealisticCluster) {
  absl::StatusOr<Snapshot> snapshot = ReadSnapshotFile(FixturePath("cluster.json"));
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  // The two terminated pods, the DeviceClass and the Service are not in the result.
  ASSERT_EQ(snapshot->nodes.size(), 2u);
  ASSERT_EQ(snapshot->pods.size(), 2u);
  ASSERT_EQ(snapshot->priority_classes.size(), 2u);
  ASSERT_EQ(snapshot->pod_disruption_budgets.size(), 2u);

  const Node& cpu = snapshot->nodes[0];
  EXPECT_EQ(cpu.name, "cpu-1");
  EXPECT_EQ(cpu.labels.at("topology.kubernetes.io/zone"), "us-east-1a");
  EXPECT_EQ(cpu.labels.size(), 4u);
  EXPECT_TRUE(cpu.taints.empty());
  EXPECT_FALSE(cpu.unschedulable);
  EXPECT_EQ(cpu.allocatable.at("cpu").MilliValue(), 7910);
  EXPECT_EQ(cpu.allocatable.at("memory").Value(), int64_t{31772952} * 1024);
  EXPECT_EQ(cpu.allocatable.at("pods").Value(), 110);
  EXPECT_EQ(cpu.capacity.at("cpu").Value(), 8);
  EXPECT_EQ(cpu.allocatable.size(), 5u);
  EXPECT_EQ(cpu.creation_unix_nanos, UnixNanos(2024, 5, 1, 10, 0, 0));

  const Node& gpu = snapshot->nodes[1];
  EXPECT_EQ(gpu.name, "gpu-3");
  EXPECT_TRUE(gpu.unschedulable);
  ASSERT_EQ(gpu.taints.size(), 2u);
  EXPECT_EQ(gpu.taints[0].key, "nvidia.com/gpu");
  EXPECT_EQ(gpu.taints[0].value, "present");
  EXPECT_EQ(gpu.taints[0].effect, TaintEffect::kNoSchedule);
  EXPECT_EQ(gpu.taints[1].key, "node.kubernetes.io/unschedulable");
  EXPECT_EQ(gpu.taints[1].value, "");
  EXPECT_EQ(gpu.allocatable.at("nvidia.com/gpu").Value(), 8);
  EXPECT_EQ(gpu.allocatable.at("memory").Value(), int64_t{1980} << 30);
  EXPECT_EQ(gpu.capacity.at("memory").Value(), int64_t{2} << 40);
  EXPECT_EQ(gpu.creation_unix_nanos, UnixNanos(2024, 5, 1, 10, 5, 30));

  const Pod& running = snapshot->pods[0];
  EXPECT_EQ(running.Key(), "kube-system/coredns-7db6d8ff4d-x2x9p");
  EXPECT_EQ(running.uid, "e3b0c442-98fc-1c14-9afb-f4c8996fb924");
  EXPECT_EQ(running.node_name, "cpu-1");
  EXPECT_EQ(running.scheduler_name, "default-scheduler");
  EXPECT_EQ(running.Priority(), 2000000000);
  EXPECT_EQ(running.priority_class_name, "system-cluster-critical");
  EXPECT_FALSE(running.preemption_policy.has_value());
  ASSERT_EQ(running.containers.size(), 1u);
  EXPECT_EQ(running.containers[0].name, "coredns");
  EXPECT_EQ(running.containers[0].requests.at("cpu").MilliValue(), 100);
  EXPECT_EQ(running.containers[0].requests.at("memory").Value(), int64_t{70} << 20);
  EXPECT_EQ(running.containers[0].limits.at("memory").Value(), int64_t{170} << 20);
  EXPECT_FALSE(running.containers[0].restart_policy.has_value());
  ASSERT_EQ(running.tolerations.size(), 2u);
  EXPECT_EQ(running.tolerations[0].key, "CriticalAddonsOnly");
  EXPECT_EQ(running.tolerations[0].op, TolerationOperator::kExists);
  EXPECT_EQ(running.tolerations[0].effect, TaintEffect::kNone);
  EXPECT_FALSE(running.tolerations[0].toleration_seconds.has_value());
  EXPECT_EQ(running.tolerations[1].effect, TaintEffect::kNoExecute);
  EXPECT_EQ(running.tolerations[1].toleration_seconds, 300);
  EXPECT_EQ(running.phase, "Running");
  EXPECT_EQ(running.qos_class_reported, "Burstable");
  EXPECT_EQ(running.start_unix_nanos, UnixNanos(2024, 5, 1, 10, 2, 3));
  EXPECT_EQ(running.creation_unix_nanos, UnixNanos(2024, 5, 1, 10, 2, 0));
  EXPECT_FALSE(running.deletion_unix_nanos.has_value());
  EXPECT_FALSE(running.nominated_node_name.has_value());
  ASSERT_EQ(running.container_statuses.size(), 1u);
  const ContainerStatus& status = running.container_statuses[0];
  EXPECT_EQ(status.name, "coredns");
  ASSERT_TRUE(status.allocated_resources.has_value());
  EXPECT_EQ(status.allocated_resources->at("cpu").MilliValue(), 100);
  ASSERT_TRUE(status.resource_requests.has_value());
  EXPECT_EQ(status.resource_requests->at("memory").Value(), int64_t{70} << 20);
  ASSERT_TRUE(status.resource_limits.has_value());
  EXPECT_EQ(status.resource_limits->size(), 1u);
  ASSERT_EQ(running.init_containers.size(), 1u);
  EXPECT_EQ(running.init_containers[0].requests.at("cpu").MilliValue(), 50);
  ASSERT_EQ(running.init_container_statuses.size(), 1u);
  EXPECT_EQ(running.init_container_statuses[0].name, "config-init");
  ASSERT_TRUE(running.init_container_statuses[0].allocated_resources.has_value());
  EXPECT_EQ(running.init_container_statuses[0].allocated_resources->at("cpu").MilliValue(), 50);
  EXPECT_FALSE(running.init_container_statuses[0].resource_requests.has_value());
}

TEST(SnapshotReaderTest, ReadsEveryFieldOfPendingPod) {
  absl::StatusOr<Snapshot> snapshot = ReadSnapshotFile(FixturePath("cluster.json"));
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  ASSERT_EQ(snapshot->pods.size(), 2u);
  const Pod& pod = snapshot->pods[1];

  EXPECT_EQ(pod.Key(), "ml/trainer-0");
  EXPECT_THAT(pod.labels, ElementsAre(Pair("app", "trainer"), Pair("team", "ml")));
  EXPECT_EQ(pod.node_name, "");
  EXPECT_EQ(pod.scheduler_name, "sextant");
  EXPECT_EQ(pod.priority, 1000000);
  EXPECT_EQ(pod.priority_class_name, "ml-high");
  EXPECT_EQ(pod.preemption_policy, PreemptionPolicy::kNever);

  ASSERT_EQ(pod.init_containers.size(), 2u);
  EXPECT_EQ(pod.init_containers[0].name, "fetch-weights");
  EXPECT_FALSE(pod.init_containers[0].restart_policy.has_value());
  EXPECT_EQ(pod.init_containers[1].name, "log-shipper");
  EXPECT_EQ(pod.init_containers[1].restart_policy, "Always");
  EXPECT_EQ(pod.init_containers[1].requests.at("memory").Value(), int64_t{128} << 20);
  ASSERT_EQ(pod.containers.size(), 2u);
  EXPECT_EQ(pod.containers[0].requests.at("nvidia.com/gpu").Value(), 4);
  EXPECT_EQ(pod.containers[0].limits.at("nvidia.com/gpu").Value(), 4);
  EXPECT_EQ(pod.containers[0].requests.at("cpu").MilliValue(), 16000);
  EXPECT_EQ(pod.containers[1].requests.size(), 1u);
  EXPECT_TRUE(pod.containers[1].limits.empty());
  EXPECT_EQ(pod.overhead.at("cpu").MilliValue(), 250);
  ASSERT_TRUE(pod.resources.has_value());
  EXPECT_EQ(pod.resources->requests.at("cpu").Value(), 20);
  EXPECT_EQ(pod.resources->limits.at("memory").Value(), int64_t{80} << 30);
  EXPECT_THAT(pod.node_selector, ElementsAre(Pair("kubernetes.io/arch", "amd64")));

  ASSERT_TRUE(pod.affinity.has_value());
  ASSERT_TRUE(pod.affinity->node_affinity.has_value());
  const NodeAffinity& node_affinity = *pod.affinity->node_affinity;
  ASSERT_TRUE(node_affinity.required.has_value());
  ASSERT_EQ(node_affinity.required->terms.size(), 1u);
  const NodeSelectorTerm& term = node_affinity.required->terms[0];
  ASSERT_EQ(term.match_expressions.size(), 2u);
  EXPECT_EQ(term.match_expressions[0].key, "nvidia.com/gpu.product");
  EXPECT_EQ(term.match_expressions[0].op, SelectorOperator::kExists);
  EXPECT_TRUE(term.match_expressions[0].values.empty());
  EXPECT_EQ(term.match_expressions[1].op, SelectorOperator::kGt);
  EXPECT_THAT(term.match_expressions[1].values, ElementsAre("3"));
  ASSERT_EQ(term.match_fields.size(), 1u);
  EXPECT_EQ(term.match_fields[0].key, "metadata.name");
  EXPECT_EQ(term.match_fields[0].op, SelectorOperator::kNotIn);
  EXPECT_THAT(term.match_fields[0].values, ElementsAre("gpu-1", "gpu-2"));
  ASSERT_EQ(node_affinity.preferred.size(), 1u);
  EXPECT_EQ(node_affinity.preferred[0].weight, 20);
  ASSERT_EQ(node_affinity.preferred[0].preference.match_expressions.size(), 1u);
  EXPECT_EQ(node_affinity.preferred[0].preference.match_expressions[0].op, SelectorOperator::kIn);

  ASSERT_TRUE(pod.affinity->pod_affinity.has_value());
  ASSERT_EQ(pod.affinity->pod_affinity->required.size(), 1u);
  EXPECT_TRUE(pod.affinity->pod_affinity->preferred.empty());
  const PodAffinityTerm& affinity_term = pod.affinity->pod_affinity->required[0];
  ASSERT_TRUE(affinity_term.label_selector.has_value());
  EXPECT_THAT(affinity_term.label_selector->match_labels,
              ElementsAre(Pair("app", "dataset-cache")));
  EXPECT_THAT(affinity_term.namespaces, ElementsAre("ml", "data"));
  EXPECT_EQ(affinity_term.topology_key, "topology.kubernetes.io/zone");
  ASSERT_TRUE(affinity_term.namespace_selector.has_value());
  ASSERT_EQ(affinity_term.namespace_selector->match_expressions.size(), 1u);
  EXPECT_EQ(affinity_term.namespace_selector->match_expressions[0].op, SelectorOperator::kNotIn);
  EXPECT_THAT(affinity_term.match_label_keys, ElementsAre("pod-template-hash"));
  EXPECT_THAT(affinity_term.mismatch_label_keys, ElementsAre("tenant"));

  ASSERT_TRUE(pod.affinity->pod_anti_affinity.has_value());
  EXPECT_TRUE(pod.affinity->pod_anti_affinity->required.empty());
  ASSERT_EQ(pod.affinity->pod_anti_affinity->preferred.size(), 1u);
  const WeightedPodAffinityTerm& anti = pod.affinity->pod_anti_affinity->preferred[0];
  EXPECT_EQ(anti.weight, 100);
  EXPECT_EQ(anti.term.topology_key, "kubernetes.io/hostname");
  ASSERT_TRUE(anti.term.label_selector.has_value());
  ASSERT_EQ(anti.term.label_selector->match_expressions.size(), 1u);
  EXPECT_EQ(anti.term.label_selector->match_expressions[0].key, "app");
  EXPECT_FALSE(anti.term.namespace_selector.has_value());

  ASSERT_EQ(pod.tolerations.size(), 3u);
  EXPECT_EQ(pod.tolerations[0].effect, TaintEffect::kNoSchedule);
  EXPECT_EQ(pod.tolerations[1].op, TolerationOperator::kEqual);
  EXPECT_EQ(pod.tolerations[1].value, "ml");
  EXPECT_EQ(pod.tolerations[1].effect, TaintEffect::kNone);
  EXPECT_EQ(pod.tolerations[2].toleration_seconds, 60);

  ASSERT_EQ(pod.topology_spread_constraints.size(), 2u);
  const TopologySpreadConstraint& zone = pod.topology_spread_constraints[0];
  EXPECT_EQ(zone.max_skew, 2);
  EXPECT_EQ(zone.topology_key, "topology.kubernetes.io/zone");
  EXPECT_EQ(zone.when_unsatisfiable, UnsatisfiableConstraintAction::kScheduleAnyway);
  ASSERT_TRUE(zone.label_selector.has_value());
  EXPECT_THAT(zone.label_selector->match_labels, ElementsAre(Pair("app", "trainer")));
  EXPECT_EQ(zone.min_domains, 3);
  EXPECT_EQ(zone.node_affinity_policy, NodeInclusionPolicy::kIgnore);
  EXPECT_EQ(zone.node_taints_policy, NodeInclusionPolicy::kHonor);
  EXPECT_THAT(zone.match_label_keys, ElementsAre("pod-template-hash"));
  const TopologySpreadConstraint& host = pod.topology_spread_constraints[1];
  EXPECT_EQ(host.when_unsatisfiable, UnsatisfiableConstraintAction::kDoNotSchedule);
  EXPECT_FALSE(host.label_selector.has_value());
  EXPECT_FALSE(host.min_domains.has_value());
  EXPECT_FALSE(host.node_affinity_policy.has_value());
  EXPECT_FALSE(host.node_taints_policy.has_value());

  EXPECT_EQ(pod.phase, "Pending");
  EXPECT_EQ(pod.nominated_node_name, "gpu-3");
  EXPECT_EQ(pod.resize_status, "Deferred");
  EXPECT_FALSE(pod.start_unix_nanos.has_value());
  EXPECT_EQ(pod.creation_unix_nanos, UnixNanos(2024, 5, 2, 9, 30, 0));
}

TEST(SnapshotReaderTest, ReadsPriorityClassesAndDisruptionBudgets) {
  absl::StatusOr<Snapshot> snapshot = ReadSnapshotFile(FixturePath("cluster.json"));
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  ASSERT_EQ(snapshot->priority_classes.size(), 2u);
  EXPECT_EQ(snapshot->priority_classes[0].name, "ml-high");
  EXPECT_EQ(snapshot->priority_classes[0].value, 1000000);
  EXPECT_FALSE(snapshot->priority_classes[0].global_default);
  EXPECT_EQ(snapshot->priority_classes[0].preemption_policy,
            PreemptionPolicy::kPreemptLowerPriority);
  EXPECT_EQ(snapshot->priority_classes[1].name, "batch-default");
  EXPECT_EQ(snapshot->priority_classes[1].value, -10);
  EXPECT_TRUE(snapshot->priority_classes[1].global_default);
  EXPECT_EQ(snapshot->priority_classes[1].preemption_policy, PreemptionPolicy::kNever);

  ASSERT_EQ(snapshot->pod_disruption_budgets.size(), 2u);
  const PodDisruptionBudget& trainer = snapshot->pod_disruption_budgets[0];
  EXPECT_EQ(trainer.name_space, "ml");
  EXPECT_EQ(trainer.name, "trainer-pdb");
  ASSERT_TRUE(trainer.selector.has_value());
  EXPECT_THAT(trainer.selector->match_labels, ElementsAre(Pair("app", "trainer")));
  ASSERT_TRUE(trainer.min_available.has_value());
  EXPECT_EQ(trainer.min_available->value, 50);
  EXPECT_TRUE(trainer.min_available->is_percent);
  EXPECT_FALSE(trainer.max_unavailable.has_value());
  EXPECT_EQ(trainer.disruptions_allowed, 0);
  const PodDisruptionBudget& dns = snapshot->pod_disruption_budgets[1];
  EXPECT_EQ(dns.name_space, "kube-system");
  ASSERT_TRUE(dns.max_unavailable.has_value());
  EXPECT_EQ(dns.max_unavailable->value, 1);
  EXPECT_FALSE(dns.max_unavailable->is_percent);
  EXPECT_FALSE(dns.min_available.has_value());
  EXPECT_EQ(dns.disruptions_allowed, 1);
}

TEST(SnapshotReaderTest, ReadsTypedListWhoseItemsHaveNoKind) {
  absl::StatusOr<Snapshot> snapshot = ReadSnapshotFile(FixturePath("node_list.json"));
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  ASSERT_EQ(snapshot->nodes.size(), 2u);
  EXPECT_EQ(snapshot->nodes[0].name, "worker-a");
  EXPECT_EQ(snapshot->nodes[0].allocatable.at("cpu").MilliValue(), 3500);
  EXPECT_EQ(snapshot->nodes[1].name, "worker-b");
  ASSERT_EQ(snapshot->nodes[1].taints.size(), 1u);
  EXPECT_EQ(snapshot->nodes[1].taints[0].effect, TaintEffect::kPreferNoSchedule);
  EXPECT_TRUE(snapshot->pods.empty());
}

TEST(SnapshotReaderTest, ReadsPodListForm) {
  absl::StatusOr<Snapshot> snapshot = ParseSnapshot(R"({
      "kind": "PodList", "apiVersion": "v1",
      "items": [{"metadata": {"name": "a", "namespace": "team"}, "spec": {}},
                {"metadata": {"name": "b", "namespace": "team"}, "spec": {}}]})");
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  ASSERT_EQ(snapshot->pods.size(), 2u);
  EXPECT_EQ(snapshot->pods[1].Key(), "team/b");
}

TEST(SnapshotReaderTest, ReadsSingleTopLevelObject) {
  absl::StatusOr<Snapshot> snapshot = ParseSnapshot(PodWithSpec(R"("nodeName": "n1")"));
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  ASSERT_EQ(snapshot->pods.size(), 1u);
  EXPECT_EQ(snapshot->pods[0].node_name, "n1");
}

TEST(SnapshotReaderTest, ReadsPodResourceClaimNames) {
  absl::StatusOr<Snapshot> snapshot = ParseSnapshot(PodWithSpec(R"(
      "resourceClaims": [{"name": "gpu", "resourceClaimTemplateName": "two-gpus"},
                         {"name": "nic", "resourceClaimName": "shared-nic"}])"));
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  ASSERT_EQ(snapshot->pods.size(), 1u);
  ASSERT_EQ(snapshot->pods[0].resource_claims.size(), 2u);
  EXPECT_EQ(snapshot->pods[0].resource_claims[0].name, "gpu");
  EXPECT_EQ(snapshot->pods[0].resource_claims[0].resource_claim_template_name, "two-gpus");
  EXPECT_FALSE(snapshot->pods[0].resource_claims[0].resource_claim_name.has_value());
  EXPECT_EQ(snapshot->pods[0].resource_claims[1].name, "nic");

  absl::StatusOr<Snapshot> bad = ParseSnapshot(PodWithSpec(R"("resourceClaims": [{"name": 3}])"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("spec.resourceClaims[0].name"), std::string::npos)
      << bad.status();
}

TEST(SnapshotReaderTest, DropsTerminatedPodsOnly) {
  std::vector<std::string> pods;
  for (const char* phase : {"Succeeded", "Failed", "Pending", "Running", "Unknown"}) {
    pods.push_back(absl::StrCat(R"({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": ")",
                                phase, R"("}, "status": {"phase": ")", phase, R"("}})"));
  }
  absl::StatusOr<Snapshot> snapshot = ParseSnapshot(
      List(absl::StrCat(pods[0], ",", pods[1], ",", pods[2], ",", pods[3], ",", pods[4])));
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  ASSERT_EQ(snapshot->pods.size(), 3u);
  EXPECT_EQ(snapshot->pods[0].name, "Pending");
  EXPECT_EQ(snapshot->pods[1].name, "Running");
  EXPECT_EQ(snapshot->pods[2].name, "Unknown");
}

TEST(SnapshotReaderTest, SkipsUnknownKindsAndFields) {
  absl::StatusOr<Snapshot> snapshot = ParseSnapshot(List(R"(
      {"apiVersion": "resource.k8s.io/v1", "kind": "DeviceTaintRule", "metadata": {"name": 5}},
      {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaimTemplate", "spec": []},
      {"apiVersion": "example.com/v1", "kind": "ResourceSlice", "metadata": {"name": 5}},
      {"apiVersion": "example.com/v1", "kind": "Node", "metadata": {"name": "crd-node"},
       "spec": {"taints": "not a list"}},
      {"apiVersion": "v1", "kind": "Node", "futureField": {"x": [1, 2]},
       "metadata": {"name": "n1", "newMetadataField": true},
       "spec": {"unknownSpec": 1, "taints": [{"key": "k", "effect": "NoExecute", "extra": 3}]},
       "status": {"declaredFeatures": ["X"], "capacity": {"cpu": "2"}}})"));
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  ASSERT_EQ(snapshot->nodes.size(), 1u);
  EXPECT_EQ(snapshot->nodes[0].name, "n1");
  ASSERT_EQ(snapshot->nodes[0].taints.size(), 1u);
  EXPECT_EQ(snapshot->nodes[0].taints[0].effect, TaintEffect::kNoExecute);
  EXPECT_EQ(snapshot->nodes[0].capacity.at("cpu").Value(), 2);
}

TEST(SnapshotReaderTest, AppliesApiDefaults) {
  absl::StatusOr<Snapshot> snapshot = ParseSnapshot(List(R"(
      {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": null,
                                                       "creationTimestamp": null},
       "spec": {"schedulerName": "", "tolerations": [{"key": "k", "operator": "", "effect": ""}],
                "affinity": {}, "containers": null}},
      {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "b"},
       "spec": {"selector": {}}},
      {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "pc"},
       "value": 7})"));
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  ASSERT_EQ(snapshot->pods.size(), 1u);
  const Pod& pod = snapshot->pods[0];
  EXPECT_EQ(pod.name_space, "default");
  EXPECT_EQ(pod.scheduler_name, "default-scheduler");
  EXPECT_FALSE(pod.priority.has_value());
  EXPECT_EQ(pod.creation_unix_nanos, 0);
  ASSERT_EQ(pod.tolerations.size(), 1u);
  EXPECT_EQ(pod.tolerations[0].op, TolerationOperator::kEqual);
  EXPECT_EQ(pod.tolerations[0].effect, TaintEffect::kNone);
  // An empty affinity object is kept, distinct from none at all.
  ASSERT_TRUE(pod.affinity.has_value());
  EXPECT_FALSE(pod.affinity->node_affinity.has_value());
  EXPECT_FALSE(pod.resources.has_value());
  ASSERT_EQ(snapshot->pod_disruption_budgets.size(), 1u);
  EXPECT_EQ(snapshot->pod_disruption_budgets[0].name_space, "default");
  // An empty PDB selector (matches every pod in policy/v1) is kept, distinct from none.
  EXPECT_TRUE(snapshot->pod_disruption_budgets[0].selector.has_value());
  ASSERT_EQ(snapshot->priority_classes.size(), 1u);
  EXPECT_EQ(snapshot->priority_classes[0].value, 7);
  EXPECT_EQ(snapshot->priority_classes[0].preemption_policy,
            PreemptionPolicy::kPreemptLowerPriority);
}

TEST(SnapshotReaderTest, ParsesFractionalAndOffsetTimestamps) {
  absl::StatusOr<Snapshot> snapshot = ParseSnapshot(List(R"(
      {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "p", "creationTimestamp": "2024-05-01T10:00:00.25Z",
                    "deletionTimestamp": "2024-05-01T12:30:00+02:00"},
       "status": {"startTime": "2024-05-01T10:00:01.000000001Z"}})"));
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  const Pod& pod = snapshot->pods.at(0);
  EXPECT_EQ(pod.creation_unix_nanos, UnixNanos(2024, 5, 1, 10, 0, 0) + 250'000'000);
  EXPECT_EQ(pod.deletion_unix_nanos, UnixNanos(2024, 5, 1, 10, 30, 0));
  EXPECT_EQ(pod.start_unix_nanos, UnixNanos(2024, 5, 1, 10, 0, 1) + 1);
}

TEST(SnapshotReaderTest, AcceptsNumericQuantitiesAsUpstreamDoes) {
  absl::StatusOr<Snapshot> snapshot = ParseSnapshot(List(R"(
      {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"},
       "status": {"allocatable": {"cpu": 4, "nvidia.com/gpu": 8, "memory": " 1Gi "}}})"));
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_EQ(snapshot->nodes.at(0).allocatable.at("cpu").MilliValue(), 4000);
  EXPECT_EQ(snapshot->nodes.at(0).allocatable.at("nvidia.com/gpu").Value(), 8);
  EXPECT_EQ(snapshot->nodes.at(0).allocatable.at("memory").Value(), int64_t{1} << 30);
}

TEST(SnapshotReaderTest, SameNameInOtherKindOrNamespaceIsNotDuplicate) {
  absl::StatusOr<Snapshot> snapshot = ParseSnapshot(List(R"(
      {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "namespace": "a"}},
      {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "namespace": "b"}},
      {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
       "metadata": {"name": "x", "namespace": "a"}},
      {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "x"}})"));
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_EQ(snapshot->pods.size(), 2u);
  EXPECT_EQ(snapshot->pod_disruption_budgets.size(), 1u);
  EXPECT_EQ(snapshot->nodes.size(), 1u);
}

TEST(SnapshotReaderTest, MissingFileIsNotFound) {
  absl::StatusOr<Snapshot> snapshot = ReadSnapshotFile(FixturePath("does_not_exist.json"));
  EXPECT_EQ(snapshot.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(ErrorMessage(snapshot), HasSubstr("does_not_exist.json"));
}

TEST(SnapshotReaderTest, UnreadableFileIsInternal) {
  // A directory opens but cannot be read.
  absl::StatusOr<Snapshot> snapshot = ReadSnapshotFile(FixturePath(""));
  EXPECT_EQ(snapshot.status().code(), absl::StatusCode::kInternal);
}

struct ErrorCase {
  std::string rule;      // what the case pins
  std::string json;      // the whole snapshot text
  std::string expected;  // a substring of the error message: the object, the path, the problem
};

// One bad field per case. Each message must name the object and the JSON path of the field.
std::vector<ErrorCase> ErrorCases() {
  auto node = [](const std::string& body) {
    return List(absl::StrCat(R"({"apiVersion": "v1", "kind": "Node",
                                 "metadata": {"name": "gpu-3"}, )",
                             body, "}"));
  };
  auto pod = [](const std::string& spec) { return List(PodWithSpec(spec)); };
  auto container = [](const std::string& resources) {
    return List(PodWithSpec(absl::StrCat(R"("containers": [{"name": "a"}, {"name": "b",
                                             "resources": )",
                                         resources, "}]")));
  };
  auto pdb = [](const std::string& spec) {
    return List(absl::StrCat(R"({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                                 "metadata": {"name": "db", "namespace": "prod"}, "spec": )",
                             spec, "}"));
  };
  auto priority_class = [](const std::string& fields) {
    return List(absl::StrCat(R"({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                                 "metadata": {"name": "high"}, )",
                             fields, "}"));
  };
  const std::string required_term =
      R"("affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
           {"nodeSelectorTerms": [{"matchExpressions": [{"key": "k", "operator": "in"}]}]}}})";
  return {
      {"InvalidJsonNamesPosition", "{\"items\": [\n  {\"kind\": \"Pod\",}\n]}",
       "invalid JSON: parse error at line 2, column 18"},
      {"TruncatedJson", R"({"kind": "List", "items": [)", "invalid JSON: parse error at line 1"},
      {"TopLevelNotObject", "[]", "snapshot: expected a JSON object, got array"},
      {"ItemsNotArray", R"({"kind": "List", "items": {}})", "items: expected an array, got object"},
      {"ItemNotObject", List(R"("Pod")"), "items[0]: expected an object, got string"},
      {"ItemWithoutKind", List(R"({"metadata": {"name": "x"}})"),
       "items[0]: kind: required field is missing"},
      {"MissingName", List(R"({"kind": "Pod", "metadata": {"namespace": "default"}})"),
       "Pod at items[0]: metadata.name: required field is missing"},
      {"EmptyName", List(R"({"kind": "Node", "metadata": {"name": ""}})"),
       "Node at items[0]: metadata.name: required field is missing"},
      {"NameWrongType", List(R"({"kind": "Node", "metadata": {"name": 3}})"),
       "Node at items[0]: metadata.name: expected a string, got number"},
      {"MetadataWrongType", List(R"({"kind": "Pod", "metadata": "web-0"})"),
       "Pod at items[0]: metadata: expected an object, got string"},
      {"UnsupportedVersion", List(R"({"apiVersion": "policy/v1beta1", "kind": "PodDisruptionBudget",
                "metadata": {"name": "db"}})"),
       "PodDisruptionBudget at items[0]: apiVersion: unsupported version \"policy/v1beta1\""},
      {"DuplicatePod", List(absl::StrCat(PodWithSpec(""), ",", PodWithSpec(""))),
       "Pod \"default/web-0\": duplicate object (at items[0] and again at items[1])"},
      {"DuplicateNode",
       List(R"({"kind": "Node", "metadata": {"name": "n"}}, {"kind": "Pod", "metadata":
               {"name": "n"}}, {"kind": "Node", "metadata": {"name": "n"}})"),
       "Node \"n\": duplicate object (at items[0] and again at items[2])"},
      {"SpecFieldWrongType", pod(R"("nodeName": 5)"),
       "Pod \"default/web-0\": spec.nodeName: expected a string, got number"},
      {"ArrayWrongType", pod(R"("containers": {"name": "a"})"),
       "Pod \"default/web-0\": spec.containers: expected an array, got object"},
      {"BoolWrongType", node(R"("spec": {"unschedulable": "true"})"),
       "Node \"gpu-3\": spec.unschedulable: expected a boolean, got string"},
      {"LabelValueWrongType", List(R"({"kind": "Node", "metadata": {"name": "gpu-3",
                "labels": {"app.kubernetes.io/name": 1}}})"),
       "Node \"gpu-3\": metadata.labels[\"app.kubernetes.io/name\"]: expected a string, got "
       "number"},
      {"BadQuantity", container(R"({"requests": {"cpu": "1.5.5"}})"),
       "Pod \"default/web-0\": spec.containers[1].resources.requests.cpu: "},
      {"BadLimitQuantity", container(R"({"limits": {"memory": "12Gb"}})"),
       "Pod \"default/web-0\": spec.containers[1].resources.limits.memory: "},
      {"QuantityWrongType", container(R"({"requests": {"cpu": true}})"),
       "spec.containers[1].resources.requests.cpu: expected a quantity string, got boolean"},
      {"BadExtendedResourceQuantity",
       node(R"("status": {"allocatable": {"nvidia.com/gpu": "eight"}})"),
       "Node \"gpu-3\": status.allocatable[\"nvidia.com/gpu\"]: "},
      {"BadStatusQuantity",
       List(R"({"kind": "Pod", "metadata": {"name": "p", "namespace": "ns"}, "status":
               {"containerStatuses": [{"name": "c", "allocatedResources": {"cpu": "x"}}]}})"),
       "Pod \"ns/p\": status.containerStatuses[0].allocatedResources.cpu: "},
      {"UnknownTaintEffect",
       node(R"("spec": {"taints": [{"key": "nvidia.com/gpu", "effect": "NoScheduel"}]})"),
       "Node \"gpu-3\": spec.taints[0].effect: unknown taint effect \"NoScheduel\""},
      {"TaintWithoutEffect", node(R"("spec": {"taints": [{"key": "k", "effect": "NoSchedule"},
                                                         {"key": "k"}]})"),
       "Node \"gpu-3\": spec.taints[1].effect: required field is missing"},
      {"UnknownTolerationEffect", pod(R"("tolerations": [{"key": "k", "effect": "NoExec"}])"),
       "spec.tolerations[0].effect: unknown taint effect \"NoExec\""},
      {"UnknownTolerationOperator", pod(R"("tolerations": [{"key": "k", "operator": "Equals"}])"),
       "Pod \"default/web-0\": spec.tolerations[0].operator: unknown toleration operator "
       "\"Equals\""},
      {"TolerationSecondsNotInteger",
       pod(R"("tolerations": [{"key": "k", "operator": "Exists", "tolerationSeconds": 1.5}])"),
       "spec.tolerations[0].tolerationSeconds: expected an integer, got 1.5"},
      {"UnknownNodeSelectorOperator", pod(required_term),
       "Pod \"default/web-0\": spec.affinity.nodeAffinity."
       "requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0]."
       "operator: unknown node selector operator \"in\""},
      {"MissingSelectorOperator",
       pod(R"("affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
             [{"topologyKey": "z", "labelSelector": {"matchExpressions": [{"key": "k"}]}}]}})"),
       "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]."
       "labelSelector.matchExpressions[0].operator: required field is missing"},
      {"GtInLabelSelector", pod(R"("topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "z",
             "whenUnsatisfiable": "DoNotSchedule",
             "labelSelector": {"matchExpressions": [{"key": "k", "operator": "Gt"}]}}])"),
       "spec.topologySpreadConstraints[0].labelSelector.matchExpressions[0].operator: "
       "unknown label selector operator \"Gt\""},
      {"UnknownWhenUnsatisfiable",
       pod(R"("topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "z",
             "whenUnsatisfiable": "DoNotScheduleAnyway"}])"),
       "spec.topologySpreadConstraints[0].whenUnsatisfiable: unknown whenUnsatisfiable action "
       "\"DoNotScheduleAnyway\""},
      {"UnknownNodeAffinityPolicy",
       pod(R"("topologySpreadConstraints": [{"topologyKey": "z", "nodeAffinityPolicy": "honor"}])"),
       "spec.topologySpreadConstraints[0].nodeAffinityPolicy: unknown node inclusion policy "
       "\"honor\""},
      {"UnknownNodeTaintsPolicy",
       pod(R"("topologySpreadConstraints": [{"topologyKey": "z", "nodeTaintsPolicy": "Skip"}])"),
       "spec.topologySpreadConstraints[0].nodeTaintsPolicy: unknown node inclusion policy "
       "\"Skip\""},
      {"UnknownPodPreemptionPolicy", pod(R"("preemptionPolicy": "Sometimes")"),
       "Pod \"default/web-0\": spec.preemptionPolicy: unknown preemption policy \"Sometimes\""},
      {"UnknownPriorityClassPreemptionPolicy",
       priority_class(R"("value": 10, "preemptionPolicy": "never")"),
       "PriorityClass \"high\": preemptionPolicy: unknown preemption policy \"never\""},
      {"PriorityOutOfRange", pod(R"("priority": 3000000000)"),
       "Pod \"default/web-0\": spec.priority: integer 3000000000 out of range for int32"},
      {"NegativePriorityOutOfRange", pod(R"("priority": -2147483649)"),
       "spec.priority: integer -2147483649 out of range for int32"},
      {"PriorityClassValueOutOfRange", priority_class(R"("value": 4294967296)"),
       "PriorityClass \"high\": value: integer 4294967296 out of range for int32"},
      {"TolerationSecondsOutOfRange",
       pod(R"("tolerations": [{"key": "k", "tolerationSeconds": 9223372036854775808}])"),
       "spec.tolerations[0].tolerationSeconds: integer 9223372036854775808 out of range for int64"},
      {"WeightWrongType",
       pod(R"("affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution":
             [{"weight": "10", "preference": {}}]}})"),
       "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: "
       "expected an integer, got string"},
      {"BadTimestamp",
       List(R"({"kind": "Pod", "metadata": {"name": "p", "creationTimestamp": "2024-13-01"}})"),
       "Pod \"default/p\": metadata.creationTimestamp: invalid RFC 3339 timestamp \"2024-13-01\""},
      {"BadMinAvailable", pdb(R"({"minAvailable": "abc"})"),
       "PodDisruptionBudget \"prod/db\": spec.minAvailable: invalid int or percentage \"abc\""},
      {"PercentWithoutDigits", pdb(R"({"maxUnavailable": "%"})"),
       "spec.maxUnavailable: invalid int or percentage \"%\""},
      {"NegativeMaxUnavailable", pdb(R"({"maxUnavailable": -1})"),
       "PodDisruptionBudget \"prod/db\": spec.maxUnavailable: must be non-negative"},
      {"DisruptionsAllowedWrongType",
       List(R"({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                "metadata": {"name": "db", "namespace": "prod"},
                "status": {"disruptionsAllowed": "1"}})"),
       "PodDisruptionBudget \"prod/db\": status.disruptionsAllowed: expected an integer"},
  };
}

TEST(SnapshotReaderTest, RejectsMalformedInputNamingObjectAndField) {
  for (const ErrorCase& error_case : ErrorCases()) {
    SCOPED_TRACE(error_case.rule);
    absl::StatusOr<Snapshot> snapshot = ParseSnapshot(error_case.json);
    ASSERT_FALSE(snapshot.ok());
    EXPECT_EQ(snapshot.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(ErrorMessage(snapshot), HasSubstr(error_case.expected));
  }
}

TEST(SnapshotReaderTest, QuantityErrorCarriesParserMessage) {
  absl::StatusOr<Snapshot> snapshot =
      ParseSnapshot(List(PodWithSpec(R"("overhead": {"cpu": "1.5.5"})")));
  ASSERT_FALSE(snapshot.ok());
  const std::string message = ErrorMessage(snapshot);
  const std::string prefix = "Pod \"default/web-0\": spec.overhead.cpu: ";
  ASSERT_THAT(message, HasSubstr(prefix));
  // Whatever Quantity::Parse says follows the path.
  EXPECT_GT(message.size(), prefix.size());
}

TEST(SnapshotReaderTest, FileErrorNamesTheFile) {
  const std::string path = absl::StrCat(::testing::TempDir(), "/snapshot_reader_truncated.json");
  std::FILE* file = std::fopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  std::fputs("{\"kind\": \"List\", \"items\": [", file);
  std::fclose(file);
  absl::StatusOr<Snapshot> snapshot = ReadSnapshotFile(path);
  std::remove(path.c_str());
  ASSERT_FALSE(snapshot.ok());
  EXPECT_EQ(snapshot.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ErrorMessage(snapshot), HasSubstr("snapshot_reader_truncated.json: invalid JSON"));
}

}  // namespace
}  // namespace sextant
