// ThreadSanitizer build only (SEXTANT_SANITIZE=thread): makes Debian's absl::Mutex visible to TSan.
//
// libabsl_synchronization.so from Debian is not built with -fsanitize=thread, so TSan sees neither
// its lock/unlock (no happens-before) nor the atomics inside it, and it would report a race on
// every member an absl::Mutex guards. Instead of suppressing those reports (which would hide real
// races on the same members), this file defines the Mutex entry points we use in the test binary:
// each one tells TSan what it does with the __tsan_mutex_* annotations (the ones absl itself uses
// when it is compiled with TSan) and calls the library's own function, found with
// dlsym(RTLD_NEXT). Definitions in the executable take precedence over the shared library's.
//
// As in absl's own TSan build, TSan ignores memory accesses between a pre_* and a post_*
// annotation (inside the library), which covers the evaluation of Await/LockWhen conditions: the
// library evaluates them with the mutex held, on the waiting thread or on the one unlocking.
// Await* is one pre_unlock ... post_unlock around the whole wait, then the re-lock.
// A mutex entry point not wrapped here (CondVar, Notification, ...) would bring back false
// reports: wrap it here too before using it in code the TSan run covers.
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/base/options.h"
#include "absl/synchronization/mutex.h"

#if !defined(__SANITIZE_THREAD__)
#error "tsan_absl_mutex.cc belongs to the ThreadSanitizer build only"
#endif

namespace {

#define SEXTANT_STR2(x) #x
#define SEXTANT_STR(x) SEXTANT_STR2(x)

// "_ZN4absl<len><inline namespace>" + rest: the mangled name of absl::<inline ns>::<rest>.
template <typename Fn>
Fn Real(const char* rest) {
#if ABSL_OPTION_USE_INLINE_NAMESPACE
  const std::string ns = SEXTANT_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  const std::string name = "_ZN4absl" + std::to_string(ns.size()) + ns + rest;
#else
  const std::string name = std::string("_ZN4absl") + rest;
#endif
  void* fn = dlsym(RTLD_NEXT, name.c_str());
  if (fn == nullptr) {
    std::fprintf(stderr, "tsan_absl_mutex: %s not found in the absl library\n", name.c_str());
    std::abort();
  }
  return reinterpret_cast<Fn>(fn);
}

// Mutexes this thread holds in reader mode, so that Await knows which mode it releases.
thread_local std::vector<const void*> reader_held;

unsigned Mode(const void* mu) {
  return std::find(reader_held.begin(), reader_held.end(), mu) != reader_held.end()
             ? __tsan_mutex_read_lock
             : 0;
}

void ForgetReader(const void* mu) {
  auto it = std::find(reader_held.begin(), reader_held.end(), mu);
  if (it != reader_held.end()) reader_held.erase(it);
}

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

using MutexFn = void (*)(Mutex*);
using MutexTryFn = bool (*)(Mutex*);
using AwaitFn = void (*)(Mutex*, const Condition&);
using AwaitTimeoutFn = bool (*)(Mutex*, const Condition&, Duration);
using AwaitDeadlineFn = bool (*)(Mutex*, const Condition&, Time);

Mutex::~Mutex() {
  static const MutexFn real = Real<MutexFn>("5MutexD2Ev");
  __tsan_mutex_destroy(this, 0);
  real(this);
}

void Mutex::Lock() {
  static const MutexFn real = Real<MutexFn>("5Mutex4LockEv");
  __tsan_mutex_pre_lock(this, 0);
  real(this);
  __tsan_mutex_post_lock(this, 0, 0);
}

void Mutex::Unlock() {
  static const MutexFn real = Real<MutexFn>("5Mutex6UnlockEv");
  __tsan_mutex_pre_unlock(this, 0);
  real(this);
  __tsan_mutex_post_unlock(this, 0);
}

bool Mutex::TryLock() {
  static const MutexTryFn real = Real<MutexTryFn>("5Mutex7TryLockEv");
  __tsan_mutex_pre_lock(this, __tsan_mutex_try_lock);
  const bool locked = real(this);
  __tsan_mutex_post_lock(
      this, __tsan_mutex_try_lock | (locked ? 0 : __tsan_mutex_try_lock_failed), 0);
  return locked;
}

void Mutex::ReaderLock() {
  static const MutexFn real = Real<MutexFn>("5Mutex10ReaderLockEv");
  __tsan_mutex_pre_lock(this, __tsan_mutex_read_lock);
  real(this);
  __tsan_mutex_post_lock(this, __tsan_mutex_read_lock, 0);
  reader_held.push_back(this);
}

void Mutex::ReaderUnlock() {
  static const MutexFn real = Real<MutexFn>("5Mutex12ReaderUnlockEv");
  ForgetReader(this);
  __tsan_mutex_pre_unlock(this, __tsan_mutex_read_lock);
  real(this);
  __tsan_mutex_post_unlock(this, __tsan_mutex_read_lock);
}

bool Mutex::ReaderTryLock() {
  static const MutexTryFn real = Real<MutexTryFn>("5Mutex13ReaderTryLockEv");
  const unsigned flags = __tsan_mutex_read_lock | __tsan_mutex_try_lock;
  __tsan_mutex_pre_lock(this, flags);
  const bool locked = real(this);
  __tsan_mutex_post_lock(this, flags | (locked ? 0 : __tsan_mutex_try_lock_failed), 0);
  if (locked) reader_held.push_back(this);
  return locked;
}

// Await*: the mutex is released while waiting and held again on return, in the same mode.
void Mutex::Await(const Condition& cond) {
  static const AwaitFn real = Real<AwaitFn>("5Mutex5AwaitERKNS0_9ConditionE");
  const unsigned mode = Mode(this);
  __tsan_mutex_pre_unlock(this, mode);
  real(this, cond);
  __tsan_mutex_post_unlock(this, mode);
  __tsan_mutex_pre_lock(this, mode);
  __tsan_mutex_post_lock(this, mode, 0);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  static const AwaitTimeoutFn real =
      Real<AwaitTimeoutFn>("5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  const unsigned mode = Mode(this);
  __tsan_mutex_pre_unlock(this, mode);
  const bool met = real(this, cond, timeout);
  __tsan_mutex_post_unlock(this, mode);
  __tsan_mutex_pre_lock(this, mode);
  __tsan_mutex_post_lock(this, mode, 0);
  return met;
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  static const AwaitDeadlineFn real =
      Real<AwaitDeadlineFn>("5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  const unsigned mode = Mode(this);
  __tsan_mutex_pre_unlock(this, mode);
  const bool met = real(this, cond, deadline);
  __tsan_mutex_post_unlock(this, mode);
  __tsan_mutex_pre_lock(this, mode);
  __tsan_mutex_post_lock(this, mode, 0);
  return met;
}

void Mutex::LockWhen(const Condition& cond) {
  static const AwaitFn real = Real<AwaitFn>("5Mutex8LockWhenERKNS0_9ConditionE");
  __tsan_mutex_pre_lock(this, 0);
  real(this, cond);
  __tsan_mutex_post_lock(this, 0, 0);
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  static const AwaitFn real = Real<AwaitFn>("5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  __tsan_mutex_pre_lock(this, __tsan_mutex_read_lock);
  real(this, cond);
  __tsan_mutex_post_lock(this, __tsan_mutex_read_lock, 0);
  reader_held.push_back(this);
}

ABSL_NAMESPACE_END
}  // namespace absl
