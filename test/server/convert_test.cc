#include "server/convert.h"

#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "plugins/node_affinity.h"
#include "plugins/node_unschedulable.h"
#include "plugins/taint_toleration.h"
#include "sextant/snapshot.h"
#include "testing/builders.h"

namespace sextant::server {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testutil::NodeBuilder;
using testutil::PodBuilder;
using testutil::Q;

// The message Quantity::Parse gives for `text` (the decoder adds object and field before it).
std::string ParseMessage(const std::string& text) {
  absl::StatusOr<Quantity> quantity = Quantity::Parse(text);
  EXPECT_FALSE(quantity.ok()) << text;
  return std::string(quantity.status().message());
}

void SetResource(v1::ResourceList* list, const std::string& name, const std::string& value) {
  (*list->mutable_items())[name] = value;
}

v1::Pod ValidPod() {
  v1::Pod pod;
  pod.set_namespace_("default");
  pod.set_name("web");
  v1::Container* c = pod.add_containers();
  c->set_name("app");
  SetResource(c->mutable_requests(), "cpu", "100m");
  return pod;
}

v1::Node ValidNode() {
  v1::Node node;
  node.set_name("n1");
  SetResource(node.mutable_allocatable(), "cpu", "4");
  return node;
}

// ---- Errors: each case breaks one field of a valid object and pins the whole message ----

struct ErrorCase {
  std::string name;
  std::function<void(v1::Change*)> mutate;
  std::string want;
};

std::vector<ErrorCase> ErrorCases() {
  const std::string pod = "Pod \"default/web\": ";
  const std::string node = "Node \"n1\": ";
  auto with_pod = [](std::function<void(v1::Pod*)> f) {
    return [f](v1::Change* change) {
      *change->mutable_upsert_pod() = ValidPod();
      f(change->mutable_upsert_pod());
    };
  };
  auto with_node = [](std::function<void(v1::Node*)> f) {
    return [f](v1::Change* change) {
      *change->mutable_upsert_node() = ValidNode();
      f(change->mutable_upsert_node());
    };
  };
  auto node_term = [](v1::Pod* p) {
    return p->mutable_affinity()
        ->mutable_node_affinity()
        ->mutable_required_during_scheduling_ignored_during_execution()
        ->add_node_selector_terms();
  };
  return {
      // Quantities, wherever a resource list sits.
      {"ContainerRequestCpu", with_pod([](v1::Pod* p) {
         SetResource(p->mutable_containers(0)->mutable_requests(), "cpu", "1.5.5");
       }),
       pod + "spec.containers[0].resources.requests.cpu: " + ParseMessage("1.5.5")},
      {"ContainerLimitMemory", with_pod([](v1::Pod* p) {
         SetResource(p->mutable_containers(0)->mutable_limits(), "memory", "1Gb");
       }),
       pod + "spec.containers[0].resources.limits.memory: " + ParseMessage("1Gb")},
      {"ExtendedResourceNameIsQuoted", with_pod([](v1::Pod* p) {
         SetResource(p->mutable_containers(0)->mutable_requests(), "nvidia.com/gpu", "one");
       }),
       pod + "spec.containers[0].resources.requests[\"nvidia.com/gpu\"]: " + ParseMessage("one")},
      {"SecondContainer", with_pod([](v1::Pod* p) {
         SetResource(p->add_containers()->mutable_requests(), "cpu", "");
       }),
       pod + "spec.containers[1].resources.requests.cpu: " + ParseMessage("")},
      {"InitContainerLimit", with_pod([](v1::Pod* p) {
         SetResource(p->add_init_containers()->mutable_limits(), "cpu", "x");
       }),
       pod + "spec.initContainers[0].resources.limits.cpu: " + ParseMessage("x")},
      {"QuantityWithSpacesIsNotTrimmed", with_pod([](v1::Pod* p) {
         SetResource(p->mutable_containers(0)->mutable_requests(), "cpu", " 1");
       }),
       pod + "spec.containers[0].resources.requests.cpu: " + ParseMessage(" 1")},
      {"FirstBadQuantityInNameOrder", with_pod([](v1::Pod* p) {
         auto* r = p->mutable_containers(0)->mutable_requests();
         SetResource(r, "zz", "bad2");
         SetResource(r, "memory", "bad1");
       }),
       pod + "spec.containers[0].resources.requests.memory: " + ParseMessage("bad1")},
      {"Overhead", with_pod([](v1::Pod* p) { SetResource(p->mutable_overhead(), "cpu", "1x"); }),
       pod + "spec.overhead.cpu: " + ParseMessage("1x")},
      {"PodLevelRequests", with_pod([](v1::Pod* p) {
         SetResource(p->mutable_resources()->mutable_requests(), "cpu", "0.1mi");
       }),
       pod + "spec.resources.requests.cpu: " + ParseMessage("0.1mi")},
      {"PodLevelLimits", with_pod([](v1::Pod* p) {
         SetResource(p->mutable_resources()->mutable_limits(), "memory", "1Ki3");
       }),
       pod + "spec.resources.limits.memory: " + ParseMessage("1Ki3")},
      {"AllocatedResources", with_pod([](v1::Pod* p) {
         SetResource(p->add_container_statuses()->mutable_allocated_resources(), "cpu", "1e");
       }),
       pod + "status.containerStatuses[0].allocatedResources.cpu: " + ParseMessage("1e")},
      {"StatusResourceRequests", with_pod([](v1::Pod* p) {
         SetResource(p->add_container_statuses()->mutable_resource_requests(), "cpu", "1..");
       }),
       pod + "status.containerStatuses[0].resources.requests.cpu: " + ParseMessage("1..")},
      {"InitStatusResourceLimits", with_pod([](v1::Pod* p) {
         SetResource(p->add_init_container_statuses()->mutable_resource_limits(), "memory", "Pi");
       }),
       pod + "status.initContainerStatuses[0].resources.limits.memory: " + ParseMessage("Pi")},
      {"TooLargeQuantity", with_pod([](v1::Pod* p) {
         SetResource(p->mutable_containers(0)->mutable_requests(), "cpu", "1e30");
       }),
       pod + "spec.containers[0].resources.requests.cpu: " + ParseMessage("1e30")},
      {"NodeCapacity",
       with_node([](v1::Node* n) { SetResource(n->mutable_capacity(), "cpu", "lots"); }),
       node + "status.capacity.cpu: " + ParseMessage("lots")},
      {"NodeAllocatableGpu", with_node([](v1::Node* n) {
         SetResource(n->mutable_allocatable(), "nvidia.com/gpu", "8 ");
       }),
       node + "status.allocatable[\"nvidia.com/gpu\"]: " + ParseMessage("8 ")},

      // Enums.
      {"TaintEffectUnknown", with_node([](v1::Node* n) {
         auto* t = n->add_taints();
         t->set_key("k");
         t->set_effect("NoScheduel");
       }),
       node + "spec.taints[0].effect: unknown taint effect \"NoScheduel\""},
      {"TaintEffectMissing", with_node([](v1::Node* n) { n->add_taints()->set_key("k"); }),
       node + "spec.taints[0].effect: required field is missing"},
      {"TaintKeyMissing", with_node([](v1::Node* n) { n->add_taints()->set_effect("NoSchedule"); }),
       node + "spec.taints[0].key: required field is missing"},
      {"TolerationOperatorUnknown",
       with_pod([](v1::Pod* p) { p->add_tolerations()->set_operator_("Equals"); }),
       pod + "spec.tolerations[0].operator: unknown toleration operator \"Equals\""},
      {"TolerationEffectUnknown", with_pod([](v1::Pod* p) {
         p->add_tolerations();
         p->add_tolerations()->set_effect("noschedule");
       }),
       pod + "spec.tolerations[1].effect: unknown taint effect \"noschedule\""},
      {"NodeSelectorOperatorUnknown", with_pod([&node_term](v1::Pod* p) {
         auto* r = node_term(p)->add_match_expressions();
         r->set_key("zone");
         r->set_operator_("Within");
       }),
       pod + "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
             "nodeSelectorTerms[0].matchExpressions[0].operator: unknown node selector operator "
             "\"Within\""},
      {"NodeSelectorOperatorMissing", with_pod([&node_term](v1::Pod* p) {
         node_term(p)->add_match_fields()->set_key("metadata.name");
       }),
       pod + "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
             "nodeSelectorTerms[0].matchFields[0].operator: required field is missing"},
      {"PreferredTermOperator", with_pod([](v1::Pod* p) {
         auto* term = p->mutable_affinity()
                          ->mutable_node_affinity()
                          ->add_preferred_during_scheduling_ignored_during_execution();
         term->mutable_preference()->add_match_expressions()->set_operator_("in");
       }),
       pod + "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]."
             "preference.matchExpressions[0].operator: unknown node selector operator \"in\""},
      {"LabelSelectorRejectsGt", with_pod([](v1::Pod* p) {
         auto* term = p->mutable_affinity()
                          ->mutable_pod_affinity()
                          ->add_required_during_scheduling_ignored_during_execution();
         term->mutable_label_selector()->add_match_expressions()->set_operator_("Gt");
       }),
       pod + "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]."
             "labelSelector.matchExpressions[0].operator: unknown label selector operator \"Gt\""},
      {"AntiAffinityNamespaceSelector", with_pod([](v1::Pod* p) {
         auto* term = p->mutable_affinity()
                          ->mutable_pod_anti_affinity()
                          ->add_preferred_during_scheduling_ignored_during_execution();
         term->mutable_pod_affinity_term()
             ->mutable_namespace_selector()
             ->add_match_expressions()
             ->set_operator_("Lt");
       }),
       pod + "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]."
             "podAffinityTerm.namespaceSelector.matchExpressions[0].operator: unknown label "
             "selector operator \"Lt\""},
      {"WhenUnsatisfiableUnknown", with_pod([](v1::Pod* p) {
         p->add_topology_spread_constraints()->set_when_unsatisfiable("Never");
       }),
       pod + "spec.topologySpreadConstraints[0].whenUnsatisfiable: unknown whenUnsatisfiable "
             "action \"Never\""},
      {"NodeAffinityPolicyUnknown", with_pod([](v1::Pod* p) {
         p->add_topology_spread_constraints()->set_node_affinity_policy("honor");
       }),
       pod + "spec.topologySpreadConstraints[0].nodeAffinityPolicy: unknown node inclusion policy "
             "\"honor\""},
      {"NodeTaintsPolicyUnknown", with_pod([](v1::Pod* p) {
         p->add_topology_spread_constraints()->set_node_taints_policy("Skip");
       }),
       pod + "spec.topologySpreadConstraints[0].nodeTaintsPolicy: unknown node inclusion policy "
             "\"Skip\""},
      {"SpreadLabelSelector", with_pod([](v1::Pod* p) {
         p->add_topology_spread_constraints()
             ->mutable_label_selector()
             ->add_match_expressions()
             ->set_operator_("Gt");
       }),
       pod + "spec.topologySpreadConstraints[0].labelSelector.matchExpressions[0].operator: "
             "unknown label selector operator \"Gt\""},
      {"PodPreemptionPolicyUnknown",
       with_pod([](v1::Pod* p) { p->set_preemption_policy("Sometimes"); }),
       pod + "spec.preemptionPolicy: unknown preemption policy \"Sometimes\""},
      {"PriorityClassPreemptionPolicy",
       [](v1::Change* c) {
         c->mutable_upsert_priority_class()->set_name("high");
         c->mutable_upsert_priority_class()->set_preemption_policy("Always");
       },
       "PriorityClass \"high\": preemptionPolicy: unknown preemption policy \"Always\""},
      {"PdbSelectorOperator",
       [](v1::Change* c) {
         auto* pdb = c->mutable_upsert_pod_disruption_budget();
         pdb->set_namespace_("prod");
         pdb->set_name("web");
         pdb->mutable_selector()->add_match_expressions()->set_operator_("Exist");
       },
       "PodDisruptionBudget \"prod/web\": spec.selector.matchExpressions[0].operator: unknown "
       "label selector operator \"Exist\""},
      {"PdbMinAvailableNegative",
       [](v1::Change* c) {
         auto* pdb = c->mutable_upsert_pod_disruption_budget();
         pdb->set_namespace_("prod");
         pdb->set_name("web");
         pdb->mutable_min_available()->set_value(-1);
       },
       "PodDisruptionBudget \"prod/web\": spec.minAvailable: must be non-negative"},
      {"PdbMaxUnavailableNegativePercent",
       [](v1::Change* c) {
         auto* pdb = c->mutable_upsert_pod_disruption_budget();
         pdb->set_namespace_("prod");
         pdb->set_name("web");
         pdb->mutable_max_unavailable()->set_value(-10);
         pdb->mutable_max_unavailable()->set_is_percent(true);
       },
       "PodDisruptionBudget \"prod/web\": spec.maxUnavailable: must be non-negative"},

      // Names.
      {"NodeWithoutName", [](v1::Change* c) { c->mutable_upsert_node(); },
       "Node: metadata.name: required field is missing"},
      {"PodWithoutName", with_pod([](v1::Pod* p) { p->clear_name(); }),
       "Pod: metadata.name: required field is missing"},
      {"PodWithoutNamespace", with_pod([](v1::Pod* p) { p->clear_namespace_(); }),
       "Pod \"web\": metadata.namespace: required field is missing"},
      {"PriorityClassWithoutName", [](v1::Change* c) { c->mutable_upsert_priority_class(); },
       "PriorityClass: metadata.name: required field is missing"},
      {"PdbWithoutName",
       [](v1::Change* c) { c->mutable_upsert_pod_disruption_budget()->set_namespace_("prod"); },
       "PodDisruptionBudget: metadata.name: required field is missing"},
      {"PdbWithoutNamespace",
       [](v1::Change* c) { c->mutable_upsert_pod_disruption_budget()->set_name("web"); },
       "PodDisruptionBudget \"web\": metadata.namespace: required field is missing"},
      {"DeleteWithoutKind", [](v1::Change* c) { c->mutable_delete_()->set_name("n1"); },
       "delete: kind: required field is missing"},
      {"DeleteOfUnknownKind",
       [](v1::Change* c) {
         c->mutable_delete_()->set_kind(static_cast<v1::ObjectRef::Kind>(42));
         c->mutable_delete_()->set_name("x");
       },
       "delete: kind: unknown object kind 42"},
      {"DeleteWithoutName",
       [](v1::Change* c) { c->mutable_delete_()->set_kind(v1::ObjectRef::NODE); },
       "delete: name: required field is missing"},
      {"DeletePodWithoutNamespace",
       [](v1::Change* c) {
         c->mutable_delete_()->set_kind(v1::ObjectRef::POD);
         c->mutable_delete_()->set_name("web");
       },
       "delete: namespace: required field is missing"},
      {"DeletePdbWithoutNamespace",
       [](v1::Change* c) {
         c->mutable_delete_()->set_kind(v1::ObjectRef::POD_DISRUPTION_BUDGET);
         c->mutable_delete_()->set_name("web");
       },
       "delete: namespace: required field is missing"},
      {"EmptyChange", [](v1::Change*) {},
       "change: no object set (upsert_node, upsert_pod, upsert_priority_class, "
       "upsert_pod_disruption_budget, upsert_namespace, upsert_device_class, "
       "upsert_resource_slice, upsert_resource_claim or delete)"},
  };
}

TEST(ConvertTest, FromProtoErrorsNameObjectAndField) {
  for (const ErrorCase& c : ErrorCases()) {
    SCOPED_TRACE(c.name);
    v1::Change change;
    c.mutate(&change);
    absl::StatusOr<ClusterChange> decoded = FromProto(change);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(decoded.status().message(), c.want);
  }
}

TEST(ConvertTest, ErrorCasesAreValidBeforeTheirBreak) {
  // The base objects decode, so each error case fails because of its own change only.
  EXPECT_TRUE(FromProto(ValidPod()).ok());
  EXPECT_TRUE(FromProto(ValidNode()).ok());
}

TEST(ConvertTest, ChangeListErrorsSayWhereUnnamedObjectsAre) {
  google::protobuf::RepeatedPtrField<v1::Change> changes;
  *changes.Add()->mutable_upsert_pod() = ValidPod();
  changes.Add()->mutable_upsert_pod()->set_namespace_("default");
  absl::StatusOr<std::vector<ClusterChange>> decoded = FromProto(changes, "changes", false);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().message(),
            "Pod at changes[1]: metadata.name: required field is missing");

