// Writes the binary seed inputs of the protobuf fuzz targets (sync, evaluate, preempt,
// selectors) into DIR/<target>/: `sextant_fuzz_seeds test/fuzz/corpus` regenerates the
// committed seeds after a change to the fuzz cluster or the proto.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz_cluster.h"

namespace sextant::fuzz {
namespace {

bool Write(const std::string& dir, const std::string& target, const std::string& name,
           const std::string& bytes) {
  std::ofstream out(dir + "/" + target + "/" + name, std::ios::binary);
  out << bytes;
  return static_cast<bool>(out);
}

v1::SyncRequest Delta(uint64_t sequence, const std::vector<v1::Change>& changes) {
  v1::SyncRequest request;
  request.mutable_delta()->set_sequence(sequence);
  for (const v1::Change& change : changes) *request.mutable_delta()->add_changes() = change;
  return request;
}

v1::Change Upsert(const v1::Pod& pod) {
  v1::Change change;
  *change.mutable_upsert_pod() = pod;
  return change;
}

v1::Change Delete(v1::ObjectRef::Kind kind, const std::string& ns, const std::string& name) {
  v1::Change change;
  change.mutable_delete_()->set_kind(kind);
  change.mutable_delete_()->set_namespace_(ns);
  change.mutable_delete_()->set_name(name);
  return change;
}

int Main(const std::string& dir) {
  bool ok = true;
  v1::Pod bound = PendingPod("web-1", 300, "256Mi", 10);
  bound.set_node_name("node-a2");
  bound.set_phase("Running");
  v1::Pod finished = PendingPod("web-0", 1200, "1Gi", 10);
  finished.set_node_name("node-a1");
  finished.set_phase("Succeeded");
  v1::Pod nameless = PendingPod("", 100, "1Mi", 0);
  v1::Pod bad_quantity = PendingPod("bad", 100, "1Mi", 0);
  (*bad_quantity.mutable_containers(0)->mutable_requests()->mutable_items())["cpu"] = "1.5.5";
  v1::Change node_gone = Delete(v1::ObjectRef::NODE, "", "node-b2");
  v1::Change ns_labels;
  ns_labels.mutable_upsert_namespace()->set_name("default");
  (*ns_labels.mutable_upsert_namespace()->mutable_labels())["team"] = "web";

  ok &= Write(dir, "sync", "delta-in-sequence",
              SyncInput({Delta(2, {Upsert(bound), Upsert(finished), node_gone, ns_labels}),
                         Delta(3, {Delete(v1::ObjectRef::POD, "data", "db-0")})}));
  ok &= Write(dir, "sync", "gap-duplicate-resync",
              SyncInput({Delta(5, {Upsert(bound)}), Delta(1, {Upsert(bound)}),
                         Delta(2, {Upsert(bound)}), Delta(2, {node_gone})}));
  ok &= Write(dir, "sync", "mixed-batch-bad-last",
              SyncInput({Delta(2, {Upsert(bound), node_gone, Upsert(nameless)}),
                         Delta(2, {Upsert(bound), Upsert(bad_quantity)})}));
  v1::SyncRequest resync = SmallClusterSnapshot();
  resync.mutable_full()->set_sequence(9);
  ok &= Write(dir, "sync", "full-then-delta",
              SyncInput({resync, Delta(10, {Upsert(SelectivePod("pending-1")),
                                            Delete(v1::ObjectRef::NODE, "", "node-a1")})}));

  v1::EvaluateRequest evaluate;
  *evaluate.mutable_pod() = SelectivePod("selective");
  evaluate.set_min_sequence(1);
  evaluate.set_epoch(kEpoch);
  ok &= Write(dir, "evaluate", "selective", evaluate.SerializeAsString());
  *evaluate.mutable_pod() = PendingPod("too-big", 64000, "1Ti", 0);
  ok &= Write(dir, "evaluate", "too-big", evaluate.SerializeAsString());
  *evaluate.mutable_pod() = PendingPod("spread", 100, "100Mi", 0);
  (*evaluate.mutable_default_spread_selector()->mutable_match_labels())["app"] = "web";
  ok &= Write(dir, "evaluate", "default-spread", evaluate.SerializeAsString());

  v1::PreemptRequest preempt;
  *preempt.mutable_pod() = PendingPod("preemptor", 1900, "1Gi", 100000);
  preempt.set_list_candidates(true);
  ok &= Write(dir, "preempt", "high-priority", preempt.SerializeAsString());
  *preempt.mutable_pod() = PendingPod("low", 1900, "1Gi", 0);
  preempt.set_list_candidates(false);
  ok &= Write(dir, "preempt", "low-priority", preempt.SerializeAsString());
  *preempt.mutable_pod() = SelectivePod("selective-preemptor");
  preempt.mutable_pod()->set_priority(2000);
  ok &= Write(dir, "preempt", "selective", preempt.SerializeAsString());

  ok &= Write(dir, "selectors", "selective", SelectivePod("selective").SerializeAsString());
  v1::Pod operators = SelectivePod("operators");
  v1::LabelSelector* selector = operators.mutable_affinity()
                                    ->mutable_pod_anti_affinity()
                                    ->mutable_required_during_scheduling_ignored_during_execution(0)
                                    ->mutable_label_selector();
  for (const char* op : {"NotIn", "DoesNotExist", "Exists", "In"}) {
    v1::SelectorRequirement* r = selector->add_match_expressions();
    r->set_key(std::string("k-") + op);
    r->set_operator_(op);
    if (std::string(op) == "NotIn" || std::string(op) == "In") r->add_values("v");
  }
  v1::SelectorRequirement* gt = operators.mutable_affinity()
                                    ->mutable_node_affinity()
                                    ->mutable_required_during_scheduling_ignored_during_execution()
                                    ->mutable_node_selector_terms(0)
                                    ->add_match_expressions();
  gt->set_key("cores");
  gt->set_operator_("Gt");
  gt->add_values("4");
  ok &= Write(dir, "selectors", "operators", operators.SerializeAsString());
  if (!ok) {
    std::fprintf(stderr, "sextant_fuzz_seeds: cannot write under %s (do the target dirs exist?)\n",
                 dir.c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace sextant::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: sextant_fuzz_seeds DIR (e.g. test/fuzz/corpus)\n");
    return 2;
  }
  return sextant::fuzz::Main(argv[1]);
}
