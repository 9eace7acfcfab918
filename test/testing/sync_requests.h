// Builders of Sync messages for the server tests: one change, a delta and a full snapshot.
#ifndef SEXTANT_TEST_TESTING_SYNC_REQUESTS_H_
#define SEXTANT_TEST_TESTING_SYNC_REQUESTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sextant/v1/engine.pb.h"

namespace sextant::testutil {

inline v1::Change PodChange(const v1::Pod& pod) {
  v1::Change change;
  *change.mutable_upsert_pod() = pod;
  return change;
}

inline v1::Change Delete(v1::ObjectRef::Kind kind, const std::string& ns, const std::string& name) {
  v1::Change change;
  change.mutable_delete_()->set_kind(kind);
  change.mutable_delete_()->set_namespace_(ns);
  change.mutable_delete_()->set_name(name);
  return change;
}

inline v1::SyncRequest Delta(uint64_t sequence, const std::vector<v1::Change>& changes) {
  v1::SyncRequest request;
  request.mutable_delta()->set_sequence(sequence);
  for (const v1::Change& change : changes) *request.mutable_delta()->add_changes() = change;
  return request;
}

inline v1::SyncRequest Full(uint64_t sequence, const std::vector<v1::Change>& objects) {
  v1::SyncRequest request;
  request.mutable_full()->set_sequence(sequence);
  for (const v1::Change& object : objects) *request.mutable_full()->add_objects() = object;
  return request;
}

}  // namespace sextant::testutil

#endif  // SEXTANT_TEST_TESTING_SYNC_REQUESTS_H_
