// Sync never half-applies: every kind of rejected message leaves the engine's state digest
// (ClusterState::Digest with the applied sequence) byte for byte as it was, and a delta out of
// sequence (a gap, a duplicate, an older one) answers resync_required without applying anything.
// Driven in-process through EngineService::ApplySyncRequest, the per-message path of Sync.
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/convert.h"
#include "server/service.h"
#include "sextant/engine.h"
#include "testing/builders.h"
#include "testing/sync_requests.h"

namespace sextant::server {
namespace {

using testutil::Delete;
using testutil::Delta;
using testutil::Full;
using testutil::NodeBuilder;
using testutil::PodBuilder;
using testutil::PodChange;

v1::Change NodeChange(const std::string& name, std::string_view cpu) {
  v1::Change change;
  ToProto(ClusterChange(NodeBuilder(name)
                            .Label("zone", "a")
                            .Allocatable({{"cpu", cpu}, {"memory", "32Gi"}, {"pods", "110"}})
                            .Build()),
          &change);
  return change;
}

v1::Pod PodProto(const std::string& name, std::string_view cpu, const std::string& node = "") {
  PodBuilder builder("default", name);
  builder.Container({{"cpu", cpu}, {"memory", "1Gi"}}).Label("app", "web");
  if (!node.empty()) builder.NodeName(node).Phase("Running");
  v1::Pod pod;
  ToProto(builder.Build(), &pod);
  return pod;
}

class SyncDigestTest : public ::testing::Test {
 protected:
  SyncDigestTest()
      : engine_([] {
          EngineOptions options;
          options.epoch = "digest-epoch";
          options.profile.parallelism = 1;
          return options;
        }()),
        service_(&engine_) {}

  void SetUp() override {
    v1::Change ns;
    ns.mutable_upsert_namespace()->set_name("default");
    (*ns.mutable_upsert_namespace()->mutable_labels())["team"] = "web";
    v1::Change pc;
    pc.mutable_upsert_priority_class()->set_name("high");
    pc.mutable_upsert_priority_class()->set_value(1000);
    v1::Change pdb;
    pdb.mutable_upsert_pod_disruption_budget()->set_namespace_("default");
    pdb.mutable_upsert_pod_disruption_budget()->set_name("web");
    (*pdb.mutable_upsert_pod_disruption_budget()
          ->mutable_selector()
          ->mutable_match_labels())["app"] = "web";
    v1::Pod nominated = PodProto("pending", "1");
    nominated.set_nominated_node_name("node-a");
    ASSERT_TRUE(
        Apply(Full(1, {NodeChange("node-a", "4"), NodeChange("node-b", "2"), ns, pc, pdb,
                       PodChange(PodProto("web-0", "1", "node-a")),
                       PodChange(PodProto("web-1", "500m", "node-b")), PodChange(nominated)}))
            .ok());
    ASSERT_TRUE(Apply(Delta(2, {PodChange(PodProto("web-2", "1", "node-a"))})).ok());
    ASSERT_TRUE(engine_.CheckConsistency().ok());
  }

  grpc::Status Apply(const v1::SyncRequest& request) {
    return service_.ApplySyncRequest(request, "test", &response_);
  }