  changes.Mutable(1)->Clear();
  decoded = FromProto(changes, "changes", false);
  ASSERT_FALSE(decoded.ok());
  EXPECT_THAT(std::string(decoded.status().message()),
              ::testing::StartsWith("changes[1]: no object set"));

  changes.Mutable(1)->mutable_delete_()->set_name("n1");
  decoded = FromProto(changes, "changes", false);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().message(), "delete at changes[1]: kind: required field is missing");
}

TEST(ConvertTest, FullSnapshotObjectsAreUpsertsOnly) {
  google::protobuf::RepeatedPtrField<v1::Change> objects;
  *objects.Add()->mutable_upsert_node() = ValidNode();
  auto* del = objects.Add()->mutable_delete_();
  del->set_kind(v1::ObjectRef::NODE);
  del->set_name("n1");
  EXPECT_TRUE(FromProto(objects, "objects", /*upserts_only=*/false).ok());
  absl::StatusOr<std::vector<ClusterChange>> decoded =
      FromProto(objects, "objects", /*upserts_only=*/true);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().message(),
            "objects[1]: a full snapshot holds upserts only, not deletes");
}

TEST(ConvertTest, DeleteKeys) {
  struct Case {
    v1::ObjectRef::Kind kind;
    DeleteObject::Kind want_kind;
    std::string want_key;
  };
  for (const Case& c : std::vector<Case>{
           {v1::ObjectRef::NODE, DeleteObject::Kind::kNode, "web"},
           {v1::ObjectRef::POD, DeleteObject::Kind::kPod, "prod/web"},
           {v1::ObjectRef::PRIORITY_CLASS, DeleteObject::Kind::kPriorityClass, "web"},
           {v1::ObjectRef::POD_DISRUPTION_BUDGET, DeleteObject::Kind::kPodDisruptionBudget,
            "prod/web"},
       }) {
    v1::ObjectRef ref;
    ref.set_kind(c.kind);
    ref.set_namespace_("prod");
    ref.set_name("web");
    absl::StatusOr<DeleteObject> decoded = FromProto(ref);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->kind, c.want_kind);
    EXPECT_EQ(decoded->key, c.want_key);
  }
}

