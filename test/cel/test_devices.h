// Shared devices for the CEL tests.
#ifndef SEXTANT_TEST_CEL_TEST_DEVICES_H_
#define SEXTANT_TEST_CEL_TEST_DEVICES_H_

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "sextant/cel.h"

namespace sextant::cel::testing {

inline AttributeValue Int(int64_t v) { return AttributeValue(std::in_place_index<0>, v); }
inline AttributeValue Bool(bool v) { return AttributeValue(std::in_place_index<1>, v); }
inline AttributeValue Str(std::string v) {
  return AttributeValue(std::in_place_index<2>, std::move(v));
}
inline AttributeValue Version(const std::string& v) {
  return AttributeValue(std::in_place_index<3>, *Semver::Parse(v));
}
inline CapacityValue Cap(const std::string& text) { return *CapacityValue::Parse(text); }

// An H100-like GPU of driver gpu.example.com.
inline Device Gpu() {
  return *Device::Create("gpu.example.com", false,
                         {{"model", Str("H100")},
                          {"index", Int(0)},
                          {"ecc", Bool(true)},
                          {"driverVersion", Version("535.104.5")},
                          {"dra.net/numaNode", Int(1)},
                          {"maxInt", Int(9223372036854775807)}},
                         {{"memory", Cap("80Gi")}, {"cpu", Cap("1000m")}});
}

}  // namespace sextant::cel::testing

#endif  // SEXTANT_TEST_CEL_TEST_DEVICES_H_
