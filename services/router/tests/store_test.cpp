// The router's durable inbox and outbox on both backends: dedupe, leases, order, exactly one
// reply per message, dead letters and replay, handoff.
#include "enkisys/router/store.hpp"

#include <gtest/gtest.h>

#include "db_fixture.hpp"

namespace enkisys::router {
namespace {

using db::testing::DbTest;

Inbound tg(const std::string& update, const std::string& chat, const std::string& text = "hi") {
  Inbound m;
  m.channel = Channel::kTelegram;
  m.dedupe_key = update;
  m.chat_id = chat;
  m.sender = chat;
  m.text = text;
  m.thread_ref = update;
  return m;
}

class RouterStoreTest : public DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    if (IsSkipped()) return;
    store_ = std::make_unique<RouterStore>(*db_, "A", 1'000);
    store_->migrate();
  }
  std::unique_ptr<RouterStore> store_;
};

TEST_P(RouterStoreTest, DuplicateDeliveriesAreStoredOnce) {
  EXPECT_EQ(store_->accept({tg("1", "c1"), tg("2", "c1")}, 1'000), 2u);
  EXPECT_EQ(store_->accept({tg("1", "c1")}, 2'000), 0u);
  EXPECT_EQ(store_->accept({tg("2", "c1"), tg("3", "c2")}, 3'000), 1u);
  EXPECT_EQ(count("router_inbox"), 3);
  // The same key on another channel is another message.
  Inbound wa = tg("1", "c1");
  wa.channel = Channel::kWhatsapp;
  EXPECT_EQ(store_->accept({wa}, 3'000), 1u);
}

TEST_P(RouterStoreTest, InjectionStringsAreKeptAsData) {
  const std::string evil = "'); DELETE FROM router_inbox; --\" $1 \\x00 <b>";
  Inbound m = tg(evil, evil, evil);
  ASSERT_EQ(store_->accept({m}, 1), 1u);
  const auto item = store_->claim_inbox(10);
  ASSERT_TRUE(item);
  EXPECT_EQ(item->message.text, evil);
  EXPECT_EQ(item->message.chat_id, evil);
  EXPECT_EQ(store_->chat(item->message).user_id, "tg:" + evil);
}

TEST_P(RouterStoreTest, ClaimsOneChatInOrderAndReclaimsAfterTheLease) {
  store_->accept({tg("1", "c1"), tg("2", "c1"), tg("3", "c2")}, 0);
  const auto a = store_->claim_inbox(10);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->message.dedupe_key, "1");
  // The next claim skips chat c1 (its first message is in work): order per chat.
  const auto b = store_->claim_inbox(10);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->message.dedupe_key, "3");
  EXPECT_FALSE(store_->claim_inbox(10));
  // Instance A "crashes"; B takes the item once A's lease (1 s) ran out, not before.
  RouterStore other(*db_, "B", 1'000);
  EXPECT_FALSE(other.claim_inbox(900));
  const auto again = other.claim_inbox(1'011);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->message.dedupe_key, "1");
  // A lost its claim: its late completion queues nothing.
  EXPECT_FALSE(store_->complete(*a, {"late"}, 1'100));
  EXPECT_TRUE(other.complete(*again, {"reply"}, 1'100));
  EXPECT_EQ(count("router_outbox"), 1);
  // Now message 2 of c1 is next.
  const auto next = other.claim_inbox(1'200);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->message.dedupe_key, "2");
}

TEST_P(RouterStoreTest, ResetOwnClaimsAfterARestart) {
  store_->accept({tg("1", "c1")}, 0);
  ASSERT_TRUE(store_->claim_inbox(10));
  RouterStore restarted(*db_, "A", 60'000);
  EXPECT_EQ(restarted.reset_own_claims(), 1);
  EXPECT_TRUE(restarted.claim_inbox(20));
}

TEST_P(RouterStoreTest, CompleteQueuesPartsOnceAndSendsThemInOrder) {
  store_->accept({tg("1", "c1")}, 0);
  const auto item = store_->claim_inbox(10);
  ASSERT_TRUE(item);
  EXPECT_TRUE(store_->complete(*item, {"part one", "part two"}, 20));
  EXPECT_FALSE(store_->complete(*item, {"part one", "part two"}, 30));  // already done
  EXPECT_EQ(count("router_outbox"), 2);

  const auto p0 = store_->claim_outbox(40);
  ASSERT_TRUE(p0);
  EXPECT_EQ(p0->part, 0);
  EXPECT_EQ(p0->text, "part one");
  EXPECT_EQ(p0->thread_ref, "1");
  EXPECT_FALSE(store_->claim_outbox(40));  // part 1 waits for part 0
  store_->retry_outbox(p0->id, "503", 100, true, 50);
  EXPECT_FALSE(store_->claim_outbox(60));  // not due yet, and part 1 still waits
  const auto again = store_->claim_outbox(100);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->attempts, 1);
  store_->mark_sent(again->id, 110);
  const auto p1 = store_->claim_outbox(120);
  ASSERT_TRUE(p1);
  EXPECT_EQ(p1->text, "part two");
  store_->mark_sent(p1->id, 130);
  EXPECT_FALSE(store_->claim_outbox(10'000));
  EXPECT_EQ(store_->stats(Channel::kTelegram).sent, 2);
}

TEST_P(RouterStoreTest, DeadLettersAndReplay) {
  store_->accept({tg("1", "c1"), tg("2", "c2")}, 0);
  const auto i1 = store_->claim_inbox(10);
  const auto i2 = store_->claim_inbox(10);
  ASSERT_TRUE(i1 && i2);
  store_->complete(*i1, {"answer"}, 20);
  store_->release_inbox(*i2, "agent_failed: 503", 30, 1);  // one attempt allowed: dead
  const auto o = store_->claim_outbox(40);
  ASSERT_TRUE(o);
  store_->dead_outbox(o->id, "channel refused: 400", 50);
  auto dead = store_->dead_letters();
  ASSERT_EQ(dead.size(), 2u);
  EXPECT_EQ(dead[0].kind, "outbox");
  EXPECT_EQ(dead[0].reason, "channel refused: 400");
  EXPECT_EQ(dead[1].kind, "inbox");
  EXPECT_EQ(store_->stats(Channel::kTelegram).dead, 2);

  EXPECT_EQ(store_->replay("nope", 60).error().code, "not_found");
  EXPECT_EQ(*store_->replay(dead[0].id, 60), 1);
  EXPECT_EQ(*store_->replay("all", 60), 1);
  EXPECT_TRUE(store_->dead_letters().empty());
  EXPECT_TRUE(store_->claim_outbox(70));
  EXPECT_TRUE(store_->claim_inbox(70));
}

TEST_P(RouterStoreTest, HandoffIsPerChat) {
  const Inbound m = tg("1", "c1");
  const Chat c = store_->chat(m);
  EXPECT_EQ(c.user_id, "tg:c1");
  EXPECT_FALSE(c.handoff);
  EXPECT_TRUE(c.conversation_id.empty());
  store_->set_conversation(Channel::kTelegram, "c1", "conv_1");
  EXPECT_TRUE(store_->set_handoff(Channel::kTelegram, "c1", true));
  EXPECT_TRUE(store_->chat(m).handoff);
  EXPECT_EQ(store_->chat(m).conversation_id, "conv_1");
  EXPECT_FALSE(store_->chat(tg("2", "c2")).handoff);
  ASSERT_EQ(store_->handoffs().size(), 1u);
  EXPECT_EQ(store_->handoffs()[0].chat_id, "c1");
  EXPECT_EQ(store_->set_handoff(Channel::kSlack, "c1", true).error().code, "not_found");
  EXPECT_TRUE(store_->set_handoff(Channel::kTelegram, "c1", false));
  EXPECT_TRUE(store_->handoffs().empty());
}

TEST_P(RouterStoreTest, PurgeKeepsWhatIsNotAnsweredYet) {
  store_->accept({tg("1", "c1"), tg("2", "c2"), tg("3", "c3")}, 0);
  const auto a = store_->claim_inbox(10);
  const auto b = store_->claim_inbox(10);
  ASSERT_TRUE(a && b);
  store_->complete(*a, {"sent reply"}, 20);
  store_->complete(*b, {"pending reply"}, 20);
  const auto o = store_->claim_outbox(30);
  ASSERT_TRUE(o);
  store_->mark_sent(o->id, 40);
  EXPECT_EQ(store_->purge(1'000), 2);    // a's sent reply, then a itself
  EXPECT_EQ(count("router_outbox"), 1);  // b's reply waits for its send
  EXPECT_EQ(count("router_inbox"), 2);   // b (its reply is pending) and 3 (queued)
  EXPECT_EQ(store_->purge(1'000), 0);
}

ENKISYS_DB_ON_BOTH_BACKENDS(RouterStoreTest);

}  // namespace
}  // namespace enkisys::router
