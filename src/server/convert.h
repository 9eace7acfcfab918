// proto <-> model at the gRPC edge: the only code that knows both the generated sextant.v1 types
// and the engine's value types. Decoding validates what the proto's types cannot (enums spelled
// as strings, quantities, required names) and names the object and the field of an error the way
// the snapshot reader does, with Kubernetes field paths:
//   Pod "default/web": spec.containers[0].resources.requests.cpu: quantities must match ...
// Pure functions; thread-safe.
#ifndef SEXTANT_SERVER_CONVERT_H_
#define SEXTANT_SERVER_CONVERT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sextant/cluster_state.h"
#include "sextant/engine.h"
#include "sextant/evaluate.h"
#include "sextant/model.h"
#include "sextant/v1/engine.pb.h"

namespace sextant::server {

// ---- Decoding. Each returns the model value, or InvalidArgument naming object and field. ----
//
// Proto3 cannot tell an empty string from an absent one, so "" means unset: an enum left empty
// takes the API default (toleration operator Equal, whenUnsatisfiable DoNotSchedule, priority
// class preemptionPolicy PreemptLowerPriority; pod preemptionPolicy, node inclusion policies and
// nominatedNodeName stay unset) or, where the API requires it (taint key and effect, selector
// operator), is an error. Every object needs its name, and pods and PDBs their namespace: the
// engine knows objects by key, so, unlike the snapshot reader, no namespace is defaulted.
// A pod's empty schedulerName reads as "default-scheduler", as the API server defaults it.

absl::StatusOr<Node> FromProto(const v1::Node& node);
absl::StatusOr<Pod> FromProto(const v1::Pod& pod);
// The pod of an Evaluate request with the request's default spread selector
// (Pod::default_spread_selector); errors name the pod and the field.
absl::StatusOr<Pod> FromProto(const v1::EvaluateRequest& request);
absl::StatusOr<Pod> FromProto(const v1::PreemptRequest& request);
void ToProto(const PreemptionResult& result, v1::PreemptResponse* out);
absl::StatusOr<PriorityClass> FromProto(const v1::PriorityClass& priority_class);
absl::StatusOr<PodDisruptionBudget> FromProto(const v1::PodDisruptionBudget& pdb);
// A delete: the key is "namespace/name" for pods and PDBs, the name otherwise.
absl::StatusOr<DeleteObject> FromProto(const v1::ObjectRef& ref);
absl::StatusOr<ClusterChange> FromProto(const v1::Change& change);
// NodeResourcesFit's scoring strategy. An empty type is LeastAllocated and an empty resource list
// is upstream's default (cpu and memory, weight 1); the values themselves are checked by
// ValidateProfileOptions when the engine applies them.
absl::StatusOr<ScoringStrategy> FromProto(const v1::ScoringStrategy& strategy);

// Decodes the repeated field `field` ("objects", "changes") of a FullSnapshot or Delta. Errors
// about an object that cannot be named say where it is ("Pod at changes[3]: metadata.name:
// required field is missing"). With upserts_only, a delete is an error (full snapshots).
absl::StatusOr<std::vector<ClusterChange>> FromProto(
    const google::protobuf::RepeatedPtrField<v1::Change>& changes, absl::string_view field,
    bool upserts_only);

// ---- Encoding ----

// Fills `out` from an evaluation of a pod against `state` (the state the evaluation refers to,
// still held for reading): one NodeResult per verdict in verdict order, reason texts
// deduplicated into out->reasons, plugin scores in kScorePlugins order (feasible nodes only),
// the chosen node, upstream's FitError text when no node is feasible, and the PreFilter
// rejection if any. With chosen_only and a chosen node, only that node's result is written.
// Leaves epoch and applied_sequence to the caller. Clears `out` first.
void ToProto(const Evaluation& evaluation, const ClusterState& state, v1::EvaluateResponse* out,
             bool chosen_only = false);

// Model objects to proto, for clients and tests (a decoded message encodes back to an equal
// message). Each clears `out` first.
void ToProto(const Node& node, v1::Node* out);
void ToProto(const Pod& pod, v1::Pod* out);
void ToProto(const PriorityClass& priority_class, v1::PriorityClass* out);
void ToProto(const PodDisruptionBudget& pdb, v1::PodDisruptionBudget* out);
void ToProto(const DeleteObject& del, v1::ObjectRef* out);
void ToProto(const ClusterChange& change, v1::Change* out);
void ToProto(const ScoringStrategy& strategy, v1::ScoringStrategy* out);

// Node selectors, shared with the DRA converter (convert_dra.h).
absl::Status DecodeNodeSelectorAt(const v1::NodeSelector& in, absl::string_view path,
                                  NodeSelector* out);
void EncodeNodeSelector(const NodeSelector& in, v1::NodeSelector* out);

}  // namespace sextant::server

#endif  // SEXTANT_SERVER_CONVERT_H_
