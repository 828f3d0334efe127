// Raw ZeroMQ request/ack throughput: the ceiling `wojak bench e2e` compares the engine with.
#pragma once

#include "common/status.h"

namespace wojak {

// Sends `messages` requests from a DEALER to a ROUTER over ipc:// (a fresh temp directory)
// keeping at most `window` unanswered, the ROUTER acking each at once; payloads are the size
// of an encoded order and of an encoded decision. Returns acknowledged messages per second.
// DEADLINE_EXCEEDED if the loop stalls for 10 s.
StatusOr<double> RawZmqProbe(int messages, int window);

}  // namespace wojak