  Engine engine_;
  EngineService service_;
  v1::SyncResponse response_;
};

TEST_F(SyncDigestTest, DigestIsStableAndChangesWithTheState) {
  const std::string digest = engine_.StateDigest();
  EXPECT_EQ(engine_.StateDigest(), digest);
  ASSERT_TRUE(Apply(Delta(3, {PodChange(PodProto("web-3", "100m", "node-b"))})).ok());
  EXPECT_NE(engine_.StateDigest(), digest);
}

TEST_F(SyncDigestTest, DigestIgnoresUpdateOrder) {
  // The same objects applied in another order give the same digest (sequence aside).
  Engine other([] {
    EngineOptions options;
    options.epoch = "other";
    options.profile.parallelism = 1;
    return options;
  }());
  EngineService service(&other);
  v1::Change ns;
  ns.mutable_upsert_namespace()->set_name("default");
  (*ns.mutable_upsert_namespace()->mutable_labels())["team"] = "web";
  v1::Change pc;
  pc.mutable_upsert_priority_class()->set_name("high");
  pc.mutable_upsert_priority_class()->set_value(1000);
  v1::Change pdb;
  pdb.mutable_upsert_pod_disruption_budget()->set_namespace_("default");
  pdb.mutable_upsert_pod_disruption_budget()->set_name("web");
  (*pdb.mutable_upsert_pod_disruption_budget()->mutable_selector()->mutable_match_labels())["app"] =
      "web";
  v1::Pod nominated = PodProto("pending", "1");
  nominated.set_nominated_node_name("node-a");
  v1::SyncResponse response;
  ASSERT_TRUE(
      service
          .ApplySyncRequest(
              Full(2,
                   {PodChange(PodProto("web-2", "1", "node-a")), PodChange(nominated), pdb,
                    PodChange(PodProto("web-1", "500m", "node-b")), NodeChange("node-b", "2"), pc,
                    ns, PodChange(PodProto("web-0", "1", "node-a")), NodeChange("node-a", "4")}),
              "test", &response)
          .ok());
  EXPECT_EQ(other.StateDigest(), engine_.StateDigest());
}

// A change the edge or the engine refuses.
struct BadChange {
  std::string name;
  std::function<v1::Change()> make;
};

// Test names and failure messages show the case's name, not its bytes.
void PrintTo(const BadChange& change, std::ostream* os) { *os << change.name; }

std::vector<BadChange> BadChanges() {
  return {
      {"NodeWithoutName",
       [] {
         v1::Change c = NodeChange("x", "1");
         c.mutable_upsert_node()->clear_name();
         return c;
       }},
      {"NodeBadQuantity",
       [] {
         v1::Change c = NodeChange("node-c", "1");
         (*c.mutable_upsert_node()->mutable_allocatable()->mutable_items())["memory"] = "12XB";
         return c;
       }},
      {"NodeBadTaintEffect",
       [] {
         v1::Change c = NodeChange("node-a", "8");
         v1::Taint* taint = c.mutable_upsert_node()->add_taints();
         taint->set_key("gpu");
         taint->set_effect("NoScheduel");
         return c;
       }},
      {"PodWithoutNamespace",
       [] {
         v1::Pod pod = PodProto("web-9", "1", "node-a");
         pod.clear_namespace_();
         return PodChange(pod);
       }},
      {"PodBadRequest",
       [] {
         v1::Pod pod = PodProto("web-0", "1", "node-a");
         (*pod.mutable_containers(0)->mutable_requests()->mutable_items())["cpu"] = "1.5.5";
         return PodChange(pod);
       }},
      {"PodBadSelectorOperator",
       [] {
         v1::Pod pod = PodProto("web-1", "1", "node-b");
         v1::PodAffinityTerm* term =
             pod.mutable_affinity()
                 ->mutable_pod_anti_affinity()
                 ->add_required_during_scheduling_ignored_during_execution();
         term->set_topology_key("zone");
         v1::SelectorRequirement* r = term->mutable_label_selector()->add_match_expressions();
         r->set_key("app");
         r->set_operator_("Near");
         return PodChange(pod);
       }},
      {"PodBadToleration",
       [] {
         v1::Pod pod = PodProto("web-0", "1", "node-a");
         pod.add_tolerations()->set_operator_("Maybe");
         return PodChange(pod);
       }},
      {"PodBadSpreadPolicy",
       [] {
         v1::Pod pod = PodProto("pending", "1");
         v1::TopologySpreadConstraint* c = pod.add_topology_spread_constraints();
         c->set_max_skew(1);
         c->set_topology_key("zone");
         c->set_when_unsatisfiable("Sometimes");
         return PodChange(pod);
       }},
      {"NamespaceWithoutName",
       [] {
         v1::Change c;
         (*c.mutable_upsert_namespace()->mutable_labels())["team"] = "x";
         return c;
       }},
      {"PriorityClassBadPolicy",
       [] {
         v1::Change c;
         c.mutable_upsert_priority_class()->set_name("high");
         c.mutable_upsert_priority_class()->set_preemption_policy("Sometimes");
         return c;
       }},
      {"DisruptionBudgetBadSelector",
       [] {
         v1::Change c;
         c.mutable_upsert_pod_disruption_budget()->set_namespace_("default");
         c.mutable_upsert_pod_disruption_budget()->set_name("web");
         v1::SelectorRequirement* r =
             c.mutable_upsert_pod_disruption_budget()->mutable_selector()->add_match_expressions();
         r->set_key("app");
         r->set_operator_("Like");
         return c;
       }},
      {"DeleteOfUnspecifiedKind", [] { return Delete(v1::ObjectRef::KIND_UNSPECIFIED, "", "x"); }},
      {"DeleteWithoutName", [] { return Delete(v1::ObjectRef::NODE, "", ""); }},
      {"EmptyChange", [] { return v1::Change(); }},
  };
}

class RejectedDeltaTest : public SyncDigestTest, public ::testing::WithParamInterface<BadChange> {};

TEST_P(RejectedDeltaTest, MixedBatchWithBadLastChangeLeavesDigestUnchanged) {
  const std::string before = engine_.StateDigest();
  // Valid changes of every kind first, the bad one last: all or nothing.
  v1::Change pc;
  pc.mutable_upsert_priority_class()->set_name("low");
  v1::Change ns;
  ns.mutable_upsert_namespace()->set_name("other");
  const grpc::Status status =
      Apply(Delta(3, {NodeChange("node-c", "16"), PodChange(PodProto("web-3", "1", "node-c")),
                      Delete(v1::ObjectRef::POD, "default", "web-0"),
                      Delete(v1::ObjectRef::NODE, "", "node-b"), pc, ns, GetParam().make()}));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_EQ(engine_.StateDigest(), before);
  EXPECT_EQ(engine_.applied_sequence(), 2u);
  EXPECT_TRUE(engine_.CheckConsistency().ok());
  // The sequence was not consumed: the same sequence, valid, applies.
  ASSERT_TRUE(Apply(Delta(3, {NodeChange("node-c", "16")})).ok());
  EXPECT_FALSE(response_.resync_required());
  EXPECT_EQ(engine_.applied_sequence(), 3u);
}

TEST_P(RejectedDeltaTest, BadChangeAloneLeavesDigestUnchanged) {
  const std::string before = engine_.StateDigest();
  EXPECT_FALSE(Apply(Delta(3, {GetParam().make()})).ok());
  EXPECT_EQ(engine_.StateDigest(), before);
}

TEST_P(RejectedDeltaTest, SnapshotWithBadLastObjectLeavesDigestUnchanged) {
  // Deletes are refused in a snapshot whatever they name.
  const std::string before = engine_.StateDigest();
  EXPECT_EQ(Apply(Full(7, {NodeChange("node-z", "1"), GetParam().make()})).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(engine_.StateDigest(), before);
}

INSTANTIATE_TEST_SUITE_P(EveryKind, RejectedDeltaTest, ::testing::ValuesIn(BadChanges()),
                         [](const ::testing::TestParamInfo<BadChange>& info) {
                           return info.param.name;
                         });

TEST_F(SyncDigestTest, EngineRejectsInvalidChangeWithoutApplyingAny) {
  // The engine's own check (an edge other than the server could skip the proto decoding).
  const std::string before = engine_.StateDigest();
  Pod nameless;
  nameless.name_space = "default";
  Node node;
  node.name = "node-c";
  const absl::Status status =
      engine_.ApplyDelta(3, {node, DeleteObject{DeleteObject::Kind::kNode, "node-a"}, nameless});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_.StateDigest(), before);
}

// Sequence numbers: only applied + 1 applies; anything else asks for a resync.
struct SequenceCase {
  std::string name;
  uint64_t sequence;
};

void PrintTo(const SequenceCase& c, std::ostream* os) { *os << c.name; }

class OutOfSequenceTest : public SyncDigestTest,
                          public ::testing::WithParamInterface<SequenceCase> {};

TEST_P(OutOfSequenceTest, RequiresResyncAndAppliesNothing) {
  const std::string before = engine_.StateDigest();
  ASSERT_TRUE(Apply(Delta(GetParam().sequence, {NodeChange("node-c", "16"),
                                                Delete(v1::ObjectRef::POD, "default", "web-0")}))
                  .ok());
  EXPECT_TRUE(response_.resync_required());
  EXPECT_EQ(response_.applied_sequence(), 2u);
  EXPECT_EQ(response_.epoch(), "digest-epoch");
  EXPECT_EQ(engine_.StateDigest(), before);
  // The stream stays usable: the next delta in sequence applies.
  ASSERT_TRUE(Apply(Delta(3, {NodeChange("node-c", "16")})).ok());
  EXPECT_FALSE(response_.resync_required());
  EXPECT_EQ(engine_.applied_sequence(), 3u);
}

INSTANTIATE_TEST_SUITE_P(Sequences, OutOfSequenceTest,
                         ::testing::Values(SequenceCase{"Gap", 4}, SequenceCase{"FarGap", 1000},
                                           SequenceCase{"Duplicate", 2}, SequenceCase{"Older", 1},
                                           SequenceCase{"Zero", 0}),
                         [](const ::testing::TestParamInfo<SequenceCase>& info) {
                           return info.param.name;
                         });

TEST_F(SyncDigestTest, MalformedDeltaOutOfSequenceIsRejectedNotApplied) {
  const std::string before = engine_.StateDigest();
  v1::Pod bad = PodProto("web-0", "1", "node-a");
  (*bad.mutable_containers(0)->mutable_requests()->mutable_items())["cpu"] = "1.5.5";
  EXPECT_EQ(Apply(Delta(9, {PodChange(bad)})).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(engine_.StateDigest(), before);
}

TEST(SyncSequenceTest, DeltaBeforeAnySnapshotRequiresResync) {
  EngineOptions options;
  options.epoch = "fresh";
  Engine engine(options);
  EngineService service(&engine);
  const std::string before = engine.StateDigest();
  v1::SyncResponse response;
  ASSERT_TRUE(
      service.ApplySyncRequest(Delta(1, {NodeChange("node-a", "1")}), "test", &response).ok());
  EXPECT_TRUE(response.resync_required());
  EXPECT_EQ(engine.StateDigest(), before);
  EXPECT_FALSE(engine.synced());
}

}  // namespace
}  // namespace sextant::server
