// Runs librdkafka's mock Kafka cluster on 127.0.0.1 until SIGTERM/SIGINT, for tests and manual
// use: prints "bootstrap_servers=HOST:PORT,..." on stdout once the topics exist.
//   kafka_mock_cluster [--brokers N] [--topic NAME:PARTITIONS]...
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "sidecar/sources/kafka/kafka_testbed.h"

namespace {

volatile sig_atomic_t stop_requested = 0;

void OnStopSignal(int) { stop_requested = 1; }

int Usage(const char* message) {
  std::fprintf(stderr,
               "kafka_mock_cluster: %s\nusage: kafka_mock_cluster [--brokers N] "
               "[--topic NAME:PARTITIONS]...\n",
               message);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int brokers = 3;
  std::vector<std::pair<std::string, int>> topics;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) return Usage("missing value");
    const std::string value = argv[++i];
    if (flag == "--brokers") {
      brokers = std::atoi(value.c_str());
      if (brokers < 1) return Usage("--brokers must be >= 1");
    } else if (flag == "--topic") {
      const size_t colon = value.rfind(':');
      const int partitions = colon == std::string::npos ? 1 : std::atoi(value.c_str() + colon + 1);
      if (partitions < 1) return Usage("--topic NAME:PARTITIONS needs PARTITIONS >= 1");
      topics.emplace_back(value.substr(0, colon), partitions);
    } else {
      return Usage(("unknown flag " + flag).c_str());
    }
  }
  struct sigaction action = {};
  action.sa_handler = OnStopSignal;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);

  auto cluster = wojak::sidecar::kafka::KafkaMockCluster::Start(brokers);
  if (!cluster.ok()) {
    std::fprintf(stderr, "%s\n", cluster.status().ToString().c_str());
    return 1;
  }
  for (const auto& [name, partitions] : topics) {
    wojak::Status created = (*cluster)->CreateTopic(name, partitions);
    if (!created.ok()) {
      std::fprintf(stderr, "%s\n", created.ToString().c_str());
      return 1;
    }
  }
  std::printf("bootstrap_servers=%s\n", (*cluster)->bootstrap_servers().c_str());
  std::fflush(stdout);
  while (!stop_requested) usleep(50 * 1000);
  return 0;
}
