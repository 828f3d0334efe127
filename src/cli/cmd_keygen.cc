// `wojak keygen`: a fresh CURVE key pair (Z85) for the engine server or a sidecar client.
#include <fcntl.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/flags.h"

namespace wojak::cli {
namespace {

// Writes the secret key to a new file only its owner can read; an existing file is never
// overwritten (it may hold the key a running engine or sidecar uses).
Status WriteSecretFile(const std::string& path, const std::string& secret_key) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("creating " + path + ": " + std::strerror(errno));
  const std::string line = secret_key + "\n";
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced) return IoError("writing " + path + ": " + std::strerror(errno));
  return OkStatus();
}

}  // namespace

int RunKeygen(const Args& args) {
  const std::vector<FlagSpec> specs = {
      {"secret-file", true,
       "write the secret key to this new file (mode 0600) and print only the public key"},
      {"json", false,
       "print {\"public_key\":...,\"secret_key\":...} (secret only without "
       "--secret-file)"},
      {"help", false, "show this help"}};
  auto flags = Flags::Parse(args, specs);
  if (!flags.ok()) return UsageError("keygen", flags.status().message());
  if (flags->Has("help")) {
    std::cout << "usage: wojak keygen [--secret-file FILE] [--json]\n"
                 "A CURVE key pair for engine.curve_secret_key (server) or a sidecar's\n"
                 "sidecar.curve_client_secret_key; list sidecar public keys in\n"
                 "engine.curve_allowed_clients.\n"
              << FlagsUsage(specs);
    return 0;
  }
  char public_key[41];
  char secret_key[41];
  if (zmq_curve_keypair(public_key, secret_key) != 0) {
    return Fail("keygen", std::string("zmq_curve_keypair: ") + zmq_strerror(errno) +
                              " (libzmq built without CURVE?)");
  }
  const std::optional<std::string> secret_file = flags->Get("secret-file");
  if (secret_file) {
    Status written = WriteSecretFile(*secret_file, secret_key);
    if (!written.ok()) return Fail("keygen", written.ToString());
  }
  if (flags->Has("json")) {
    nlohmann::json out = {{"public_key", public_key}};
    if (secret_file) {
      out["secret_key_file"] = *secret_file;
    } else {
      out["secret_key"] = secret_key;
    }
    std::cout << out.dump() << "\n";
  } else {
    std::cout << "public_key: " << public_key << "\n";
    if (secret_file) {
      std::cout << "secret_key_file: " << *secret_file << "\n";
    } else {
      std::cout << "secret_key: " << secret_key << "\n";
    }
  }
  std::memset(secret_key, 0, sizeof(secret_key));
  return 0;
}

}  // namespace wojak::cli
