// Tick files and the PUSH-side publisher.
#include "engine/tick_publisher.h"

#include <zmq.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <thread>

#include "model/instrument.h"
#include "wire/zmq_util.h"

namespace wojak {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    text = text.substr(1, text.size() - 2);
  }
  return text;
}

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  while (true) {
    size_t comma = line.find(',');
    fields.push_back(Trim(line.substr(0, comma)));
    if (comma == std::string_view::npos) return fields;
    line.remove_prefix(comma + 1);
  }
}

bool AllDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

template <typename T>
std::optional<T> ParseInteger(std::string_view text) {
  T value{};
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Reads exactly `digits` digits at `text[pos]`.
std::optional<int> Digits(std::string_view text, size_t pos, size_t digits) {
  if (pos + digits > text.size()) return std::nullopt;
  std::string_view part = text.substr(pos, digits);
  if (!AllDigits(part)) return std::nullopt;
  return ParseInteger<int>(part);
}

}  // namespace

StatusOr<Nanos> ParseTickTimestamp(std::string_view text) {
  auto bad = [&] {
    return InvalidArgument("timestamp '" + std::string(text) +
                           "' is neither Unix nanoseconds nor YYYY-MM-DDTHH:MM:SS[.f][Z|+HH:MM]");
  };
  if (AllDigits(text)) {
    auto ns = ParseInteger<int64_t>(text);
    if (!ns) return bad();
    return *ns;
  }
  if (text.size() < 19 || (text[10] != 'T' && text[10] != ' ')) return bad();
  std::optional<EpochDay> day = ParseIsoDate(text.substr(0, 10));
  auto hour = Digits(text, 11, 2), minute = Digits(text, 14, 2), second = Digits(text, 17, 2);
  if (!day || !hour || !minute || !second || text[13] != ':' || text[16] != ':' || *hour > 23 ||
      *minute > 59 || *second > 59) {
    return bad();
  }
  Nanos result = IstMidnight(*day) + kIstOffset +  // UTC midnight of that date
                 ((*hour * 60 + *minute) * 60 + *second) * kNanosPerSecond;
  size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    Nanos fraction = 0, scale = kNanosPerSecond;
    ++pos;
    size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      scale /= 10;
      if (scale == 0) return bad();  // finer than nanoseconds
      fraction += (text[pos] - '0') * scale;
      ++pos;
    }
    if (pos == start) return bad();
    result += fraction;
  }
  Nanos offset = kIstOffset;  // NSE time when the file does not say
  if (pos < text.size()) {
    std::string_view zone = text.substr(pos);
    if (zone == "Z") {
      offset = 0;
    } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
      auto zone_hours = Digits(zone, 1, 2), zone_minutes = Digits(zone, 4, 2);
      if (!zone_hours || !zone_minutes) return bad();
      offset = ((*zone_hours * 60 + *zone_minutes) * 60) * kNanosPerSecond;
      if (zone[0] == '-') offset = -offset;
    } else {
      return bad();
    }
  }
  return result - offset;
}

StatusOr<std::vector<TickUpdate>> ParseTickCsv(std::string_view text) {
  std::vector<TickUpdate> ticks;
  std::vector<std::string> errors;
  std::map<std::string, size_t, std::less<>> columns;
  size_t line_number = 0;
  while (!text.empty()) {
    size_t newline = text.find('\n');
    std::string_view line = Trim(text.substr(0, newline));
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    ++line_number;
    if (line.empty() || line.front() == '#') continue;
    std::vector<std::string_view> fields = SplitFields(line);
    auto error = [&](const std::string& message) {
      errors.push_back("line " + std::to_string(line_number) + ": " + message);
    };
    if (columns.empty()) {
      for (size_t i = 0; i < fields.size(); ++i) {
        static const std::vector<std::string_view> kKnown = {
            "symbol", "instrument_token", "instrument", "ltp", "timestamp", "bid", "ask", "oi"};
        if (std::find(kKnown.begin(), kKnown.end(), fields[i]) == kKnown.end()) {
          error("unknown column '" + std::string(fields[i]) +
                "' (known: symbol, instrument_token, instrument, ltp, timestamp, bid, ask, oi)");
        } else if (!columns.emplace(std::string(fields[i]), i).second) {
          error("column '" + std::string(fields[i]) + "' appears twice");
        }
      }
      int instrument_columns =
          static_cast<int>(columns.count("symbol") + columns.count("instrument_token") +
                           columns.count("instrument"));
      if (instrument_columns != 1) {
        error("the header needs exactly one of symbol, instrument_token, instrument");
      }
      if (!columns.contains("ltp")) error("the header needs an ltp column");
      if (!errors.empty()) return InvalidArgument("tick file: " + errors.front());
      continue;
    }
    auto field = [&](std::string_view name) -> std::string_view {
      auto it = columns.find(name);
      return it == columns.end() || it->second >= fields.size() ? std::string_view()
                                                                : fields[it->second];
    };
    auto price = [&](std::string_view name, bool required) -> std::optional<Paise> {
      std::string_view value = field(name);
      if (value.empty()) {
        if (required) error(std::string(name) + " is missing");
        return std::nullopt;
      }
      StatusOr<Paise> parsed = Paise::Parse(value);
      if (!parsed.ok() || parsed->value() <= 0) {
        error(std::string(name) + " '" + std::string(value) + "' is not a positive price");
        return std::nullopt;
      }
      return *parsed;
    };
    const size_t errors_before = errors.size();
    TickUpdate tick;
    std::string_view instrument = field("symbol");
    bool is_token = false;
    if (columns.contains("instrument_token")) {
      instrument = field("instrument_token");
      is_token = true;
    } else if (columns.contains("instrument")) {
      instrument = field("instrument");
      is_token = AllDigits(instrument);
    }
    if (instrument.empty()) {
      error("the instrument is missing");
    } else if (is_token) {
      auto token = ParseInteger<uint32_t>(instrument);
      if (!token || *token == 0) {
        error("instrument_token '" + std::string(instrument) + "' is not a positive 32-bit number");
      } else {
        tick.instrument_token = *token;
      }
    } else {
      tick.symbol = std::string(instrument);
    }
    if (auto ltp = price("ltp", true)) tick.ltp = *ltp;
    tick.bid = price("bid", false);
    tick.ask = price("ask", false);
    if (std::string_view oi = field("oi"); !oi.empty()) {
      auto value = ParseInteger<int64_t>(oi);
      if (!value || *value < 0) {
        error("oi '" + std::string(oi) + "' is not a whole number");
      } else {
        tick.open_interest = *value;
      }
    }
    if (std::string_view timestamp = field("timestamp"); !timestamp.empty()) {
      StatusOr<Nanos> parsed = ParseTickTimestamp(timestamp);
      if (!parsed.ok()) {
        error(std::string(parsed.status().message()));
      } else {
        tick.timestamp_ns = *parsed;
      }
    }
    if (errors.size() == errors_before) ticks.push_back(std::move(tick));
  }
  if (columns.empty()) return InvalidArgument("tick file: no header line");
  if (!errors.empty()) {
    std::string message = "tick file has " + std::to_string(errors.size()) + " bad line(s):";
    for (const std::string& e : errors) message += "\n  " + e;
    return InvalidArgument(message);
  }
  return ticks;
}

