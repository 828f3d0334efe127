// HTTP executor implementation.
#include "executors/http/http_executor.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/log.h"

namespace wojak {
namespace {

using json = nlohmann::json;

// An answer quoted in a reason is cut here so one bad body cannot bloat the journal.
constexpr size_t kMaxQuotedBody = 200;

std::string Quote(std::string_view body) {
  if (body.size() <= kMaxQuotedBody) return std::string(body);
  return std::string(body.substr(0, kMaxQuotedBody)) + "...";
}

ExecutionReport Failed(const ExecutionOrder& order, std::string reason) {
  ExecutionReport report;
  report.order_id = order.order_id;
  report.status = ExecutionStatus::kFailed;
  report.reason = std::move(reason);
  report.executor = "http";
  return report;
}

// A price as a decimal string or a JSON number, without floating-point rounding: a number is
// rendered in its shortest round-trip form, which is what the sender wrote for any sane price.
StatusOr<Paise> ParsePrice(const json& value) {
  std::string text;
  if (value.is_string()) {
    text = value.get<std::string>();
  } else if (value.is_number_integer()) {
    text = value.dump();
  } else if (value.is_number_float()) {
    double d = value.get<double>();
    if (!std::isfinite(d)) return InvalidArgument("not a finite number");
    char buffer[64];
    auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, d, std::chars_format::fixed);
    if (error != std::errc()) return InvalidArgument("out of range");
    text.assign(buffer, end);
  } else {
    return InvalidArgument(std::string("expected a decimal string or number, got ") +
                           value.type_name());
  }
  return Paise::Parse(text);
}

json OrderJson(const OrderRequest& o) {
  return {{"client_order_id", o.client_order_id},
          {"account", o.account},
          {"strategy", o.strategy},
          {"exchange", o.exchange},
          {"symbol", o.symbol},
          {"side", SideName(o.side)},
          {"quantity", o.quantity},
          {"order_type", OrderTypeName(o.order_type)},
          {"product", ProductName(o.product)},
          {"price", o.price ? json(o.price->ToString()) : json(nullptr)},
          {"trigger_price", o.trigger_price ? json(o.trigger_price->ToString()) : json(nullptr)},
          {"validity", ValidityName(o.validity)}};
}

}  // namespace

std::string HttpExecutorRequestBody(const ExecutionOrder& order) {
  json body = {{"order_id", order.order_id},
               {"order", OrderJson(order.order)},
               {"price", order.price.ToString()}};
  return body.dump();
}

ExecutionReport InterpretHttpExecutorResponse(const ExecutionOrder& order, int http_status,
                                              std::string_view body) {
  if (http_status < 200 || http_status > 299) {
    return Failed(order, "http executor: HTTP " + std::to_string(http_status) + ": " + Quote(body));
  }
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Failed(order, "http executor: malformed response (not a JSON object): " + Quote(body));
  }
  auto status_field = doc.find("status");
  if (status_field == doc.end() || !status_field->is_string()) {
    return Failed(order,
                  "http executor: malformed response (no \"status\" string): " + Quote(body));
  }
  const std::string status = status_field->get<std::string>();
  if (status == "FAILED") {
    auto reason = doc.find("reason");
    std::string text =
        reason != doc.end() && reason->is_string() ? reason->get<std::string>() : "no reason given";
    return Failed(order, "http executor: " + Quote(text));
  }
  if (status != "FILLED" && status != "PARTIALLY_FILLED") {
    return Failed(order,
                  "http executor: malformed response (unknown status \"" + Quote(status) + "\")");
  }
  auto price_field = doc.find("fill_price");
  if (price_field == doc.end() || price_field->is_null()) {
    return Failed(order, "http executor: malformed response (" + status + " without fill_price)");
  }
  StatusOr<Paise> price = ParsePrice(*price_field);
  if (!price.ok() || price->value() <= 0) {
    return Failed(order, "http executor: malformed response (bad fill_price: " +
                             (price.ok() ? std::string("not positive")
                                         : std::string(price.status().message())) +
                             ")");
  }
  Qty quantity = order.order.quantity;
  auto quantity_field = doc.find("filled_quantity");
  const bool has_quantity = quantity_field != doc.end() && !quantity_field->is_null();
  if (has_quantity) {
    if (!quantity_field->is_number_integer() || quantity_field->get<int64_t>() <= 0 ||
        quantity_field->get<int64_t>() > order.order.quantity) {
      return Failed(order,
                    "http executor: malformed response (filled_quantity must be a whole "
                    "number in 1.." +
                        std::to_string(order.order.quantity) + ")");
    }
    quantity = quantity_field->get<int64_t>();
  } else if (status == "PARTIALLY_FILLED") {
    return Failed(order,
                  "http executor: malformed response (PARTIALLY_FILLED without "
                  "filled_quantity)");
  }
  ExecutionReport report;
  report.order_id = order.order_id;
  report.status = quantity == order.order.quantity ? ExecutionStatus::kFilled
                                                   : ExecutionStatus::kPartiallyFilled;
  report.filled_quantity = quantity;
  report.fill_price = *price;
  report.executor = "http";
  return report;
}

