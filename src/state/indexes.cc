#include "state/indexes.h"

#include <algorithm>

#include "state/node_info.h"

namespace sextant {

// ---- NodeLabelIndex ----

int32_t NodeLabelIndex::FindKey(absl::string_view key) const {
  auto it = keys_.find(key);
  return it == keys_.end() ? kAbsent : it->second;
}

int32_t NodeLabelIndex::FindValue(int32_t key, absl::string_view value) const {
  const auto& ids = columns_[key].ids;
  auto it = ids.find(value);
  return it == ids.end() ? kAbsent : it->second;
}

int32_t NodeLabelIndex::KeyFor(const std::string& key) {
  auto [it, inserted] = keys_.try_emplace(key, static_cast<int32_t>(columns_.size()));
  if (inserted) {
    columns_.emplace_back();
    columns_.back().values.assign(slots_, kAbsent);
  }
  return it->second;
}

void NodeLabelIndex::Resize(size_t slots) {
  slots_ = slots;
  for (Column& c : columns_) c.values.resize(slots, kAbsent);
}

void NodeLabelIndex::ClearNode(uint32_t slot, const Labels& old_labels) {
  for (const auto& [key, value] : old_labels) {
    int32_t k = FindKey(key);
    if (k != kAbsent) columns_[k].values[slot] = kAbsent;
  }
}

void NodeLabelIndex::SetNode(uint32_t slot, const Labels& old_labels, const Labels& labels) {
  ClearNode(slot, old_labels);
  for (const auto& [key, value] : labels) {
    Column& c = columns_[KeyFor(key)];
    auto [it, inserted] = c.ids.try_emplace(value, static_cast<int32_t>(c.names.size()));
    if (inserted) c.names.push_back(value);
    c.values[slot] = it->second;
  }
}

// ---- PodLabelIndex ----

void PodLabelIndex::Add(const PodRecord* record) {
  all_.insert(record);
  for (const auto& [key, value] : record->pod.labels) {
    KeyEntry& entry = keys_[key];
    entry.all.insert(record);
    entry.by_value[value].insert(record);
  }
}

void PodLabelIndex::Remove(const PodRecord* record) {
  all_.erase(record);
  for (const auto& [key, value] : record->pod.labels) {
    auto it = keys_.find(key);
    if (it == keys_.end()) continue;
    it->second.all.erase(record);
    auto vit = it->second.by_value.find(value);
    if (vit != it->second.by_value.end()) {
      vit->second.erase(record);
      if (vit->second.empty()) it->second.by_value.erase(vit);
    }
    if (it->second.all.empty()) keys_.erase(it);
  }
}

// ---- AffinityTermIndex ----

namespace {

// The requirement a term is filed under: the first In (matchLabels included), else the first
// Exists; nullptr for unanchored terms.
const SelectorRequirement* Anchor(const AffinityTerm& term) {
  for (const auto& r : term.selector.requirements()) {
    if (r.requirement().op == SelectorOperator::kIn) return &r.requirement();
  }
  for (const auto& r : term.selector.requirements()) {
    if (r.requirement().op == SelectorOperator::kExists) return &r.requirement();
  }
  return nullptr;
}

template <typename Fn>
void ForEachTerm(const PodRecord* record, Fn&& fn) {
  if (!record->affinity) return;
  const PodAffinityTerms& terms = *record->affinity;
  for (const auto& t : terms.required_affinity) fn(IndexedTerm{record, &t, TermKind::kRequiredAffinity});
  for (const auto& t : terms.required_anti_affinity) {
    fn(IndexedTerm{record, &t, TermKind::kRequiredAntiAffinity});
  }
  for (const auto& t : terms.preferred_affinity) {
    fn(IndexedTerm{record, &t, TermKind::kPreferredAffinity});
  }
  for (const auto& t : terms.preferred_anti_affinity) {
    fn(IndexedTerm{record, &t, TermKind::kPreferredAntiAffinity});
  }
}

// Distinct values of an In requirement, in order.
std::vector<const std::string*> DistinctValues(const SelectorRequirement& r) {
  std::vector<const std::string*> out;
  for (const auto& v : r.values) {
    if (std::none_of(out.begin(), out.end(), [&](const std::string* s) { return *s == v; })) {
      out.push_back(&v);
    }
  }
  return out;
}

void EraseFrom(std::vector<IndexedTerm>& bucket, const IndexedTerm& term) {
  auto it = std::find_if(bucket.begin(), bucket.end(),
                         [&](const IndexedTerm& t) { return t.term == term.term; });
  if (it == bucket.end()) return;
  *it = bucket.back();
  bucket.pop_back();
}

}  // namespace

void AffinityTermIndex::Insert(const IndexedTerm& term) {
  if (term.term->selector.nothing()) return;
  ++size_;
  const SelectorRequirement* anchor = Anchor(*term.term);
  if (anchor == nullptr) {
    unanchored_.push_back(term);
  } else if (anchor->op == SelectorOperator::kExists) {
    by_key_[anchor->key].push_back(term);
  } else {
    auto& values = by_pair_[anchor->key];
    for (const std::string* v : DistinctValues(*anchor)) values[*v].push_back(term);
  }
}

void AffinityTermIndex::Erase(const IndexedTerm& term) {
  if (term.term->selector.nothing()) return;
  --size_;
  const SelectorRequirement* anchor = Anchor(*term.term);
  if (anchor == nullptr) {
    EraseFrom(unanchored_, term);
  } else if (anchor->op == SelectorOperator::kExists) {
    auto it = by_key_.find(anchor->key);
    if (it == by_key_.end()) return;
    EraseFrom(it->second, term);
    if (it->second.empty()) by_key_.erase(it);
  } else {
    auto it = by_pair_.find(anchor->key);
    if (it == by_pair_.end()) return;
    for (const std::string* v : DistinctValues(*anchor)) {
      auto vit = it->second.find(*v);
      if (vit == it->second.end()) continue;
      EraseFrom(vit->second, term);
      if (vit->second.empty()) it->second.erase(vit);
    }
    if (it->second.empty()) by_pair_.erase(it);
  }
}

void AffinityTermIndex::Add(const PodRecord* record) {
  ForEachTerm(record, [&](const IndexedTerm& t) { Insert(t); });
}

void AffinityTermIndex::Remove(const PodRecord* record) {
  ForEachTerm(record, [&](const IndexedTerm& t) { Erase(t); });
}

}  // namespace sextant
