// OffsetTracker: the commit point advances only over a settled prefix, whatever the reply order.
#include "sidecar/sources/kafka/offset_tracker.h"

#include <gtest/gtest.h>

namespace wojak::sidecar::kafka {
namespace {

TEST(OffsetTrackerTest, NothingToCommitBeforeTheFirstSettlement) {
  OffsetTracker tracker;
  tracker.Deliver(10);
  EXPECT_FALSE(tracker.CommitOffset().has_value());
  EXPECT_EQ(tracker.pending(), 1u);
}

TEST(OffsetTrackerTest, CommitPointStopsAtTheLowestUnsettledOffset) {
  OffsetTracker tracker;
  uint64_t tokens[5];
  for (int i = 0; i < 5; ++i) tokens[i] = tracker.Deliver(10 + i);
  EXPECT_TRUE(tracker.Settle(10, tokens[0]));
  EXPECT_TRUE(tracker.Settle(11, tokens[1]));
  EXPECT_TRUE(tracker.Settle(13, tokens[3]));
  EXPECT_TRUE(tracker.Settle(14, tokens[4]));
  EXPECT_EQ(tracker.CommitOffset(), 12);
  EXPECT_EQ(tracker.pending(), 1u);
  EXPECT_TRUE(tracker.Settle(12, tokens[2]));
  EXPECT_EQ(tracker.CommitOffset(), 15);
  EXPECT_EQ(tracker.pending(), 0u);
}

TEST(OffsetTrackerTest, OutOfOrderSettlementsNeverMoveThePointPastAGap) {
  OffsetTracker tracker;
  uint64_t first = tracker.Deliver(0);
  uint64_t second = tracker.Deliver(1);
  EXPECT_TRUE(tracker.Settle(1, second));
  EXPECT_FALSE(tracker.CommitOffset().has_value());
  EXPECT_TRUE(tracker.Settle(0, first));
  EXPECT_EQ(tracker.CommitOffset(), 2);
}

TEST(OffsetTrackerTest, SkipsOffsetsTheBrokerNeverDelivered) {
  OffsetTracker tracker;  // compacted topics and transaction markers leave holes
  uint64_t a = tracker.Deliver(5);
  uint64_t b = tracker.Deliver(9);
  EXPECT_TRUE(tracker.Settle(5, a));
  EXPECT_TRUE(tracker.Settle(9, b));
  EXPECT_EQ(tracker.CommitOffset(), 10);
}

TEST(OffsetTrackerTest, RewindForgetsLaterDeliveriesSoTheirRepliesAreStale) {
  OffsetTracker tracker;
  uint64_t t0 = tracker.Deliver(0);
  uint64_t t1 = tracker.Deliver(1);
  uint64_t t2 = tracker.Deliver(2);
  EXPECT_TRUE(tracker.Settle(0, t0));
  tracker.Rewind(1);
  EXPECT_EQ(tracker.pending(), 0u);
  EXPECT_FALSE(tracker.Settle(2, t2)) << "a reply to a rewound delivery must change nothing";
  EXPECT_FALSE(tracker.IsCurrent(1, t1));
  EXPECT_EQ(tracker.CommitOffset(), 1);
  uint64_t again = tracker.Deliver(1);
  EXPECT_FALSE(tracker.Settle(1, t1)) << "the old token does not settle the redelivery";
  EXPECT_TRUE(tracker.Settle(1, again));
  EXPECT_EQ(tracker.CommitOffset(), 2);
}

TEST(OffsetTrackerTest, CountsDeliveryAttemptsOfARewoundOffset) {
  OffsetTracker tracker;
  tracker.Deliver(3);
  EXPECT_EQ(tracker.DeliveryAttempt(3), 1u);
  tracker.Rewind(3);
  EXPECT_EQ(tracker.DeliveryAttempt(3), 2u);
  uint64_t token = tracker.Deliver(3);
  tracker.Rewind(3);
  EXPECT_EQ(tracker.DeliveryAttempt(3), 3u);
  token = tracker.Deliver(3);
  EXPECT_TRUE(tracker.Settle(3, token));
  EXPECT_EQ(tracker.DeliveryAttempt(3), 1u) << "counts below the commit point are dropped";
}

TEST(OffsetTrackerTest, TokensDifferAcrossTrackersSoAnEarlierAssignmentCannotSettle) {
  OffsetTracker before_revoke;
  uint64_t stale = before_revoke.Deliver(7);
  OffsetTracker after_reassign;
  uint64_t live = after_reassign.Deliver(7);
  EXPECT_NE(stale, live);
  EXPECT_FALSE(after_reassign.Settle(7, stale));
}

}  // namespace
}  // namespace wojak::sidecar::kafka
