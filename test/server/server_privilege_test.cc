// Least privilege at the listener: the unix socket is owner-only whatever the umask, plaintext
// TCP is refused unless explicitly allowed and then only on loopback, and an abstract unix socket
// (no file to carry permissions) is refused by default.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/health_client.h"
#include "server/server.h"
#include "spdlog/spdlog.h"

namespace sextant::server {
namespace {

using ::testing::HasSubstr;

std::string TempPath(absl::string_view what) {
  static std::atomic<int> counter{0};
  return absl::StrCat(::testing::TempDir(), "sx-privilege-", getpid(), "-", counter++, what);
}

EngineOptions TestEngineOptions() {
  EngineOptions options;
  options.epoch = "e";
  options.profile.parallelism = 1;
  return options;
}

class ServerPrivilegeTest : public ::testing::Test {
 protected:
  void SetUp() override { spdlog::set_level(spdlog::level::warn); }
  Engine engine_{TestEngineOptions()};
};

// Restores the process umask when it goes out of scope.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : before_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(before_); }

 private:
  const mode_t before_;
};

TEST_F(ServerPrivilegeTest, UnixSocketIsOwnerOnlyWhateverTheUmask) {
  for (const mode_t mask : {mode_t{0}, mode_t{022}, mode_t{077}}) {
    SCOPED_TRACE(absl::StrCat("umask 0", mask));
    const std::string path = TempPath(".sock");
    mode_t mask_after = 0;
    {
      ScopedUmask scoped(mask);
      ServerOptions options;
      options.listen = "unix://" + path;
      absl::StatusOr<std::unique_ptr<EngineServer>> server = EngineServer::Start(&engine_, options);
      ASSERT_TRUE(server.ok()) << server.status();
      struct stat info;
      ASSERT_EQ(::lstat(path.c_str(), &info), 0);
      EXPECT_TRUE(S_ISSOCK(info.st_mode));
      EXPECT_EQ(info.st_mode & 07777, 0600u) << std::oct << (info.st_mode & 07777);
      EXPECT_EQ(info.st_uid, ::geteuid());
      // The owner still connects.
      std::string bytes;
      EXPECT_TRUE(
          testing::CheckHealth(
              grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials()), &bytes)
              .ok());
      (*server)->Shutdown(absl::ZeroDuration());
      (*server)->Wait();
      // The process umask is given back.
      mask_after = ::umask(mask);
    }
    EXPECT_EQ(mask_after, mask);
  }
}

TEST_F(ServerPrivilegeTest, RelativeUnixSocketIsOwnerOnly) {
  const std::string name = absl::StrCat("sx-privilege-rel-", getpid(), ".sock");
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof(cwd)), nullptr);
  ASSERT_EQ(::chdir(::testing::TempDir().c_str()), 0);
  ScopedUmask scoped(0);
  ServerOptions options;
  options.listen = "unix:" + name;
  absl::StatusOr<std::unique_ptr<EngineServer>> server = EngineServer::Start(&engine_, options);
  struct stat info;
  const bool stat_ok = ::lstat(name.c_str(), &info) == 0;
  if (server.ok()) (*server)->Shutdown(absl::ZeroDuration());
  ASSERT_EQ(::chdir(cwd), 0);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE(stat_ok);
  EXPECT_EQ(info.st_mode & 07777, 0600u);
}

TEST_F(ServerPrivilegeTest, PlaintextTcpIsRefusedByDefault) {
  for (const char* listen : {"127.0.0.1:0", "localhost:0", "0.0.0.0:0", "[::1]:0"}) {
    SCOPED_TRACE(listen);
    ServerOptions options;
    options.listen = listen;
    absl::StatusOr<std::unique_ptr<EngineServer>> server = EngineServer::Start(&engine_, options);
    ASSERT_FALSE(server.ok());
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(server.status().message()), HasSubstr("needs TLS"));
  }
}

TEST_F(ServerPrivilegeTest, InsecureLoopbackAllowsOnlyLoopbackHosts) {
  for (const char* listen :
       {"0.0.0.0:0", "[::]:0", "10.1.2.3:0", "example.com:0", "127.0.0:0", "127.0.0.256:0", ":0"}) {
    SCOPED_TRACE(listen);
    ServerOptions options;
    options.listen = listen;
    options.allow_insecure_loopback = true;
    absl::StatusOr<std::unique_ptr<EngineServer>> server = EngineServer::Start(&engine_, options);
    ASSERT_FALSE(server.ok());
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  }
  // Bound here: numeric loopback addresses (localhost would make gRPC resolve it through c-ares,
  // whose Debian build leaks a few bytes under LeakSanitizer; IsLoopbackAddress covers it).
  for (const char* listen : {"127.0.0.1:0", "127.1.2.3:0"}) {
    SCOPED_TRACE(listen);
    ServerOptions options;
    options.listen = listen;
    options.allow_insecure_loopback = true;
    absl::StatusOr<std::unique_ptr<EngineServer>> server = EngineServer::Start(&engine_, options);
    ASSERT_TRUE(server.ok()) << server.status();
    std::string bytes;
    EXPECT_TRUE(
        testing::CheckHealth(
            grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials()), &bytes)
            .ok());
  }
}

TEST(ServerLoopbackTest, LoopbackAddresses) {
  for (const char* address : {"127.0.0.1:0", "127.255.0.9:50051", "localhost:8080", "[::1]:0",
                              "::1:0", "ipv4:127.0.0.1:0", "ipv6:[::1]:0"}) {
    EXPECT_TRUE(IsLoopbackAddress(address)) << address;
  }
  for (const char* address :
       {"0.0.0.0:0", "[::]:0", "10.0.0.1:0", "128.0.0.1:0", "127.0.0:0", "127.0.0.1.5:0",
        "127.0.0.256:0", "localhost.example.com:0", "127.0.0.x:0", ":0", "example.com:0"}) {
    EXPECT_FALSE(IsLoopbackAddress(address)) << address;
  }
}

TEST_F(ServerPrivilegeTest, AbstractUnixSocketIsRefusedByDefault) {
  ServerOptions options;
  options.listen = absl::StrCat("unix-abstract:sx-privilege-", getpid());
  absl::StatusOr<std::unique_ptr<EngineServer>> server = EngineServer::Start(&engine_, options);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(server.status().message()), HasSubstr("no file permissions"));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ServerPrivilegeCommandTest, ServeRefusesPlaintextTcp) {
  const std::string log = TempPath(".log");
  const int status =
      std::system(absl::StrCat(SEXTANT_BINARY, " serve --listen 127.0.0.1:0 2> ", log).c_str());
  EXPECT_THAT(ReadFile(log), HasSubstr("needs TLS"));
  std::remove(log.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
}

}  // namespace
}  // namespace sextant::server