// ---- Enums: every spelling the API allows decodes to its model value ----

template <typename E, typename Decode>
void ExpectEnum(const std::vector<std::pair<std::string, E>>& table, Decode decode) {
  for (const auto& [text, want] : table) {
    SCOPED_TRACE(text);
    absl::StatusOr<E> got = decode(text);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, want);
  }
}

TEST(ConvertTest, EveryTaintEffect) {
  ExpectEnum<TaintEffect>({{"NoSchedule", TaintEffect::kNoSchedule},
                           {"PreferNoSchedule", TaintEffect::kPreferNoSchedule},
                           {"NoExecute", TaintEffect::kNoExecute}},
                          [](const std::string& text) -> absl::StatusOr<TaintEffect> {
                            v1::Node node = ValidNode();
                            node.add_taints()->set_key("k");
                            node.mutable_taints(0)->set_effect(text);
                            absl::StatusOr<Node> n = FromProto(node);
                            if (!n.ok()) return n.status();
                            return n->taints.at(0).effect;
                          });
}

TEST(ConvertTest, EveryTolerationOperatorAndEffect) {
  auto toleration = [](const std::string& op, const std::string& effect) {
    v1::Pod pod = ValidPod();
    pod.add_tolerations()->set_operator_(op);
    pod.mutable_tolerations(0)->set_effect(effect);
    return FromProto(pod);
  };
  ExpectEnum<TolerationOperator>(
      {{"", TolerationOperator::kEqual},
       {"Equal", TolerationOperator::kEqual},
       {"Exists", TolerationOperator::kExists},
       {"Lt", TolerationOperator::kLt},
       {"Gt", TolerationOperator::kGt}},
      [&](const std::string& text) -> absl::StatusOr<TolerationOperator> {
        absl::StatusOr<Pod> p = toleration(text, "");
        if (!p.ok()) return p.status();
        return p->tolerations.at(0).op;
      });
  ExpectEnum<TaintEffect>({{"", TaintEffect::kNone},
                           {"NoSchedule", TaintEffect::kNoSchedule},
                           {"PreferNoSchedule", TaintEffect::kPreferNoSchedule},
                           {"NoExecute", TaintEffect::kNoExecute}},
                          [&](const std::string& text) -> absl::StatusOr<TaintEffect> {
                            absl::StatusOr<Pod> p = toleration("Exists", text);
                            if (!p.ok()) return p.status();
                            return p->tolerations.at(0).effect;
                          });
}

