// libtp for C++20: typed, header-only wrappers over tp.h (docs/api.md).
//
// No exceptions: every call returns a value — tp::result<T> (a T or a
// tp::error), like std::expected. Names are std::string_view; they are copied
// into a bounded buffer, so a name longer than TP_NAME_MAX - 1 is TP_EINVAL.
#ifndef THREADPROCS_TP_HPP
#define THREADPROCS_TP_HPP

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include "threadprocs/tp.h"

namespace tp {

// ------------------------------------------------------------------ errors

// The std::error_category of TP_* codes (the value is the negative code).
class error_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "threadprocs"; }
  std::string message(int code) const override { return tp_strerror(code); }
};

inline const std::error_category& error_category() noexcept {
  static const error_category_impl category;
  return category;
}

// A TP_* code (TP_OK: no error).
class error {
 public:
  constexpr error() noexcept = default;
  constexpr explicit error(int code) noexcept : code_(code) {}
  constexpr int code() const noexcept { return code_; }
  const char* message() const noexcept { return tp_strerror(code_); }
  std::error_code error_code() const noexcept { return {code_, error_category()}; }
  friend constexpr bool operator==(error a, error b) noexcept { return a.code_ == b.code_; }
  friend constexpr bool operator==(error a, int code) noexcept { return a.code_ == code; }

 private:
  int code_ = TP_OK;
};

// A T or an error. `if (r)` / has_value(), *r / value(), error().
// value() on an error aborts the program (no exceptions).
template <class T>
class [[nodiscard]] result {
 public:
  constexpr result(T value) noexcept(std::is_nothrow_move_constructible_v<T>)
      : value_(std::move(value)) {}
  constexpr result(::tp::error e) noexcept : error_(e) {}

  constexpr bool has_value() const noexcept { return error_.code() == TP_OK; }
  constexpr explicit operator bool() const noexcept { return has_value(); }
  constexpr ::tp::error error() const noexcept { return error_; }

  T& value() & noexcept { return check(), value_; }
  const T& value() const& noexcept { return check(), value_; }
  T&& value() && noexcept { return check(), std::move(value_); }
  T& operator*() & noexcept { return value(); }
  const T& operator*() const& noexcept { return value(); }
  T&& operator*() && noexcept { return std::move(*this).value(); }
  T* operator->() noexcept { return &value(); }
  const T* operator->() const noexcept { return &value(); }
  template <class U>
  T value_or(U&& fallback) const& {
    return has_value() ? value_ : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void check() const noexcept {
    if (!has_value()) std::abort();
  }
  T value_{};
  ::tp::error error_{};
};

template <>
class [[nodiscard]] result<void> {
 public:
  constexpr result() noexcept = default;
  constexpr result(::tp::error e) noexcept : error_(e) {}
  constexpr bool has_value() const noexcept { return error_.code() == TP_OK; }
  constexpr explicit operator bool() const noexcept { return has_value(); }
  constexpr ::tp::error error() const noexcept { return error_; }

 private:
  ::tp::error error_{};
};

namespace detail {
// A NUL-terminated copy of a string_view for the C API.
class c_name {
 public:
  explicit c_name(std::string_view s) noexcept : ok_(s.size() < sizeof buf_) {
    if (ok_) {
      std::memcpy(buf_, s.data(), s.size());
      buf_[s.size()] = '\0';
    }
  }
  bool ok() const noexcept { return ok_; }
  const char* c_str() const noexcept { return buf_; }

