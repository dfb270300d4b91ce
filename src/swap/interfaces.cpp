#include "swap/interfaces.h"

namespace hashlock::swap {

std::string_view source_payment_state_name(SourcePaymentState state) {
  switch (state) {
    case SourcePaymentState::kConfirmed:
      return "confirmed";
    case SourcePaymentState::kUnconfirmed:
      return "unconfirmed";
    case SourcePaymentState::kNotFound:
      return "not found";
    case SourcePaymentState::kWrongRecipient:
      return "wrong recipient";
    case SourcePaymentState::kWrongAmount:
      return "wrong amount";
  }
  HASHLOCK_CHECK(false, "source payment state out of range");
}

}  // namespace hashlock::swap