TEST(ConvertTest, EverySelectorOperator) {
  const std::vector<std::pair<std::string, SelectorOperator>> label_ops = {
      {"In", SelectorOperator::kIn},
      {"NotIn", SelectorOperator::kNotIn},
      {"Exists", SelectorOperator::kExists},
      {"DoesNotExist", SelectorOperator::kDoesNotExist}};
  std::vector<std::pair<std::string, SelectorOperator>> node_ops = label_ops;
  node_ops.push_back({"Gt", SelectorOperator::kGt});
  node_ops.push_back({"Lt", SelectorOperator::kLt});
  ExpectEnum<SelectorOperator>(
      node_ops, [](const std::string& text) -> absl::StatusOr<SelectorOperator> {
        v1::Pod pod = ValidPod();
        pod.mutable_affinity()
            ->mutable_node_affinity()
            ->mutable_required_during_scheduling_ignored_during_execution()
            ->add_node_selector_terms()
            ->add_match_expressions()
            ->set_operator_(text);
        absl::StatusOr<Pod> p = FromProto(pod);
        if (!p.ok()) return p.status();
        return p->affinity->node_affinity->required->terms.at(0).match_expressions.at(0).op;
      });
  ExpectEnum<SelectorOperator>(
      label_ops, [](const std::string& text) -> absl::StatusOr<SelectorOperator> {
        v1::PodDisruptionBudget pdb;
        pdb.set_namespace_("prod");
        pdb.set_name("web");
        pdb.mutable_selector()->add_match_expressions()->set_operator_(text);
        absl::StatusOr<PodDisruptionBudget> p = FromProto(pdb);
        if (!p.ok()) return p.status();
        return p->selector->match_expressions.at(0).op;
      });
}

TEST(ConvertTest, EveryTopologySpreadEnum) {
  auto spread = [](auto set) -> absl::StatusOr<TopologySpreadConstraint> {
    v1::Pod pod = ValidPod();
    set(pod.add_topology_spread_constraints());
    absl::StatusOr<Pod> p = FromProto(pod);
    if (!p.ok()) return p.status();
    return p->topology_spread_constraints.at(0);
  };
  ExpectEnum<UnsatisfiableConstraintAction>(
      {{"", UnsatisfiableConstraintAction::kDoNotSchedule},
       {"DoNotSchedule", UnsatisfiableConstraintAction::kDoNotSchedule},
       {"ScheduleAnyway", UnsatisfiableConstraintAction::kScheduleAnyway}},
      [&](const std::string& text) -> absl::StatusOr<UnsatisfiableConstraintAction> {
        auto c = spread([&](v1::TopologySpreadConstraint* t) { t->set_when_unsatisfiable(text); });
        if (!c.ok()) return c.status();
        return c->when_unsatisfiable;
      });
  using Policy = std::optional<NodeInclusionPolicy>;
  ExpectEnum<Policy>({{"", std::nullopt},
                      {"Honor", NodeInclusionPolicy::kHonor},
                      {"Ignore", NodeInclusionPolicy::kIgnore}},
                     [&](const std::string& text) -> absl::StatusOr<Policy> {
                       auto c = spread([&](v1::TopologySpreadConstraint* t) {
                         t->set_node_affinity_policy(text);
                       });
                       if (!c.ok()) return c.status();
                       return c->node_affinity_policy;
                     });
  ExpectEnum<Policy>(
      {{"", std::nullopt},
       {"Honor", NodeInclusionPolicy::kHonor},
       {"Ignore", NodeInclusionPolicy::kIgnore}},
      [&](const std::string& text) -> absl::StatusOr<Policy> {
        auto c = spread([&](v1::TopologySpreadConstraint* t) { t->set_node_taints_policy(text); });
        if (!c.ok()) return c.status();
        return c->node_taints_policy;
      });
}

TEST(ConvertTest, EveryPreemptionPolicy) {
  using Policy = std::optional<PreemptionPolicy>;
  ExpectEnum<Policy>({{"", std::nullopt},
                      {"PreemptLowerPriority", PreemptionPolicy::kPreemptLowerPriority},
                      {"Never", PreemptionPolicy::kNever}},
                     [](const std::string& text) -> absl::StatusOr<Policy> {
                       v1::Pod pod = ValidPod();
                       pod.set_preemption_policy(text);
                       absl::StatusOr<Pod> p = FromProto(pod);
                       if (!p.ok()) return p.status();
                       return p->preemption_policy;
                     });
  ExpectEnum<PreemptionPolicy>({{"", PreemptionPolicy::kPreemptLowerPriority},
                                {"PreemptLowerPriority", PreemptionPolicy::kPreemptLowerPriority},
                                {"Never", PreemptionPolicy::kNever}},
                               [](const std::string& text) -> absl::StatusOr<PreemptionPolicy> {
                                 v1::PriorityClass pc;
                                 pc.set_name("high");
                                 pc.set_preemption_policy(text);
                                 absl::StatusOr<PriorityClass> p = FromProto(pc);
                                 if (!p.ok()) return p.status();
                                 return p->preemption_policy;
                               });
}

