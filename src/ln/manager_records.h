// The records the channel manager keeps beside its state record, shared by
// the files that implement ChannelManager. Internal to the ln layer.
#pragma once

#include <string>

#include "codec/record.h"
#include "util/ids.h"

namespace hashlock::ln {

// A payment whose terminal event the user handled: {0: succeeded}.
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

}  // namespace hashlock::ln
