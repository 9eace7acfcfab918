#include <ostream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sextant/gpu_trace.h"

namespace sextant {
namespace {

using ::testing::HasSubstr;

TEST(GpuTraceReaderTest, ReadsTheBundledSamples) {
  const std::string dir = std::string(SEXTANT_SOURCE_DIR) + "/test/data/gpu/";
  auto nodes = ReadGpuNodeCsv(dir + "nodes_sample.csv");
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  ASSERT_EQ(nodes->size(), 5u);
  EXPECT_EQ((*nodes)[0].name, "openb-node-0000");
  EXPECT_EQ((*nodes)[0].cpu_milli, 64000);
  EXPECT_EQ((*nodes)[0].memory_bytes, int64_t{262144} << 20);
  EXPECT_EQ((*nodes)[0].gpu_count, 2);
  EXPECT_EQ(GpuModelName((*nodes)[0].model), "P100");

  auto pods = ReadGpuPodCsv(dir + "pods_sample.csv");
  ASSERT_TRUE(pods.ok()) << pods.status();
  ASSERT_EQ(pods->size(), 14u);
  EXPECT_FALSE((*pods)[0].UsesGpu());
  EXPECT_TRUE((*pods)[6].IsShared());
  EXPECT_EQ((*pods)[6].gpu_milli, 470);
  EXPECT_EQ((*pods)[9].num_gpu, 8);
  EXPECT_EQ((*pods)[9].TotalGpuMilli(), 8000);
  const GpuModelMask v100 = (GpuModelMask{1} << *ParseGpuModel("V100M16")) |
                            (GpuModelMask{1} << *ParseGpuModel("V100M32"));
  EXPECT_EQ((*pods)[13].models, v100);
}

TEST(GpuTraceReaderTest, SpecColumnIsOptionalAndOtherColumnsMayMoveOrBeExtra) {
  auto pods = ParseGpuPodCsv(
      "gpu_milli,num_gpu,extra,name,memory_mib,cpu_milli\n"
      "500,1,x,p1,1024,4000\r\n\n1000,2,y,p2,2048,8000\n",
      "pods.csv");
  ASSERT_TRUE(pods.ok()) << pods.status();
  ASSERT_EQ(pods->size(), 2u);
  EXPECT_EQ((*pods)[0].name, "p1");
  EXPECT_EQ((*pods)[0].gpu_milli, 500);
  EXPECT_EQ((*pods)[0].models, 0u);
  EXPECT_EQ((*pods)[1].cpu_milli, 8000);
  EXPECT_EQ((*pods)[1].memory_bytes, int64_t{2048} << 20);
}

TEST(GpuTraceReaderTest, MissingFileIsNotFound) {
  auto nodes = ReadGpuNodeCsv("/nonexistent/nodes.csv");
  EXPECT_EQ(nodes.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(nodes.status().message(), HasSubstr("/nonexistent/nodes.csv"));
}

struct BadInput {
  const char* name;
  const char* text;
  const char* message;
};

// Keeps the discovered test names stable (gtest otherwise prints the struct's bytes).
void PrintTo(const BadInput& input, std::ostream* os) { *os << input.name; }

class GpuNodeCsvErrorTest : public ::testing::TestWithParam<BadInput> {};

TEST_P(GpuNodeCsvErrorTest, NamesFileLineAndColumn) {
  auto nodes = ParseGpuNodeCsv(GetParam().text, "nodes.csv");
  ASSERT_FALSE(nodes.ok());
  EXPECT_EQ(nodes.status().message(), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, GpuNodeCsvErrorTest,
    ::testing::Values(
        BadInput{"Empty", "", "nodes.csv:1: empty file, no header"},
        BadInput{"MissingColumn", "sn,cpu_milli,memory_mib,gpu\nn1,1000,1024,1\n",
                 "nodes.csv:1: missing column \"model\""},
        BadInput{"NonNumeric",
                 "sn,cpu_milli,memory_mib,gpu,model\nn1,1000,1024,1,T4\nn2,lots,1,1,T4\n",
                 "nodes.csv:3: column \"cpu_milli\" (column 2): \"lots\" is not a non-negative "
                 "integer"},
        BadInput{"Negative", "sn,cpu_milli,memory_mib,gpu,model\nn1,1000,-5,1,T4\n",
                 "nodes.csv:2: column \"memory_mib\" (column 3): negative value -5"},
        BadInput{"TooManyGpus", "sn,cpu_milli,memory_mib,gpu,model\nn1,1000,5,17,T4\n",
                 "nodes.csv:2: column \"gpu\" (column 4): 17 GPUs, at most 16 per node"},
        BadInput{"UnknownModel", "sn,cpu_milli,memory_mib,gpu,model\nn1,1000,5,2,K80\n",
                 "nodes.csv:2: column \"model\" (column 5): unknown GPU model \"K80\""},
        BadInput{"GpuNodeWithoutModel", "sn,cpu_milli,memory_mib,gpu,model\nn1,1000,5,2,\n",
                 "nodes.csv:2: column \"model\" (column 5): empty model of a GPU node"},
        BadInput{"ShortRow", "sn,cpu_milli,memory_mib,gpu,model\nn1,1000\n",
                 "nodes.csv:2: 2 fields, the header has 5"},
        // Found by the gpu_trace fuzz target: MiB to bytes overflowed int64 (UBSan).
        BadInput{"HugeMemory", "sn,cpu_milli,memory_mib,gpu,model\nn1,1000,16666666666384,2,T4\n",
                 "nodes.csv:2: column \"memory_mib\" (column 3): 16666666666384 is more than 2^40"},
        // Found by the gpu_trace fuzz target: two nodes of one name were one engine node.
        BadInput{"DuplicateName",
                 "sn,cpu_milli,memory_mib,gpu,model\nn1,1000,5,2,T4\nn2,1,1,0,\nn1,1,1,0,\n",
                 "nodes.csv:4: column \"sn\" (column 1): duplicate node name \"n1\" (first on "
                 "line 2)"}),
    [](const auto& info) { return std::string(info.param.name); });

class GpuPodCsvErrorTest : public ::testing::TestWithParam<BadInput> {};

TEST_P(GpuPodCsvErrorTest, NamesFileLineAndColumn) {
  auto pods = ParseGpuPodCsv(GetParam().text, "pods.csv");
  ASSERT_FALSE(pods.ok());
  EXPECT_EQ(pods.status().message(), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, GpuPodCsvErrorTest,
    ::testing::Values(
        BadInput{"MissingColumn", "name,cpu_milli,memory_mib,num_gpu\np,1,1,0\n",
                 "pods.csv:1: missing column \"gpu_milli\""},
        BadInput{"NonNumeric", "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np,1,1,1,0.5\n",
                 "pods.csv:2: column \"gpu_milli\" (column 5): \"0.5\" is not a non-negative "
                 "integer"},
        BadInput{"NegativeCpu", "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np,-100,1,0,0\n",
                 "pods.csv:2: column \"cpu_milli\" (column 2): negative value -100"},
        BadInput{"MoreThanOneGpuOfMilli",
                 "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np,1,1,1,1500\n",
                 "pods.csv:2: column \"gpu_milli\" (column 5): 1500 is more than one GPU (1000 "
                 "per device)"},
        BadInput{"SharedOnSeveralGpus",
                 "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np,1,1,2,500\n",
                 "pods.csv:2: column \"gpu_milli\" (column 5): a shared (fractional) request "
                 "must ask for one GPU (num_gpu 1)"},
        BadInput{"UnknownModelInSpec",
                 "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec\np,1,1,1,1000,T4|X9\n",
                 "pods.csv:2: column \"gpu_spec\" (column 6): unknown GPU model \"X9\""},
        // Found by the gpu_trace fuzz target: MiB to bytes overflowed int64 (UBSan).
        BadInput{"HugeMemory",
                 "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np,12000,16666666666384,1,1000\n",
                 "pods.csv:2: column \"memory_mib\" (column 3): 16666666666384 is more than 2^40"},
        BadInput{"HugeCpu",
                 "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np,9223372036854775807,1,1,1000\n",
                 "pods.csv:2: column \"cpu_milli\" (column 2): 9223372036854775807 is more than "
                 "2^40"},
        // Found by the gpu_trace fuzz target: the replay failed with ALREADY_EXISTS.
        BadInput{"DuplicateName",
                 "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np,1,1,1,1000\np,1,1,0,0\n",
                 "pods.csv:3: column \"name\" (column 1): duplicate pod name \"p\" (first on "
                 "line 2)"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace sextant