HttpExecutor::HttpExecutor(HttpExecutorOptions options, HttpUrl url)
    : options_(std::move(options)), url_(std::move(url)) {}

HttpExecutor::~HttpExecutor() { Stop(); }

StatusOr<std::unique_ptr<Executor>> HttpExecutor::Create(ConfigSection config) {
  HttpExecutorOptions o;
  o.url = config.String("url", "",
                        "Where each accepted order is POSTed (http:// or https://; an AWS Lambda "
                        "function URL or API Gateway route). Required.");
  o.timeout = config.Duration("timeout", o.timeout, "Longest wait for one attempt's answer.");
  o.concurrency = static_cast<int>(
      config.Int("concurrency", o.concurrency, "Orders in flight at once.", 1, 256));
  o.retries = static_cast<int>(config.Int(
      "retries", o.retries,
      "Extra attempts after a connection error, timeout, 408, 429 or 5xx; then the order FAILS.", 0,
      100));
  o.backoff_initial = config.Duration("backoff_initial", o.backoff_initial,
                                      "Wait before the first retry; doubles per retry.");
  o.backoff_max = config.Duration("backoff_max", o.backoff_max, "Longest wait between retries.");
  o.ca_file = config.String("ca_file", "", "https: CA bundle (PEM); empty = the system's CAs.");
  if (o.backoff_max < o.backoff_initial) config.Error("backoff_max", "must be >= backoff_initial");
  StatusOr<HttpUrl> url = ParseHttpUrl(o.url);
  if (!url.ok()) {
    config.Error("url", std::string(url.status().message()));
    return url.status();
  }
  return std::unique_ptr<Executor>(new HttpExecutor(std::move(o), std::move(url).value()));
}

Status HttpExecutor::Start(ExecutionSink sink) {
  sink_ = std::move(sink);
  for (int i = 0; i < options_.concurrency; ++i) workers_.emplace_back([this] { Work(); });
  return OkStatus();
}

void HttpExecutor::Submit(ExecutionOrder order) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(order));
  }
  wake_.notify_one();
}

void HttpExecutor::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& worker : workers_) worker.join();
  workers_.clear();
}

bool HttpExecutor::Pause(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, delay, [&] { return stopping_; });
}

void HttpExecutor::Work() {
  HttpPostOptions post_options;
  post_options.timeout = options_.timeout;
  post_options.ca_file = options_.ca_file;
  HttpPoster poster(url_, post_options);
  while (true) {
    ExecutionOrder order;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      order = std::move(queue_.front());
      queue_.pop_front();
    }
    std::optional<ExecutionReport> report = Execute(poster, order);
    // Stopping mid-order abandons it: reconciliation re-sends it under the same key.
    if (!report || !Deliver(std::move(*report))) return;
  }
}

std::optional<ExecutionReport> HttpExecutor::Execute(HttpPoster& poster,
                                                     const ExecutionOrder& order) {
  const std::string body = HttpExecutorRequestBody(order);
  const HttpHeaderList headers = {{"Idempotency-Key", order.order_id}};
  std::chrono::milliseconds backoff = options_.backoff_initial;
  std::string last_problem;
  for (int attempt = 0; attempt <= options_.retries; ++attempt) {
    if (attempt > 0) {
      if (!Pause(backoff)) return std::nullopt;
      backoff = std::min(backoff * 2, options_.backoff_max);
    }
    StatusOr<HttpResponse> response = poster.Post(body, headers);
    if (response.ok() && !IsRetryableHttpStatus(response->status)) {
      return InterpretHttpExecutorResponse(order, response->status, response->body);
    }
    last_problem = response.ok()
                       ? "HTTP " + std::to_string(response->status) + ": " + Quote(response->body)
                       : std::string(response.status().message());
    LogWarn("http_executor_attempt_failed",
            {{"order_id", order.order_id}, {"attempt", attempt + 1}, {"error", last_problem}});
  }
  // The executor may or may not have acted on a request that timed out; its Idempotency-Key
  // lets an operator (or a later reconciliation) find out. The order itself fails closed.
  return Failed(order, "http executor: no usable answer after " +
                           std::to_string(options_.retries + 1) +
                           " attempt(s); outcome unknown: " + last_problem);
}

bool HttpExecutor::Deliver(ExecutionReport report) {
  while (!sink_(std::move(report))) {
    // The engine's queue is full: keep the result and offer it again shortly.
    if (!Pause(std::chrono::milliseconds(1))) return false;
  }
  return true;
}

WOJAK_REGISTER_EXECUTOR("http", HttpExecutor::Create);

}  // namespace wojak
