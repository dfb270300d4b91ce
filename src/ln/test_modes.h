// Shared by the ln tests that drive whole nodes: the modes each of them runs
// in (monitor events persistent or legacy, persistence sync or async), and
// payment ids and preimages derived from a label and a number.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "ln/htlc.h"

namespace hashlock::ln::test_modes {

struct Mode {
  bool persistent;
  bool async;
};

inline std::string mode_name(const ::testing::TestParamInfo<Mode>& info) {
  return std::string(info.param.persistent ? "Persistent" : "Legacy") +
         (info.param.async ? "Async" : "Sync");
}

inline PaymentPreimage preimage_for(const std::string& label, int n) {
  return PaymentPreimage(util::sha256(util::as_bytes(label + "preimage " + std::to_string(n))));
}
inline PaymentId payment_id_for(const std::string& label, int n) {
  return PaymentId(util::sha256(util::as_bytes(label + "payment " + std::to_string(n))));
}

}  // namespace hashlock::ln::test_modes
