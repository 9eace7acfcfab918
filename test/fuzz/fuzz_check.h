// Invariant checks inside fuzz targets: a failed check prints what broke and aborts, which
// libFuzzer reports as a crash and saves the input for reproduction.
#ifndef SEXTANT_TEST_FUZZ_FUZZ_CHECK_H_
#define SEXTANT_TEST_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define SEXTANT_FUZZ_CHECK(condition, ...)                                             \
  do {                                                                                 \
    if (!(condition)) {                                                                \
      std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n  ", __FILE__, __LINE__, \
                   #condition);                                                        \
      std::fprintf(stderr, __VA_ARGS__);                                               \
      std::fprintf(stderr, "\n");                                                      \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)

#endif  // SEXTANT_TEST_FUZZ_FUZZ_CHECK_H_
