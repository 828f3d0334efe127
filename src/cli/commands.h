// Subcommands of the wojak binary; each returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace wojak::cli {

using Args = std::vector<std::string>;  // the words after the subcommand

int RunEngine(const Args& args);
int RunSidecar(const Args& args);
int RunSubmit(const Args& args);
int RunQuery(const std::string& what, const Args& args);  // orders | trades | positions
int RunReplay(const Args& args);
int RunVerify(const Args& args);
int RunConfig(const Args& args);                              // config check FILE | config docs
int RunBench(const Args& args);                               // bench risk | e2e | ...
int RunAdmin(const std::string& what, const Args& args);      // halt | resume
int RunRestQuery(const std::string& what, const Args& args);  // limits | state
int RunTicks(const Args& args);
int RunKeygen(const Args& args);  // CURVE key pair

// Prints "wojak <command>: <message>" to stderr and returns the usage exit code (2).
int UsageError(const std::string& command, const std::string& message);
// Prints "wojak <command>: <message>" to stderr and returns 1.
int Fail(const std::string& command, const std::string& message);

}  // namespace wojak::cli
