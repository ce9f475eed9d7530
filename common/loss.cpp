#include "common/loss.hpp"

#include <cstdint>

namespace ticksplit {

const char* loss_error_name(LossError e) noexcept {
  switch (e) {
    case LossError::syntax:
      return "syntax";
    case LossError::zero:
      return "zero";
    case LossError::above_one:
      return "above_one";
  }
  return "syntax";
}

namespace {

Error loss_error(LossError kind, std::string_view text) {
  const char* why = kind == LossError::zero        ? "must be above 0"
                    : kind == LossError::above_one ? "must be at most 100% (1)"
                                                   : "expected a percentage (30%, 0.5%) or a probability (0.3, 1)";
  return Error{Domain::config, static_cast<int>(kind), "bad loss '" + std::string(text) + "': " + why};
}

}  // namespace

Result<proto::Loss> parse_loss(std::string_view text) {
  std::string_view s = text;
  const bool percent = !s.empty() && s.back() == '%';
  if (percent) s.remove_suffix(1);
  // digits [. digits]: at most 9 significant integer digits (leading zeros are free), and as
  // many decimals as make whole ppm.
  const std::size_t max_decimals = percent ? 4 : 6;
  std::uint64_t units = 0;  // in 10^-max_decimals
  std::size_t int_digits = 0, decimals = 0;
  bool dot = false, any = false;
  for (char c : s) {
    if (c == '.' && !dot) {
      dot = true;
      continue;
    }
    if (c < '0' || c > '9') return loss_error(LossError::syntax, text);
    any = true;
    if (dot) {
      if (++decimals > max_decimals) return loss_error(LossError::syntax, text);
    } else if (units != 0 || c != '0') {
      if (++int_digits > 9) return loss_error(LossError::syntax, text);
    }
    units = units * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (!any || (dot && decimals == 0) || s.front() == '.') return loss_error(LossError::syntax, text);
  for (; decimals < max_decimals; ++decimals) units *= 10;
  // Either way a unit is one part per million: 10^-4 % and 10^-6 are the same share.
  if (units == 0) return loss_error(LossError::zero, text);
  if (units > proto::Loss::total_ppm) return loss_error(LossError::above_one, text);
  return proto::Loss{static_cast<std::uint32_t>(units)};
}

std::string loss_text(proto::Loss loss) {
  std::string whole = std::to_string(loss.ppm / 10'000);
  std::string frac = std::to_string(loss.ppm % 10'000);
  if (loss.ppm % 10'000 == 0) return whole + "%";
  frac = std::string(4 - frac.size(), '0') + frac;
  while (frac.back() == '0') frac.pop_back();
  return whole + "." + frac + "%";
}

}  // namespace ticksplit
