// Transport security rules shared by everything that binds or connects a ZeroMQ socket: which
// endpoints other hosts can reach, and whether a plain (unauthenticated, unencrypted) one is
// allowed there.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace wojak {

// True for tcp:// endpoints whose host is not a loopback address: tcp://*:5555, tcp://0.0.0.0:1,
// tcp://10.0.0.5:1, tcp://eth0:1, tcp://[::]:1. False for ipc://, inproc://, tcp://127.x.x.x,
// tcp://localhost and tcp://[::1].
bool IsReachableFromOtherHosts(std::string_view endpoint);

// Refuses a plain tcp:// endpoint reachable from other hosts, bound or connected to: anyone on the
// network could then send orders (to an engine) or pose as the engine (to a sidecar), and read
// orders and decisions. With CURVE (`curve`) or an explicit `allow_insecure_tcp`
// (for a network the operator secures otherwise) it is allowed. FAILED_PRECONDITION naming
// the endpoint and both ways out; `what` says whose endpoint it is ("engine.endpoint").
Status CheckEndpointSecurity(std::string_view what, std::string_view endpoint, bool curve,
                             bool allow_insecure_tcp);

}  // namespace wojak