TEST(ConvertTest, ScoringStrategy) {
  ExpectEnum<ScoringStrategyType>(
      {{"", ScoringStrategyType::kLeastAllocated},
       {"LeastAllocated", ScoringStrategyType::kLeastAllocated},
       {"MostAllocated", ScoringStrategyType::kMostAllocated},
       {"RequestedToCapacityRatio", ScoringStrategyType::kRequestedToCapacityRatio}},
      [](const std::string& text) -> absl::StatusOr<ScoringStrategyType> {
        v1::ScoringStrategy s;
        s.set_type(text);
        absl::StatusOr<ScoringStrategy> got = FromProto(s);
        if (!got.ok()) return got.status();
        return got->type;
      });

  v1::ScoringStrategy empty;
  absl::StatusOr<ScoringStrategy> defaults = FromProto(empty);
  ASSERT_TRUE(defaults.ok());
  ASSERT_EQ(defaults->resources.size(), 2u);
  EXPECT_EQ(defaults->resources[0].name, "cpu");
  EXPECT_EQ(defaults->resources[1].name, "memory");

  v1::ScoringStrategy s;
  s.set_type("RequestedToCapacityRatio");
  auto* r = s.add_resources();
  r->set_name("nvidia.com/gpu");
  r->set_weight(5);
  auto* p = s.add_shape();
  p->set_utilization(100);
  p->set_score(10);
  absl::StatusOr<ScoringStrategy> got = FromProto(s);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->resources.size(), 1u);
  EXPECT_EQ(got->resources[0].name, "nvidia.com/gpu");
  EXPECT_EQ(got->resources[0].weight, 5);
  ASSERT_EQ(got->shape.size(), 1u);
  EXPECT_EQ(got->shape[0].utilization, 100);
  EXPECT_EQ(got->shape[0].score, 10);

  s.set_type("Balanced");
  got = FromProto(s);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().message(),
            "scoringStrategy.type: unknown scoring strategy type \"Balanced\"");
}

// ---- Every field of the proto reaches the model ----

