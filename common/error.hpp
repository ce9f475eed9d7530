// The project's one error type and the Result<T> that carries it. Runtime failures are
// values; exceptions are reserved for start-up configuration errors (ConfigError).
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace ticksplit {

enum class Domain { system, ei, netlink, codec, protocol, config };

const char* domain_name(Domain d) noexcept;

struct Error {
  Domain domain;
  int code;             // errno, erl_errno or NLE_* depending on domain; 0 if none
  std::string message;  // what failed, with context

  [[nodiscard]] std::string describe() const;
};

Error system_error(std::string context, int err);  // err is an errno value; its text joins the message
Error codec_error(std::string message);
Error protocol_error(std::string message);

struct Unit {};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

using Status = Result<Unit>;
inline Status success() { return Unit{}; }

// Thrown only while reading configuration at start-up; caught once in main.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace ticksplit
