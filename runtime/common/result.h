// Errors as values: every fallible step of the runtime returns Result<T>.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace tp {

// Exit codes a refusal maps to, following shell conventions.
enum class ExitCode : int {
  kRuntime = 125,        // the space or the runtime failed
  kNotExecutable = 126,  // found, but cannot be run
  kNotFound = 127,       // no such program
};

struct Error {
  std::string message;  // names the file and the offending value
  ExitCode code = ExitCode::kRuntime;
};

inline Error make_error(std::string message, ExitCode code = ExitCode::kRuntime) {
  return Error{std::move(message), code};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}      // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const Error& error() const { return std::get<1>(v_); }
  Error&& take_error() { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success or an Error.
struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() { return Ok{}; }

}  // namespace tp

// Propagates an error out of the current function.
#define TP_TRY(expr)                                      \
  do {                                                    \
    auto tp_try_result_ = (expr);                         \
    if (!tp_try_result_.ok()) return tp_try_result_.take_error(); \
  } while (0)

#define TP_CONCAT_INNER(a, b) a##b
#define TP_CONCAT(a, b) TP_CONCAT_INNER(a, b)
// Declares `lhs` from the value of a Result, or propagates its error.
#define TP_ASSIGN_OR_RETURN(lhs, expr) \
  TP_ASSIGN_OR_RETURN_IMPL(TP_CONCAT(tp_result_, __LINE__), lhs, expr)
#define TP_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.take_error();        \
  lhs = std::move(tmp).value()