TEST(ConvertTest, PodWithEveryFieldDecodes) {
  v1::Pod in = ValidPod();
  in.set_uid("u-1");
  (*in.mutable_labels())["app"] = "web";
  in.set_creation_unix_nanos(11);
  in.set_deletion_unix_nanos(12);
  in.set_node_name("n1");
  in.set_scheduler_name("sextant");
  in.set_priority(1000);
  in.set_priority_class_name("high");
  in.set_preemption_policy("Never");
  v1::Container* init = in.add_init_containers();
  init->set_name("sidecar");
  init->set_restart_policy("Always");
  SetResource(init->mutable_requests(), "memory", "64Mi");
  SetResource(in.mutable_containers(0)->mutable_limits(), "cpu", "500m");
  SetResource(in.mutable_overhead(), "cpu", "250m");
  SetResource(in.mutable_resources()->mutable_requests(), "cpu", "2");
  SetResource(in.mutable_resources()->mutable_limits(), "memory", "1Gi");
  (*in.mutable_node_selector())["zone"] = "a";
  v1::NodeAffinity* na = in.mutable_affinity()->mutable_node_affinity();
  v1::SelectorRequirement* req = na->mutable_required_during_scheduling_ignored_during_execution()
                                     ->add_node_selector_terms()
                                     ->add_match_fields();
  req->set_key("metadata.name");
  req->set_operator_("In");
  req->add_values("n1");
  v1::PreferredSchedulingTerm* pref =
      na->add_preferred_during_scheduling_ignored_during_execution();
  pref->set_weight(7);
  pref->mutable_preference()->add_match_expressions()->set_operator_("Exists");
  v1::PodAffinityTerm* term = in.mutable_affinity()
                                  ->mutable_pod_affinity()
                                  ->add_required_during_scheduling_ignored_during_execution();
  (*term->mutable_label_selector()->mutable_match_labels())["app"] = "db";
  term->add_namespaces("data");
  term->set_topology_key("zone");
  term->mutable_namespace_selector();
  term->add_match_label_keys("rev");
  term->add_mismatch_label_keys("team");
  v1::WeightedPodAffinityTerm* anti =
      in.mutable_affinity()
          ->mutable_pod_anti_affinity()
          ->add_preferred_during_scheduling_ignored_during_execution();
  anti->set_weight(3);
  anti->mutable_pod_affinity_term()->set_topology_key("kubernetes.io/hostname");
  v1::Toleration* tol = in.add_tolerations();
  tol->set_key("gpu");
  tol->set_operator_("Equal");
  tol->set_value("yes");
  tol->set_effect("NoExecute");
  tol->set_toleration_seconds(30);
  v1::TopologySpreadConstraint* spread = in.add_topology_spread_constraints();
  spread->set_max_skew(2);
  spread->set_topology_key("zone");
  spread->set_when_unsatisfiable("ScheduleAnyway");
  spread->mutable_label_selector();
  spread->set_min_domains(3);
  spread->set_node_affinity_policy("Ignore");
  spread->set_node_taints_policy("Honor");
  spread->add_match_label_keys("pod-template-hash");
  in.set_phase("Running");
  in.set_start_unix_nanos(13);
  in.set_nominated_node_name("n2");
  v1::ContainerStatus* status = in.add_container_statuses();
  status->set_name("app");
  SetResource(status->mutable_allocated_resources(), "cpu", "200m");
  SetResource(status->mutable_resource_requests(), "cpu", "300m");
  SetResource(status->mutable_resource_limits(), "cpu", "400m");
  in.add_init_container_statuses()->set_name("sidecar");
  in.set_resize_status("InProgress");

  absl::StatusOr<Pod> decoded = FromProto(in);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const Pod& p = *decoded;
  EXPECT_EQ(p.Key(), "default/web");
  EXPECT_EQ(p.uid, "u-1");
  EXPECT_EQ(p.labels.at("app"), "web");
  EXPECT_EQ(p.creation_unix_nanos, 11);
  EXPECT_EQ(p.deletion_unix_nanos, 12);
  EXPECT_EQ(p.node_name, "n1");
  EXPECT_EQ(p.scheduler_name, "sextant");
  EXPECT_EQ(p.priority, 1000);
  EXPECT_EQ(p.priority_class_name, "high");
  EXPECT_EQ(p.preemption_policy, PreemptionPolicy::kNever);
  ASSERT_EQ(p.init_containers.size(), 1u);
  EXPECT_EQ(p.init_containers[0].name, "sidecar");
  EXPECT_EQ(p.init_containers[0].restart_policy, "Always");
  EXPECT_EQ(p.init_containers[0].requests.at("memory"), Q("64Mi"));
  EXPECT_EQ(p.containers[0].requests.at("cpu"), Q("100m"));
  EXPECT_EQ(p.containers[0].limits.at("cpu"), Q("500m"));
  EXPECT_FALSE(p.containers[0].restart_policy.has_value());
  EXPECT_EQ(p.overhead.at("cpu"), Q("250m"));
  ASSERT_TRUE(p.resources.has_value());
  EXPECT_EQ(p.resources->requests.at("cpu"), Q("2"));
  EXPECT_EQ(p.resources->limits.at("memory"), Q("1Gi"));
  EXPECT_EQ(p.node_selector.at("zone"), "a");
  ASSERT_TRUE(p.affinity && p.affinity->node_affinity && p.affinity->node_affinity->required);
  const SelectorRequirement& field =
      p.affinity->node_affinity->required->terms.at(0).match_fields.at(0);
  EXPECT_EQ(field.key, "metadata.name");
  EXPECT_EQ(field.op, SelectorOperator::kIn);
  EXPECT_THAT(field.values, ElementsAre("n1"));
  EXPECT_EQ(p.affinity->node_affinity->preferred.at(0).weight, 7);
  EXPECT_EQ(p.affinity->node_affinity->preferred.at(0).preference.match_expressions.at(0).op,
            SelectorOperator::kExists);
  ASSERT_TRUE(p.affinity->pod_affinity.has_value());
  const PodAffinityTerm& t = p.affinity->pod_affinity->required.at(0);
  EXPECT_EQ(t.label_selector->match_labels.at("app"), "db");
  EXPECT_THAT(t.namespaces, ElementsAre("data"));
  EXPECT_EQ(t.topology_key, "zone");
  EXPECT_TRUE(t.namespace_selector.has_value());
  EXPECT_THAT(t.match_label_keys, ElementsAre("rev"));
  EXPECT_THAT(t.mismatch_label_keys, ElementsAre("team"));
  ASSERT_TRUE(p.affinity->pod_anti_affinity.has_value());
  EXPECT_EQ(p.affinity->pod_anti_affinity->preferred.at(0).weight, 3);
  EXPECT_EQ(p.affinity->pod_anti_affinity->preferred.at(0).term.topology_key,
            "kubernetes.io/hostname");
  EXPECT_FALSE(p.affinity->pod_anti_affinity->preferred.at(0).term.label_selector.has_value());
  const Toleration& tl = p.tolerations.at(0);
  EXPECT_EQ(tl.key, "gpu");
  EXPECT_EQ(tl.op, TolerationOperator::kEqual);
  EXPECT_EQ(tl.value, "yes");
  EXPECT_EQ(tl.effect, TaintEffect::kNoExecute);
  EXPECT_EQ(tl.toleration_seconds, 30);
  const TopologySpreadConstraint& s = p.topology_spread_constraints.at(0);
  EXPECT_EQ(s.max_skew, 2);
  EXPECT_EQ(s.topology_key, "zone");
  EXPECT_EQ(s.when_unsatisfiable, UnsatisfiableConstraintAction::kScheduleAnyway);
  EXPECT_TRUE(s.label_selector.has_value());
  EXPECT_EQ(s.min_domains, 3);
  EXPECT_EQ(s.node_affinity_policy, NodeInclusionPolicy::kIgnore);
  EXPECT_EQ(s.node_taints_policy, NodeInclusionPolicy::kHonor);
  EXPECT_THAT(s.match_label_keys, ElementsAre("pod-template-hash"));
  EXPECT_EQ(p.phase, "Running");
  EXPECT_EQ(p.start_unix_nanos, 13);
  EXPECT_EQ(p.nominated_node_name, "n2");
  ASSERT_EQ(p.container_statuses.size(), 1u);
  EXPECT_EQ(p.container_statuses[0].name, "app");
  EXPECT_EQ(p.container_statuses[0].allocated_resources->at("cpu"), Q("200m"));
  EXPECT_EQ(p.container_statuses[0].resource_requests->at("cpu"), Q("300m"));
  EXPECT_EQ(p.container_statuses[0].resource_limits->at("cpu"), Q("400m"));
  ASSERT_EQ(p.init_container_statuses.size(), 1u);
  EXPECT_FALSE(p.init_container_statuses[0].allocated_resources.has_value());
  EXPECT_FALSE(p.init_container_statuses[0].resource_requests.has_value());
  EXPECT_EQ(p.resize_status, "InProgress");
}

TEST(ConvertTest, UnsetProtoFieldsReadAsApiDefaults) {
  absl::StatusOr<Pod> p = FromProto(ValidPod());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->scheduler_name, "default-scheduler");
  EXPECT_FALSE(p->priority.has_value());
  EXPECT_FALSE(p->preemption_policy.has_value());
  EXPECT_FALSE(p->resources.has_value());
  EXPECT_FALSE(p->affinity.has_value());
  EXPECT_FALSE(p->nominated_node_name.has_value());
  EXPECT_FALSE(p->deletion_unix_nanos.has_value());
  EXPECT_FALSE(p->start_unix_nanos.has_value());
}

