// Move-only owner of an ei_x_buff (ei's growable encode buffer).
#pragma once

#include <ei.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

namespace ticksplit::ei {

class XBuff {
 public:
  XBuff() { ei_x_new(&x_); }
  XBuff(XBuff&& o) noexcept : x_(std::exchange(o.x_, ei_x_buff{})) {}
  XBuff& operator=(XBuff&& o) noexcept {
    if (this != &o) {
      ei_x_free(&x_);
      x_ = std::exchange(o.x_, ei_x_buff{});
    }
    return *this;
  }
  XBuff(const XBuff&) = delete;
  XBuff& operator=(const XBuff&) = delete;
  ~XBuff() {
    if (x_.buff != nullptr) ei_x_free(&x_);
  }

  ei_x_buff* get() noexcept { return &x_; }
  [[nodiscard]] const char* data() const noexcept { return x_.buff; }
  [[nodiscard]] std::size_t size() const noexcept { return static_cast<std::size_t>(x_.index); }
  [[nodiscard]] std::span<const std::uint8_t> bytes() const noexcept {
    return {reinterpret_cast<const std::uint8_t*>(x_.buff), size()};
  }
  void clear() noexcept { x_.index = 0; }

 private:
  ei_x_buff x_{};
};

}  // namespace ticksplit::ei
