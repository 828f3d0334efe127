// The JSON documents the sequencer puts in outbox rows: what the heavy RMS needs to decide an
// escalated order without a lookup, and what systems following executions need to book a fill.
#pragma once

#include <string>
#include <string_view>

#include "engine/order_book.h"
#include "model/requests.h"
#include "wire/codec.h"

namespace wojak {

// Topic "escalation": {"event":"escalation","order_id","seq","time_ns","deadline_ns",
// "decision":{decision JSON with reasons},"order":{order JSON},"price","reference_price",
// "reference_source"}. The RMS answers with an EscalationVerdict naming order_id.
std::string EscalationOutboxPayload(const OrderRecord& order, const JournalRecord& record, Seq seq,
                                    Nanos now);

// Topic "execution": {"event":"execution","order_id","seq","time_ns","account","strategy",
// "client_order_id","symbol","side","quantity","status":"FILLED|PARTIALLY_FILLED|FAILED",
// "filled_quantity" (this report),"fill_price","cumulative_filled_quantity","average_price",
// "order_state","reason","executor"}. `order` is the order after the report was applied.
std::string ExecutionOutboxPayload(const OrderRecord& order, const ExecutionReport& report,
                                   Qty applied_quantity, Seq seq, Nanos now);

// The account a payload above belongs to ("order"."account" for escalations, "account" for
// executions): brokers partition or route by it so one account's rows stay in order. Empty when
// the payload names none (or is not JSON).
std::string OutboxPayloadAccount(std::string_view payload);

}  // namespace wojak