TEST(ConvertTest, NodePriorityClassAndPdbFields) {
  v1::Node n = ValidNode();
  (*n.mutable_labels())["zone"] = "a";
  v1::Taint* taint = n.add_taints();
  taint->set_key("gpu");
  taint->set_value("present");
  taint->set_effect("NoSchedule");
  n.set_unschedulable(true);
  SetResource(n.mutable_capacity(), "nvidia.com/gpu", "8");
  n.set_creation_unix_nanos(5);
  absl::StatusOr<Node> node = FromProto(n);
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(node->name, "n1");
  EXPECT_EQ(node->labels.at("zone"), "a");
  EXPECT_EQ(node->taints.at(0).key, "gpu");
  EXPECT_EQ(node->taints.at(0).value, "present");
  EXPECT_TRUE(node->unschedulable);
  EXPECT_EQ(node->capacity.at("nvidia.com/gpu"), Q("8"));
  EXPECT_EQ(node->allocatable.at("cpu"), Q("4"));
  EXPECT_EQ(node->creation_unix_nanos, 5);

  v1::PriorityClass pc;
  pc.set_name("high");
  pc.set_value(1000000);
  pc.set_global_default(true);
  absl::StatusOr<PriorityClass> priority_class = FromProto(pc);
  ASSERT_TRUE(priority_class.ok());
  EXPECT_EQ(priority_class->value, 1000000);
  EXPECT_TRUE(priority_class->global_default);

  v1::PodDisruptionBudget pdb;
  pdb.set_namespace_("prod");
  pdb.set_name("web");
  (*pdb.mutable_selector()->mutable_match_labels())["app"] = "web";
  pdb.mutable_min_available()->set_value(50);
  pdb.mutable_min_available()->set_is_percent(true);
  pdb.set_disruptions_allowed(2);
  absl::StatusOr<PodDisruptionBudget> budget = FromProto(pdb);
  ASSERT_TRUE(budget.ok());
  EXPECT_EQ(budget->selector->match_labels.at("app"), "web");
  ASSERT_TRUE(budget->min_available.has_value());
  EXPECT_EQ(budget->min_available->value, 50);
  EXPECT_TRUE(budget->min_available->is_percent);
  EXPECT_FALSE(budget->max_unavailable.has_value());
  EXPECT_EQ(budget->disruptions_allowed, 2);
}

// Every object of the bundled snapshot encodes and decodes back to the same message.
TEST(ConvertTest, BundledSnapshotRoundTrips) {
  absl::StatusOr<Snapshot> snapshot =
      ReadSnapshotFile(std::string(SEXTANT_SOURCE_DIR) + "/test/data/snapshots/default.json");
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  std::vector<ClusterChange> objects;
  for (const Node& n : snapshot->nodes) objects.emplace_back(n);
  for (const Pod& p : snapshot->pods) objects.emplace_back(p);
  for (const PriorityClass& pc : snapshot->priority_classes) objects.emplace_back(pc);
  for (const PodDisruptionBudget& pdb : snapshot->pod_disruption_budgets) objects.emplace_back(pdb);
  ASSERT_GT(objects.size(), 1000u);
  for (const ClusterChange& object : objects) {
    v1::Change first;
    ToProto(object, &first);
    absl::StatusOr<ClusterChange> decoded = FromProto(first);
    ASSERT_TRUE(decoded.ok()) << decoded.status() << "\n" << first.DebugString();
    v1::Change second;
    ToProto(*decoded, &second);
    ASSERT_TRUE(MessageDifferencer::Equals(first, second)) << first.DebugString() << "\nvs\n"
                                                           << second.DebugString();
  }
}

// ---- EvaluateResponse ----

class ConvertEvaluationTest : public ::testing::Test {
 protected:
  ConvertEvaluationTest() {
    options_.parallelism = 1;
    state_ = testutil::MakeState(
        {
            NodeBuilder("small-1")
                .Allocatable({{"cpu", "1"}, {"memory", "4Gi"}, {"pods", "110"}})
                .Build(),
            NodeBuilder("big")
                .Allocatable({{"cpu", "8"}, {"memory", "32Gi"}, {"pods", "110"}})
                .Build(),
            NodeBuilder("tainted")
                .Allocatable({{"cpu", "8"}, {"memory", "32Gi"}, {"pods", "110"}})
                .Taint("gpu", "present", TaintEffect::kNoSchedule)
                .Build(),
            NodeBuilder("small-2")
                .Allocatable({{"cpu", "1"}, {"memory", "4Gi"}, {"pods", "110"}})
                .Build(),
            NodeBuilder("cordoned")
                .Allocatable({{"cpu", "8"}, {"memory", "32Gi"}, {"pods", "110"}})
                .Unschedulable()
                .Build(),
            NodeBuilder("medium")
                .Allocatable({{"cpu", "4"}, {"memory", "16Gi"}, {"pods", "110"}})
                .Build(),
            NodeBuilder("busy")
                .Allocatable({{"cpu", "4"}, {"memory", "16Gi"}, {"pods", "110"}})
                .Build(),
        },
        {PodBuilder("default", "running")
             .Container({{"cpu", "3"}})
             .NodeName("busy")
             .Phase("Running")
             .Build()});
  }

  v1::EvaluateResponse Evaluate(const Pod& pod, bool chosen_only = false) {
    Evaluator evaluator(options_);
    Evaluation evaluation = evaluator.Evaluate(*state_, pod, 0);
    v1::EvaluateResponse response;
    response.set_epoch("stale-field");  // ToProto clears the message first
    ToProto(evaluation, *state_, &response, chosen_only);
    fit_error_ = evaluation.FitErrorMessage();
    return response;
  }

  ProfileOptions options_;
  std::unique_ptr<ClusterState> state_;
  std::string fit_error_;
};