 private:
  bool ok_;
  char buf_[TP_NAME_MAX];
};

inline result<void> status(int rc) noexcept {
  if (rc == TP_OK) return {};
  return ::tp::error(rc);
}

// The size check of typed lookups: 0 means the publisher did not say.
template <class T>
result<T*> typed(int rc, void* p, std::uint64_t size) noexcept {
  if (rc != TP_OK) return ::tp::error(rc);
  if constexpr (!std::is_void_v<T>) {
    if (size != 0 && size != sizeof(T)) return ::tp::error(TP_ESIZE);
  }
  return static_cast<T*>(p);
}

template <class Rep, class Period>
std::int64_t to_ns(std::chrono::duration<Rep, Period> d) noexcept {
  if (d <= d.zero()) return 0;
  using ns = std::chrono::duration<long double, std::nano>;
  const long double n = std::chrono::duration_cast<ns>(d).count();
  if (n >= 9.2e18L) return -1;  // beyond int64: forever
  return static_cast<std::int64_t>(n);
}
}  // namespace detail

// ------------------------------------------------------------------ the space

inline bool in_space() noexcept { return tp_in_space() != 0; }

struct self_info {
  std::uint32_t slot;
  std::uint32_t slot_count;
  std::uintptr_t slot_base;
  std::uint64_t slot_size;
  std::uintptr_t arena_base;
  std::string_view name;
};

// This program's slot, or nullopt outside a space.
inline std::optional<self_info> self() noexcept {
  tp_self_info s;
  if (tp_self(&s) != TP_OK) return std::nullopt;
  return self_info{s.slot, s.slot_count, static_cast<std::uintptr_t>(s.slot_base), s.slot_size,
                   static_cast<std::uintptr_t>(s.arena_base), std::string_view(s.name)};
}

// Index of the slot that holds p.
inline result<std::uint32_t> owner(const void* p) noexcept {
  const int rc = tp_owner(p);
  if (rc < 0) return ::tp::error(rc);
  return static_cast<std::uint32_t>(rc);
}

// ------------------------------------------------------------------ the registry

// Publishes p under name with sizeof(T) (so typed lookups can check it).
template <class T>
result<void> publish(std::string_view name, T* p) noexcept {
  detail::c_name n(name);
  if (!n.ok()) return ::tp::error(TP_EINVAL);
  std::uint64_t size = 0;
  if constexpr (!std::is_void_v<T>) size = sizeof(T);
  return detail::status(tp_publish_sized(n.c_str(), p, size));
}

inline result<void> unpublish(std::string_view name) noexcept {
  detail::c_name n(name);
  if (!n.ok()) return ::tp::error(TP_EINVAL);
  return detail::status(tp_unpublish(n.c_str()));
}

// A registry name or "program/var". TP_ESIZE when the object's recorded size
// is not sizeof(T) (an object published without a size is not checked).
template <class T>
result<T*> lookup(std::string_view name) noexcept {
  detail::c_name n(name);
  if (!n.ok()) return ::tp::error(TP_EINVAL);
  void* p = nullptr;
  std::uint64_t size = 0;
  const int rc = tp_lookup_sized(n.c_str(), &size, &p);
  return detail::typed<T>(rc, p, size);
}

// As lookup, waiting until the name appears (TP_ETIMEDOUT after timeout).
template <class T, class Rep, class Period>
result<T*> wait(std::string_view name, std::chrono::duration<Rep, Period> timeout) noexcept {
  detail::c_name n(name);
  if (!n.ok()) return ::tp::error(TP_EINVAL);
  void* p = nullptr;
  std::uint64_t size = 0;
  const int rc = tp_wait_sized(n.c_str(), detail::to_ns(timeout), &size, &p);
  return detail::typed<T>(rc, p, size);
}

// Waits with no time limit.
template <class T>
result<T*> wait(std::string_view name) noexcept {
  detail::c_name n(name);
  if (!n.ok()) return ::tp::error(TP_EINVAL);
  void* p = nullptr;
  std::uint64_t size = 0;
  const int rc = tp_wait_sized(n.c_str(), -1, &size, &p);
  return detail::typed<T>(rc, p, size);
}

// ------------------------------------------------------------------ holds

// Keeps the slot of an address alive (tp_hold) for the object's lifetime.
//   tp::hold h(p);  if (!h) { h.error() ... }  // released by the destructor
class [[nodiscard]] hold {
 public:
  hold() noexcept = default;
  explicit hold(const void* p) noexcept : error_(tp_hold(p)) {
    if (error_.code() == TP_OK) p_ = p;
  }
  hold(const hold&) = delete;
  hold& operator=(const hold&) = delete;
  hold(hold&& o) noexcept : p_(std::exchange(o.p_, nullptr)), error_(o.error_) {}
  hold& operator=(hold&& o) noexcept {
    if (this != &o) {
      reset();
      p_ = std::exchange(o.p_, nullptr);
      error_ = o.error_;
    }
    return *this;
  }
  ~hold() { reset(); }

  bool held() const noexcept { return p_ != nullptr; }
  explicit operator bool() const noexcept { return held(); }
  // Why the hold was not taken (TP_OK when it was).
  ::tp::error error() const noexcept { return error_; }
  const void* get() const noexcept { return p_; }
  // Releases now (nothing if not held).
  void reset() noexcept {
    if (p_) (void)tp_release(std::exchange(p_, nullptr));
  }

 private:
  const void* p_ = nullptr;
  ::tp::error error_{};
};

}  // namespace tp

#endif  // THREADPROCS_TP_HPP
