// The records the channel manager keeps beside its state record, shared by
// the files that implement ChannelManager. Internal to the ln layer.
#pragma once

#include <string>

#include "codec/record.h"
#include "util/ids.h"

namespace hashlock::ln {

// A payment whose terminal event the user handled: {0: succeeded, 1: the
// first part id after its parts (absent in records written before resends
// existed: every part is the payment's)}. A failed payment may be sent
// again; the new attempt's part ids start at field 1, so a monitor event of
// part P belongs to the handled attempt exactly when P is below it.
inline constexpr const char* kDoneNamespace = "payments_done";
inline constexpr codec::RecordKind kDoneRecord{
    .type = 45, .min_version = 1, .current_version = 1, .name = "completed payment"};

// A part of a multi-part payment whose path event the user handled, kept
// until the whole payment is finished: {0: succeeded}. Key: payment id hex,
// '/', part id.
inline constexpr const char* kPartsDoneNamespace = "parts_done";
inline constexpr codec::RecordKind kPartDoneRecord{
    .type = 47, .min_version = 1, .current_version = 1, .name = "handled payment part"};

inline std::string part_key(const util::PaymentId& id, uint64_t part_id) {
  return id.to_hex() + "/" + std::to_string(part_id);
}

// A channel whose ChannelClosed the user handled: {} (no fields). Key:
// channel id hex. A stale state that still holds the channel open closes it
// as its monitor did, and queues ChannelClosed only without this record.
inline constexpr const char* kClosesDoneNamespace = "closes_done";
inline constexpr codec::RecordKind kCloseDoneRecord{
    .type = 56, .min_version = 1, .current_version = 1, .name = "handled channel close"};

// The handled-records count: {0: count}. Every batch that writes to
// payments_done, parts_done, forwards_done or closes_done raises it by one, and the
// manager's node record, in the same batch, holds the new value
// (ManagerNode::handled_count). A node record whose count equals the stored
// one is a state that already reflects every handled record, so a restart
// need not read them; one that lags (an older snapshot of the manager's
// records restored) reads them as before. It lives outside the manager's
// namespaces, so restoring a snapshot of those leaves it as it was.
inline constexpr const char* kHandledCountNamespace = "handled_count";
inline constexpr const char* kHandledCountKey = "count";
inline constexpr codec::RecordKind kHandledCountRecord{
    .type = 55, .min_version = 1, .current_version = 1, .name = "handled-records count"};

}  // namespace hashlock::ln