TEST_F(ConvertEvaluationTest, EveryNodeWithItsVerdict) {
  v1::EvaluateResponse r =
      Evaluate(PodBuilder("default", "web").Container({{"cpu", "2"}, {"memory", "1Gi"}}).Build());
  EXPECT_EQ(r.epoch(), "");
  EXPECT_EQ(r.qos_class(), "Burstable");
  ASSERT_EQ(r.nodes_size(), 7);
  EXPECT_THAT(r.score_plugins(),
              ElementsAre("TaintToleration", "NodeAffinity", "NodeResourcesFit",
                          "NodeResourcesBalancedAllocation", "PodTopologySpread", "InterPodAffinity",
                          "DynamicResources", "SextantGpu"));
  EXPECT_EQ(r.feasible_nodes(), 2);
  EXPECT_EQ(r.chosen_node(), "big");  // LeastAllocated prefers the emptiest node
  EXPECT_EQ(r.fit_error(), "");
  EXPECT_EQ(r.prefilter_plugin(), "");

  // Three distinct reasons; both small nodes share one id.
  EXPECT_THAT(r.reasons(),
              ElementsAre("Insufficient cpu", kTaintTolerationReason, kNodeUnschedulableReason));
  const v1::NodeResult& small1 = r.nodes(0);
  EXPECT_EQ(small1.node(), "small-1");
  EXPECT_EQ(small1.code(), v1::UNSCHEDULABLE_AND_UNRESOLVABLE);  // 2 cpu > allocatable
  EXPECT_EQ(small1.plugin(), "NodeResourcesFit");
  EXPECT_THAT(small1.reason_ids(), ElementsAre(0));
  EXPECT_THAT(small1.plugin_scores(), IsEmpty());
  EXPECT_EQ(small1.score(), 0);
  EXPECT_EQ(r.nodes(3).node(), "small-2");
  EXPECT_THAT(r.nodes(3).reason_ids(), ElementsAre(0));
  EXPECT_EQ(r.nodes(2).node(), "tainted");
  EXPECT_EQ(r.nodes(2).code(), v1::UNSCHEDULABLE_AND_UNRESOLVABLE);
  EXPECT_EQ(r.nodes(2).plugin(), "TaintToleration");
  EXPECT_THAT(r.nodes(2).reason_ids(), ElementsAre(1));
  EXPECT_EQ(r.nodes(4).plugin(), "NodeUnschedulable");
  EXPECT_THAT(r.nodes(4).reason_ids(), ElementsAre(2));
  // busy could take the pod if its running pod went: resolvable.
  EXPECT_EQ(r.nodes(6).node(), "busy");
  EXPECT_EQ(r.nodes(6).code(), v1::UNSCHEDULABLE);
  EXPECT_EQ(r.nodes(6).plugin(), "NodeResourcesFit");
  EXPECT_THAT(r.nodes(6).reason_ids(), ElementsAre(0));

  const v1::NodeResult& big = r.nodes(1);
  EXPECT_EQ(big.code(), v1::SUCCESS);
  EXPECT_EQ(big.plugin(), "");
  EXPECT_THAT(big.reason_ids(), IsEmpty());
  ASSERT_EQ(big.plugin_scores_size(), kNumScorePlugins);
  // Weighted sum of the normalised scores with the default weights 3, 2, 1, 1, 2, 2.
  EXPECT_EQ(big.score(), 3 * big.plugin_scores(0) + 2 * big.plugin_scores(1) +
                             big.plugin_scores(2) + big.plugin_scores(3) +
                             2 * big.plugin_scores(4) + 2 * big.plugin_scores(5));
  EXPECT_EQ(big.plugin_scores(0), 100);  // no taints: TaintToleration's reversed max
  const v1::NodeResult& medium = r.nodes(5);
  EXPECT_EQ(medium.code(), v1::SUCCESS);
  EXPECT_GT(big.score(), medium.score());
}

// chosen_only: the chosen node's result alone, with the counts of the whole evaluation; without
// a chosen node every node's result, as the reasons and preemption need them.
TEST_F(ConvertEvaluationTest, ChosenOnlyAnswersWithTheChosenNode) {
  const Pod fits = PodBuilder("default", "web").Container({{"cpu", "2"}, {"memory", "1Gi"}}).Build();
  v1::EvaluateResponse full = Evaluate(fits);
  v1::EvaluateResponse compact = Evaluate(fits, /*chosen_only=*/true);
  ASSERT_EQ(compact.nodes_size(), 1);
  EXPECT_EQ(compact.nodes(0).node(), "big");
  EXPECT_EQ(compact.chosen_node(), "big");
  EXPECT_EQ(compact.feasible_nodes(), 2);
  EXPECT_EQ(compact.nodes(0).score(), full.nodes(1).score());
  EXPECT_THAT(compact.reasons(), IsEmpty());

  const Pod too_big = PodBuilder("default", "huge").Container({{"cpu", "200"}}).Build();
  EXPECT_EQ(Evaluate(too_big, /*chosen_only=*/true).nodes_size(), 7);
}

TEST_F(ConvertEvaluationTest, NothingFeasibleCarriesTheFitError) {
  v1::EvaluateResponse r =
      Evaluate(PodBuilder("default", "huge").Container({{"cpu", "64"}, {"memory", "1Gi"}}).Build());
  EXPECT_EQ(r.feasible_nodes(), 0);
  EXPECT_EQ(r.chosen_node(), "");
  EXPECT_EQ(r.fit_error(), fit_error_);
  EXPECT_EQ(r.fit_error(),
            "0/7 nodes are available: 1 node(s) had untolerated taint(s), 1 node(s) were "
            "unschedulable, 5 Insufficient cpu.");
  EXPECT_EQ(r.nodes_size(), 7);
  EXPECT_THAT(r.reasons(),
              ElementsAre("Insufficient cpu", kTaintTolerationReason, kNodeUnschedulableReason));
}

TEST_F(ConvertEvaluationTest, PreFilterRejection) {
  Pod pod = PodBuilder("default", "nowhere")
                .RequiredNodeAffinity(testutil::FieldTerm(
                    {testutil::Req("metadata.name", SelectorOperator::kIn, {})}))
                .Build();
  v1::EvaluateResponse r = Evaluate(pod);
  EXPECT_EQ(r.prefilter_plugin(), "NodeAffinity");
  EXPECT_EQ(r.prefilter_message(), kNodeAffinityConflictReason);
  EXPECT_EQ(r.nodes_size(), 0);
  EXPECT_EQ(r.qos_class(), "BestEffort");
  EXPECT_EQ(r.fit_error(),
            absl::StrCat("0/7 nodes are available: ", kNodeAffinityConflictReason, "."));
}

TEST_F(ConvertEvaluationTest, ExtendedResourceReasons) {
  v1::EvaluateResponse r = Evaluate(
      PodBuilder("default", "gpu").Container({{"cpu", "2"}, {"nvidia.com/gpu", "1"}}).Build());
  EXPECT_EQ(r.feasible_nodes(), 0);
  // "Insufficient nvidia.com/gpu" comes from nodes missing only the GPU and from nodes missing
  // cpu as well: one entry in the table all the same.
  EXPECT_THAT(r.reasons(), ElementsAre("Insufficient cpu", "Insufficient nvidia.com/gpu",
                                       kTaintTolerationReason, kNodeUnschedulableReason));
  EXPECT_EQ(r.nodes(0).node(), "small-1");
  EXPECT_THAT(r.nodes(0).reason_ids(), ElementsAre(0, 1));
  EXPECT_EQ(r.nodes(1).node(), "big");
  EXPECT_THAT(r.nodes(1).reason_ids(), ElementsAre(1));
  EXPECT_THAT(r.nodes(6).reason_ids(), ElementsAre(0, 1));  // busy
}

}  // namespace
}  // namespace sextant::server