StatusOr<std::unique_ptr<TickPublisher>> TickPublisher::Connect(const std::string& endpoint,
                                                                int send_hwm) {
  std::unique_ptr<TickPublisher> publisher(new TickPublisher());
  publisher->context_ = zmq_ctx_new();
  if (publisher->context_ == nullptr) return zmq_util::ZmqError("zmq_ctx_new");
  publisher->socket_ = zmq_socket(publisher->context_, ZMQ_PUSH);
  if (publisher->socket_ == nullptr) return zmq_util::ZmqError("zmq_socket(PUSH)");
  WOJAK_RETURN_IF_ERROR(zmq_util::SetInt(publisher->socket_, ZMQ_SNDHWM, send_hwm, "ZMQ_SNDHWM"));
  if (zmq_connect(publisher->socket_, endpoint.c_str()) != 0) {
    return zmq_util::ZmqError("zmq_connect(" + endpoint + ")");
  }
  return publisher;
}

TickPublisher::~TickPublisher() {
  if (socket_ != nullptr) {
    int linger = static_cast<int>(linger_.count());
    zmq_setsockopt(socket_, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_close(socket_);
  }
  if (context_ != nullptr) zmq_ctx_term(context_);
}

Status TickPublisher::Send(std::span<const TickUpdate> ticks) {
  return SendFrame(EncodeTickBatch(next_request_id_++, ticks));
}

Status TickPublisher::SendFrame(std::string_view frame) {
  while (zmq_send(socket_, frame.data(), frame.size(), 0) < 0) {
    if (errno != EINTR) return zmq_util::ZmqError("zmq_send(tick batch)");
  }
  return OkStatus();
}

StatusOr<PublishReport> PublishTicks(TickPublisher& publisher, std::span<const TickUpdate> ticks,
                                     const PublishOptions& options, const Clock& clock) {
  PublishReport report;
  const size_t batch = std::max<size_t>(options.batch, 1);
  const Nanos start = clock.Monotonic();
  std::vector<TickUpdate> frame;
  frame.reserve(batch);
  for (int round = 0; round < options.repeat; ++round) {
    for (size_t offset = 0; offset < ticks.size(); offset += batch) {
      if (options.rate > 0) {
        // Open loop: frame k leaves at start + k * batch / rate, however long sends took.
        const Nanos due = start + static_cast<Nanos>(static_cast<double>(report.ticks) *
                                                     kNanosPerSecond / options.rate);
        const Nanos wait = due - clock.Monotonic();
        if (wait > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
      }
      const Nanos now = clock.Now();
      frame.assign(ticks.begin() + offset, ticks.begin() + std::min(ticks.size(), offset + batch));
      for (TickUpdate& tick : frame) {
        if (options.restamp || tick.timestamp_ns == 0) tick.timestamp_ns = now;
      }
      WOJAK_RETURN_IF_ERROR(publisher.Send(frame));
      report.ticks += frame.size();
      ++report.frames;
    }
  }
  report.seconds = static_cast<double>(clock.Monotonic() - start) / kNanosPerSecond;
  return report;
}

}  // namespace wojak
