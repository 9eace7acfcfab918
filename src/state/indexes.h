// The indexes ClusterState keeps so that pod affinity and topology spread cost grows with the
// nodes, not with nodes x pods: node label columns (label key -> value of every node), bound pods
// by label, and the affinity terms of bound pods by the labels they select. All are updated
// incrementally as nodes change and pods are bound, assumed, forgotten and deleted; readers run
// while the state is held for reading.
#ifndef SEXTANT_STATE_INDEXES_H_
#define SEXTANT_STATE_INDEXES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "model/affinity_terms.h"
#include "model/selectors.h"
#include "sextant/model.h"

namespace sextant {

struct PodRecord;

// For every label key any node has carried, the value id of that label on every node slot
// (kAbsent when the node lacks it or is gone). Value ids are interned per key and never reused.
class NodeLabelIndex {
 public:
  static constexpr int32_t kAbsent = -1;

  // The key's id, or kAbsent when no node has ever carried it.
  int32_t FindKey(absl::string_view key) const;
  // The value id of key (an id from FindKey) on slot.
  int32_t Value(int32_t key, uint32_t slot) const { return columns_[key].values[slot]; }
  // Value ids of a key run from 0 to value_count(key) - 1.
  int32_t value_count(int32_t key) const {
    return static_cast<int32_t>(columns_[key].names.size());
  }
  const std::string& value_name(int32_t key, int32_t value) const {
    return columns_[key].names[value];
  }
  // The id of value under key, or kAbsent.
  int32_t FindValue(int32_t key, absl::string_view value) const;

  void Resize(size_t slots);
  // Replaces what slot carries: clears the labels in `old_labels`, sets those in `labels`.
  void SetNode(uint32_t slot, const Labels& old_labels, const Labels& labels);
  void ClearNode(uint32_t slot, const Labels& old_labels);

 private:
  struct Column {
    std::vector<int32_t> values;  // per slot
    std::vector<std::string> names;
    absl::flat_hash_map<std::string, int32_t> ids;
  };
  int32_t KeyFor(const std::string& key);

  absl::flat_hash_map<std::string, int32_t> keys_;
  std::vector<Column> columns_;
  size_t slots_ = 0;
};

// Bound pods (on any node, present or not) by label, to find the pods a selector can match
// without scanning them all.
class PodLabelIndex {
 public:
  void Add(const PodRecord* record);
  void Remove(const PodRecord* record);
  size_t size() const { return all_.size(); }

  // Calls fn(const PodRecord&) for every bound pod the selector can match: a superset the
  // caller still checks with the selector (and namespace). Each pod at most once.
  template <typename Fn>
  void ForEachCandidate(const CompiledLabelSelector& selector, Fn&& fn) const;

 private:
  using PodSet = absl::flat_hash_set<const PodRecord*>;
  struct KeyEntry {
    PodSet all;
    absl::flat_hash_map<std::string, PodSet> by_value;
  };
  absl::flat_hash_map<std::string, KeyEntry> keys_;
  PodSet all_;
};

enum class TermKind : uint8_t {
  kRequiredAffinity,
  kRequiredAntiAffinity,
  kPreferredAffinity,
  kPreferredAntiAffinity
};

struct IndexedTerm {
  const PodRecord* pod;
  const AffinityTerm* term;
  TermKind kind;
};

// The (anti-)affinity terms of bound pods, by the labels a pod needs for the term's selector to
// match it: under each value of the selector's first In (or matchLabels) requirement, else under
// the key of its first Exists requirement, else unanchored. Terms whose selector matches nothing
// are not kept.
class AffinityTermIndex {
 public:
  void Add(const PodRecord* record);
  void Remove(const PodRecord* record);
  size_t size() const { return size_; }

  // Calls fn(const IndexedTerm&) for every indexed term whose selector can match a pod carrying
  // `labels`: a superset the caller checks with AffinityTerm::Matches. Each term at most once.
  template <typename Fn>
  void ForEachCandidate(const Labels& labels, Fn&& fn) const;

 private:
  using Bucket = std::vector<IndexedTerm>;
  void Insert(const IndexedTerm& term);
  void Erase(const IndexedTerm& term);
  Bucket* BucketFor(const AffinityTerm& term, const std::string** value_out, size_t i);

  absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, Bucket>> by_pair_;
  absl::flat_hash_map<std::string, Bucket> by_key_;
  Bucket unanchored_;
  size_t size_ = 0;
};

// ---- templates ----

template <typename Fn>
void PodLabelIndex::ForEachCandidate(const CompiledLabelSelector& selector, Fn&& fn) const {
  if (selector.nothing()) return;
  // The smallest candidate set among the selector's In and Exists requirements.
  const PodSet* best_set = &all_;
  const KeyEntry* best_in = nullptr;
  const std::vector<std::string>* best_values = nullptr;
  size_t best = all_.size();
  for (const auto& r : selector.requirements()) {
    const SelectorRequirement& req = r.requirement();
    if (req.op != SelectorOperator::kIn && req.op != SelectorOperator::kExists) continue;
    auto it = keys_.find(req.key);
    if (it == keys_.end()) return;  // no bound pod carries the key: nothing can match
    if (req.op == SelectorOperator::kExists) {
      if (it->second.all.size() < best) {
        best = it->second.all.size();
        best_set = &it->second.all;
        best_in = nullptr;
      }
      continue;
    }
    size_t total = 0;
    for (const auto& v : req.values) {
      auto vit = it->second.by_value.find(v);
      if (vit != it->second.by_value.end()) total += vit->second.size();
    }
    if (total < best) {
      best = total;
      best_in = &it->second;
      best_values = &req.values;
    }
  }
  if (best_in == nullptr) {
    for (const PodRecord* record : *best_set) fn(*record);
    return;
  }
  for (size_t i = 0; i < best_values->size(); ++i) {
    const std::string& v = (*best_values)[i];
    bool repeated = false;  // In [a, a]: visit once
    for (size_t j = 0; j < i; ++j) repeated = repeated || (*best_values)[j] == v;
    if (repeated) continue;
    auto vit = best_in->by_value.find(v);
    if (vit == best_in->by_value.end()) continue;
    for (const PodRecord* record : vit->second) fn(*record);
  }
}

template <typename Fn>
void AffinityTermIndex::ForEachCandidate(const Labels& labels, Fn&& fn) const {
  for (const IndexedTerm& t : unanchored_) fn(t);
  for (const auto& [key, value] : labels) {
    auto kit = by_key_.find(key);
    if (kit != by_key_.end()) {
      for (const IndexedTerm& t : kit->second) fn(t);
    }
    auto pit = by_pair_.find(key);
    if (pit == by_pair_.end()) continue;
    auto vit = pit->second.find(value);
    if (vit == pit->second.end()) continue;
    for (const IndexedTerm& t : vit->second) fn(t);
  }
}

}  // namespace sextant

#endif  // SEXTANT_STATE_INDEXES_H_
